#!/usr/bin/env python3
"""Writes a generated section of a Markdown file: the text between
`<!-- NAME:begin` and `<!-- NAME:end -->` is replaced by SECTION (which
carries both markers), or SECTION is appended when the file has none.
Every other part of the file is left as it was.

    docsection.py DOC NAME SECTION
"""
import re
import sys


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, name, section = sys.argv[1:]
    text = open(path).read()
    pat = re.compile(r"<!-- " + re.escape(name) + r":begin.*?<!-- " + re.escape(name) +
                     r":end -->", re.S)
    if pat.search(text):
        text = pat.sub(lambda m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
