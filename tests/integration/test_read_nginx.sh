#!/usr/bin/env bash
# Read latency on a real server: nginx serving a keep-alive wrk load, traced
# with the read family on nginx's port. Every request arrives on an empty
# receive queue and is read whole, so read_wait's count must match the
# requests wrk made (within 1%: wrk does not count requests in flight when
# it stops).
source "$(dirname "$0")/lib.sh"
nt_setup read_nginx
command -v nginx >/dev/null || nt_skip "nginx is not installed"
command -v wrk >/dev/null || nt_skip "wrk is not installed"

nt_netns web
cat >"$NT_TMP/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $NT_TMP/nginx.pid;
error_log $NT_TMP/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $NT_TMP/body;
	proxy_temp_path $NT_TMP/proxy;
	fastcgi_temp_path $NT_TMP/fastcgi;
	uwsgi_temp_path $NT_TMP/uwsgi;
	scgi_temp_path $NT_TMP/scgi;
	server {
		listen 127.0.0.1:8080;
		location / { return 200 "ok\n"; }
	}
}
CONF
nt_bg web nginx -c "$NT_TMP/nginx.conf" -p "$NT_TMP"
nt_wait_port web 8080

"$NETTUNE" trace --json --probes read --read-syscall --port 8080 --netns "$(nt_ns_path web)" \
	>"$NT_TMP/out.json" 2>"$NT_TMP/err" &
tracer=$!
NT_PIDS+=("$tracer")
nt_wait_attached "$NT_TMP/err"
# A second tracer sees both sides: wrk's client sockets read on ephemeral
# ports, which must share one row (port 0) instead of a row per connection.
"$NETTUNE" trace --json --probes read --netns "$(nt_ns_path web)" \
	>"$NT_TMP/both.json" 2>"$NT_TMP/err2" &
tracer2=$!
NT_PIDS+=("$tracer2")
nt_wait_attached "$NT_TMP/err2"
nt_exec web wrk -t 2 -c 10 -d 3 http://127.0.0.1:8080/ >"$NT_TMP/wrk.txt" || nt_fail "wrk failed"
sleep 0.3
kill -INT "$tracer" "$tracer2"
wait "$tracer" || nt_fail "nettune failed: $(cat "$NT_TMP/err")"
wait "$tracer2" || nt_fail "nettune failed: $(cat "$NT_TMP/err2")"
out=$(tail -n 1 "$NT_TMP/out.json")

requests=$(awk '/requests in/ { print $1 }' "$NT_TMP/wrk.txt")
grep -q "Non-2xx\|Socket errors" "$NT_TMP/wrk.txt" && nt_fail "wrk saw errors: $(cat "$NT_TMP/wrk.txt")"
nt_log "wrk: $(grep 'requests in' "$NT_TMP/wrk.txt")"
nt_assert_ge "requests made" "$requests" 1000
nt_assert_near "read_wait count vs wrk's requests" "$(jq .read_wait.count <<<"$out")" "$requests" 1 0
nt_assert_near "read_syscall reads with data vs requests" \
	"$(jq '[.read_syscall.by_pid[] | .latency.count] | add' <<<"$out")" "$requests" 1 0
nt_assert_eq "lost events" "$(jq .lost_events <<<"$out")" 0

both=$(tail -n 1 "$NT_TMP/both.json")
nt_assert_eq "read_wait rows by port, both sides" \
	"$(jq -c '[.read_wait.by_port[].port] | sort' <<<"$both")" "[0,8080]"
nt_assert_eq "both sides: lost events" "$(jq .lost_events <<<"$both")" 0
nt_pass
