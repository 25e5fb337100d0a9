#!/usr/bin/env bash
# refserver speaks its HTTP/1.1 subset correctly: responses compared byte for
# byte (the Date header's value is checked for format, then masked), keep-alive
# and Connection: close, pipelining, every error status, and the statistics it
# prints on SIGTERM matching what this test sent.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nt_setup refserver
for c in python3 jq; do
	command -v "$c" >/dev/null || nt_skip "$c is not installed"
done
RAW="$NT_ROOT/tests/integration/helpers/httpraw.py"
PORT=8080
nt_netns s
nt_bg s "$NT_BUILD/refserver" --port $PORT --body-size 13 --json >"$NT_TMP/stats.json" \
	2>"$NT_TMP/server.err"
SERVER=$NT_LAST_PID
nt_wait_port s $PORT
grep -q "listening on 127.0.0.1 port $PORT" "$NT_TMP/server.err" ||
	nt_fail "refserver did not say where it listens: $(cat "$NT_TMP/server.err")"

DATE_RE='Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT'
declare -A SENT=([200]=0)

# exchange NAME WANT_CLOSED REQUEST EXPECTED: send REQUEST (printf format) on
# a new connection, compare the response with EXPECTED (printf format, "Date:
# X" for the date) byte for byte, and whether the server closed (1) or kept
# (0) the connection.
exchange() {
	local name=$1 want_closed=$2 rc closed
	# shellcheck disable=SC2059	# the request is a printf format on purpose
	printf "$3" >"$NT_TMP/req"
	nt_exec s python3 "$RAW" send 127.0.0.1 $PORT 0.5 <"$NT_TMP/req" >"$NT_TMP/got.raw"
	rc=$?
	case $rc in 0) closed=1 ;; 3) closed=0 ;; *) nt_fail "$name: client failed ($rc)" ;; esac
	# Every response head must carry a well-formed Date; mask its value.
	local n_resp n_date
	n_resp=$(grep -ao 'HTTP/1.1 [0-9][0-9][0-9] ' "$NT_TMP/got.raw" | wc -l)
	n_date=$(grep -cE "^$DATE_RE"$'\r'"\$" "$NT_TMP/got.raw")
	if [ "$n_resp" -lt 1 ] || [ "$n_resp" != "$n_date" ]; then
		nt_fail "$name: $n_resp responses but $n_date valid Date headers: $(cat -A "$NT_TMP/got.raw")"
	fi
	sed -E "s/^$DATE_RE/Date: X/" "$NT_TMP/got.raw" >"$NT_TMP/got"
	# shellcheck disable=SC2059
	printf "$4" >"$NT_TMP/want"
	cmp -s "$NT_TMP/got" "$NT_TMP/want" ||
		nt_fail "$name: response differs; got: $(cat -A "$NT_TMP/got") want: $(cat -A "$NT_TMP/want")"
	nt_assert_eq "$name: byte-for-byte response, connection closed" "$closed" "$want_closed"
}

H='Server: refserver\r\nDate: X\r\nContent-Type: text/plain\r\n'
OK="HTTP/1.1 200 OK\r\n${H}Content-Length: 13\r\n"
BODY='abcdefghijklm'
err() { # STATUS REASON [EXTRA_HEADER]
	local body="$1 $2\n"
	printf 'HTTP/1.1 %s %s\\r\\n%sContent-Length: %d\\r\\n%sConnection: close\\r\\n\\r\\n%s' \
		"$1" "$2" "$H" $((${#1} + ${#2} + 2)) "${3:-}" "$body"
}

# --- 1. the 200s -------------------------------------------------------------
exchange "GET HTTP/1.1 keeps the connection" 0 \
	'GET / HTTP/1.1\r\nHost: t\r\n\r\n' "$OK\r\n$BODY"
exchange "HEAD has the GET headers, no body" 0 \
	'HEAD /x?y=1 HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n' "$OK\r\n"
exchange "Connection: close is honoured" 1 \
	'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' "${OK}Connection: close\r\n\r\n$BODY"
exchange "HTTP/1.0 closes by default" 1 \
	'GET / HTTP/1.0\r\n\r\n' "${OK}Connection: close\r\n\r\n$BODY"
exchange "HTTP/1.0 keep-alive when asked" 0 \
	'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n' "${OK}Connection: keep-alive\r\n\r\n$BODY"
exchange "bare LF line ends are accepted" 0 \
	'GET / HTTP/1.1\nHost: t\n\n' "$OK\r\n$BODY"
exchange "pipelined requests answered in order" 1 \
	'GET /1 HTTP/1.1\r\nHost: t\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' \
	"$OK\r\n$BODY$OK\r\n${OK}Connection: close\r\n\r\n$BODY"
SENT[200]=$((SENT[200] + 9))
got=$(nt_exec s python3 "$RAW" seq 127.0.0.1 $PORT 50)
nt_assert_eq "keep-alive: sequential requests on one connection" "$got" 50
SENT[200]=$((SENT[200] + 50))

# --- 2. the errors: answered, then the connection is closed --------------------
exchange "garbage request line gets 400" 1 'hello\r\n\r\n' "$(err 400 'Bad Request')"
exchange "header without a colon gets 400" 1 \
	'GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n' "$(err 400 'Bad Request')"
exchange "space before the colon gets 400" 1 \
	'GET / HTTP/1.1\r\nHost : t\r\n\r\n' "$(err 400 'Bad Request')"
exchange "obsolete line folding gets 400" 1 \
	'GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n' "$(err 400 'Bad Request')"
exchange "HTTP/1.1 without Host gets 400" 1 'GET / HTTP/1.1\r\n\r\n' "$(err 400 'Bad Request')"
exchange "two Host headers get 400" 1 \
	'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' "$(err 400 'Bad Request')"
exchange "control character in a value gets 400" 1 \
	'GET / HTTP/1.1\r\nHost: t\r\nX: a\001b\r\n\r\n' "$(err 400 'Bad Request')"
exchange "POST gets 405 with Allow" 1 \
	'POST / HTTP/1.1\r\nHost: t\r\n\r\n' "$(err 405 'Method Not Allowed' 'Allow: GET, HEAD\r\n')"
exchange "a request body gets 413" 1 \
	'GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello' "$(err 413 'Content Too Large')"
exchange "Transfer-Encoding gets 501" 1 \
	'GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
	"$(err 501 'Not Implemented')"
exchange "HTTP/2.0 gets 505" 1 'GET / HTTP/2.0\r\n\r\n' "$(err 505 'HTTP Version Not Supported')"
big=$(head -c 9000 /dev/zero | tr '\0' a)
exchange "request head over 8 KiB gets 431" 1 \
	"GET / HTTP/1.1\\r\\nHost: t\\r\\nX-Big: $big\\r\\n\\r\\n" \
	"$(err 431 'Request Header Fields Too Large')"
exchange "request line over 8 KiB gets 414" 1 "GET /$big HTTP/1.1\\r\\n\\r\\n" \
	"$(err 414 'URI Too Long')"
exchange "a good request after a bad one is not served" 1 \
	'BAD LINE\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n' "$(err 400 'Bad Request')"
SENT+=([400]=8 [405]=1 [413]=1 [414]=1 [431]=1 [501]=1 [505]=1)

# --- 3. SIGTERM: graceful exit, statistics that match the traffic ---------------
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
nt_assert_eq "refserver exit status after SIGTERM" "$rc" 0
jq -e . "$NT_TMP/stats.json" >/dev/null || nt_fail "--json output is not JSON: $(cat "$NT_TMP/stats.json")"
st() { jq -r ".total.status[\"$1\"]" "$NT_TMP/stats.json"; }
for s in 200 400 405 413 414 431 501 505; do
	nt_assert_eq "$s responses counted" "$(st $s)" "${SENT[$s]}"
done
nt_assert_eq "connections accepted = closed" \
	"$(jq -r '.total.accepted' "$NT_TMP/stats.json")" "$(jq -r '.total.closed' "$NT_TMP/stats.json")"
nt_assert_eq "connections accepted" "$(jq -r '.total.accepted' "$NT_TMP/stats.json")" 22

# --- 4. bad usage: one line on stderr, exit 2 ------------------------------------
for args in "--port 70000" "--workers 0" "--addr 1.2.3" "--body-size -1" "--bogus" "extra"; do
	# shellcheck disable=SC2086
	"$NT_BUILD/refserver" $args >"$NT_TMP/out" 2>"$NT_TMP/err"
	rc=$?
	nt_assert_eq "refserver $args: exit status" "$rc" 2
	nt_assert_eq "refserver $args: lines on stderr" "$(wc -l <"$NT_TMP/err")" 1
done
"$NT_BUILD/refserver" --help | tail -n 12 | grep -q '^EXAMPLES' || nt_fail "--help does not end with EXAMPLES"
nt_pass
