#!/usr/bin/env bash
# Writes nettune(8) and nettune-CMD(8) from the program's own --help, so the
# man pages cannot say something the parser does not do.
#   tools/gen-man.sh BUILD/nettune OUTDIR VERSION
set -euo pipefail
bin=$1 out=$2 version=$3
mkdir -p "$out"

# roff-escape: backslashes first, then lines that start with . or '
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

page() { # NAME TITLE-LINE HELP-TEXT-FILE
	local name=$1 what=$2 help=$3 upper
	upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")
	{
		printf '.TH %s 8 "" "nettune %s" "System Administration"\n' "$upper" "$version"
		printf '.SH NAME\n%s \\- %s\n' "$name" "$(esc <<<"$what")"
		printf '.SH SYNOPSIS\n.nf\n'
		grep -m1 '^Usage:' "$help" | sed 's/^Usage: //' | esc
		printf '.fi\n.SH DESCRIPTION\n'
		printf 'The text below is the output of \\fB%s --help\\fR.\n' "${name/-/ }"
		printf '.PP\n.nf\n'
		esc <"$help"
		printf '.fi\n.SH SEE ALSO\n'
		printf '\\fBnettune\\fR(8), \\fBnettune-trace\\fR(8), \\fBnettune-serve\\fR(8), '
		printf '\\fBnettune-tune\\fR(8), \\fBnettune-doctor\\fR(8)\n'
	} >"$out/$name.8"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$bin" --help >"$tmp"
page nettune "measure TCP latencies and drops with eBPF, and tune from them" "$tmp"
# Commands and their one-line descriptions, from the main help.
awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { n = $1; $1 = ""; sub(/^ +/, ""); print n "\t" $0 }' \
	"$tmp" >"$tmp.cmds"
while IFS=$'\t' read -r cmd what; do
	"$bin" "$cmd" --help >"$tmp.help"
	page "nettune-$cmd" "$what" "$tmp.help"
done <"$tmp.cmds"
rm -f "$tmp.cmds" "$tmp.help"
