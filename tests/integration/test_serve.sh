#!/usr/bin/env bash
# nettune serve, scraped by Debian's own Prometheus every second while a
# namespace makes traffic, then checked through Prometheus's HTTP API:
#  - the namespace's overflow counter's increase between a query before the
#    traffic and one after = the namespace's ListenOverflows delta, and the
#    listener's overflows (syn + ack paths) = the same delta;
#  - accept-wait _count = the connections the client made and the server
#    accepted (20), _sum = the schedule's total wait within 10% + 0.5 s (a
#    busy host's sleeps overshoot the 50 ms steps);
#  - histogram_quantile(0.5) of accept wait is within one `le` bucket of
#    the median wait the server imposes (accepts one connection every 50 ms);
#  - no counter, _count, _sum or bucket ever decreased between scrapes
#    (Prometheus's resets() over the whole test is 0);
#  - promtool check metrics reports nothing, on /metrics and on --textfile;
#  - the tuner's rules advise a larger backlog for the overflowing listener
#    (nettune_recommendation_info), and nothing is applied;
#  - a Go fixture server: the handler histogram's _count by method and
#    status code (200, and 404 from /status/404) and an --uprobe function's
#    _count = the responses the client got (when the fixtures are built, as
#    make test does);
#  - SIGTERM: exit 0, none of its BPF programs left loaded;
#  - bad input: a port in use, an address that does not parse, an
#    unwritable textfile directory, an unknown family: one line, exit 2,
#    nothing attached.
# Load runs on both CPUs on purpose (taskset), so the per-CPU rows merge.
source "$(dirname "$0")/lib.sh"
nt_setup serve
command -v prometheus >/dev/null || nt_skip "Debian's prometheus is not installed (tools/install-deps.sh)"
command -v promtool >/dev/null || nt_skip "promtool is not installed (package prometheus)"
command -v curl >/dev/null || nt_skip "curl is not installed"
H=$NT_BUILD/tests/helpers
N=20 EVERY=50 WAIT_PORT=9510 OVF_PORT=9511 OVF_TRIES=40

# prom_query PROMQL [TIME]: the value of an instant query's single result
# ("" when there is none).
prom_query() {
	local args=(--data-urlencode "query=$1")
	[ -n "${2:-}" ] && args+=(--data-urlencode "time=$2")
	curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/query" "${args[@]}" |
		jq -r 'if .status == "success" and (.data.result | length) == 1
		       then .data.result[0].value[1] else "" end'
}

# wait_for PROMQL WANT: until Prometheus has scraped a sample equal to WANT.
wait_for() {
	for _ in $(seq 100); do
		[ "$(prom_query "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	nt_log "last value of $1: '$(prom_query "$1")'"
	return 1
}

nt_netns srv
INO=$(stat -L -c %i "$(nt_ns_path srv)")
nt_bg srv taskset -c 1 "$H/tcpserver" --port $WAIT_PORT --accept-every-ms $EVERY
nt_wait_port srv $WAIT_PORT
nt_bg srv taskset -c 0 "$H/tcpserver" --port $OVF_PORT --no-accept --backlog 4
nt_wait_port srv $OVF_PORT

# --- bad input: one line, exit 2, nothing attached -------------------------
SERVE_PORT=$(nt_free_port)
bad() { # DESC ARGS...: one line on stderr, exit 2, never attached
	local desc=$1 rc
	shift
	"$NETTUNE" serve "$@" -d 5 >/dev/null 2>"$NT_TMP/bad.err"
	rc=$?
	nt_assert_eq "$desc: exit code" "$rc" 2
	nt_assert_eq "$desc: one line ($(head -c 120 "$NT_TMP/bad.err"))" "$(grep -c . "$NT_TMP/bad.err")" 1
	grep -q attached "$NT_TMP/bad.err" && nt_fail "$desc: it attached"
	return 0
}
bad "address that does not parse" --listen 127.0.0.1:notaport
bad "address that does not parse (IPv4)" --listen 300.1.1.1:80
bad "address without a port" --listen 127.0.0.1
bad "unwritable textfile directory" --listen "127.0.0.1:$SERVE_PORT" --textfile /proc/x.prom
bad "unknown family" --listen "127.0.0.1:$SERVE_PORT" --probes accept,nosuch

# --- serve, and Prometheus scraping it every second -------------------------
mkdir -p "$NT_TMP/tf"
"$NETTUNE" serve --listen "127.0.0.1:$SERVE_PORT" --netns "$(nt_ns_path srv)" \
	--textfile "$NT_TMP/tf/nettune.prom" -i 1 >"$NT_TMP/serve.out" 2>"$NT_TMP/serve.err" &
SERVE=$!
NT_PIDS+=("$SERVE")
nt_wait_attached "$NT_TMP/serve.err"
bad "port in use" --listen "127.0.0.1:$SERVE_PORT" --netns "$(nt_ns_path srv)"

PROM_PORT=$(nt_free_port)
cat >"$NT_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: nettune
    static_configs:
      - targets: ['127.0.0.1:$SERVE_PORT']
EOF
promtool check config "$NT_TMP/prometheus.yml" >/dev/null || nt_fail "the test's own prometheus.yml"
nt_bg_host prometheus --config.file="$NT_TMP/prometheus.yml" \
	--storage.tsdb.path="$NT_TMP/prom-data" --web.listen-address="127.0.0.1:$PROM_PORT" \
	--log.level=warn
PROM=$NT_LAST_PID
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null && break
	kill -0 "$PROM" 2>/dev/null || nt_fail "prometheus exited"
	sleep 0.2
done
wait_for 'up{job="nettune"}' 1 || nt_fail "Prometheus never scraped nettune serve"
OVF_Q="nettune_netns_listen_overflows_total{netns=\"$INO\"}"
wait_for "$OVF_Q" 0 || nt_fail "no overflow counter for the namespace before the traffic"
sleep 1.1
T0=$(date +%s.%N)
lo0=$(nt_netstat srv ListenOverflows)

# --- traffic: overflows from both CPUs, and a burst waiting to be accepted --
clients=()
for cpu in 0 1; do
	nt_exec srv taskset -c $cpu "$H/tcpclient" --addr 127.0.0.1 --port $OVF_PORT \
		--count $((OVF_TRIES / 2)) --timeout-ms 200 >"$NT_TMP/ovf-$cpu.json" &
	clients+=($!)
done
nt_exec srv taskset -c 0 "$H/tcpclient" --addr 127.0.0.1 --port $WAIT_PORT --count $N \
	--parallel --hold-ms 1500 >"$NT_TMP/wait-client.json" || nt_fail "client failed"
wait "${clients[@]}"
nt_assert_eq "client's successful connects" "$(jq .ok "$NT_TMP/wait-client.json")" $N
nt_wait_served srv $WAIT_PORT
sleep 0.3
lo=$(( $(nt_netstat srv ListenOverflows) - lo0 ))
nt_assert_ge "overflows happened" "$lo" 10
wait_for "$OVF_Q" "$lo" || nt_fail "Prometheus never saw $lo overflows in the namespace"
sleep 1.1	# one more scrape, so nothing is still on its way
T1=$(date +%s.%N)

# --- what Prometheus has ------------------------------------------------------
before=$(prom_query "$OVF_Q" "$T0") after=$(prom_query "$OVF_Q" "$T1")
nt_assert_eq "overflow counter's increase in Prometheus = ListenOverflows delta" \
	"$((after - before))" "$lo"
nt_assert_eq "listener overflows, syn + ack, in Prometheus = ListenOverflows delta" \
	"$(prom_query "sum(nettune_listen_overflows_total{netns=\"$INO\",listener=\"0.0.0.0:$OVF_PORT\"})" "$T1")" "$lo"
L="netns=\"$INO\",listener=\"0.0.0.0:$WAIT_PORT\""
nt_assert_eq "accept-wait _count = connections accepted" \
	"$(prom_query "sum(nettune_accept_wait_seconds_count{$L})" "$T1")" $N
# The schedule: waits 0, 50, ..., 950 ms; they add up to 9.5 s.
want_sum=$(awk -v n=$N -v e=$EVERY 'BEGIN { print n * (n - 1) / 2 * e / 1000 }')
nt_assert_near "accept-wait _sum (s)" \
	"$(prom_query "sum(nettune_accept_wait_seconds_sum{$L})" "$T1")" "$want_sum" 10 0.5
q50=$(prom_query "histogram_quantile(0.5, sum by (le) (nettune_accept_wait_seconds_bucket{$L}))" "$T1")
want_p50=$(( (N / 2 - 1) * EVERY ))
# One `le` bucket around the imposed median: the powers of two of ns that
# hold it (2^28..2^29 ns for 450 ms).
width=$(awk -v v=$want_p50 'BEGIN { ns = v * 1e6; p = 1; while (p * 2 <= ns) p *= 2; print p / 1e9 }')
nt_assert_near "histogram_quantile(0.5) of accept wait (s)" "$q50" \
	"$(awk -v v=$want_p50 'BEGIN { print v / 1000 }')" 0 "$width"

# Every scrape Prometheus took: no counter, _count, _sum or bucket ever
# went down (per-CPU rows summed, maps re-read every second).
resets=0 names=0
for m in $(curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/label/__name__/values" |
	   jq -r '.data[] | select(test("^nettune_.+_(total|count|sum|bucket)$"))'); do
	r=$(prom_query "sum(resets($m[5m]))" "$T1")
	names=$((names + 1))
	[ "${r:-0}" = 0 ] || { nt_log "$m: $r resets"; resets=$((resets + r)); }
done
nt_assert_ge "counter families Prometheus scraped" "$names" 20
nt_assert_eq "counter resets seen by Prometheus over the test" "$resets" 0
nt_assert_ge "samples Prometheus has from serve" \
	"$(prom_query 'sum(count_over_time(nettune_build_info[5m]))' "$T1")" 5

# --- the exposition itself -----------------------------------------------------
curl -sf "http://127.0.0.1:$SERVE_PORT/metrics" >"$NT_TMP/metrics.txt" || nt_fail "GET /metrics"
lint=$(promtool check metrics <"$NT_TMP/metrics.txt" 2>&1)
nt_assert_eq "promtool check metrics on /metrics" "$lint" ""
grep '^nettune_recommendation_info' "$NT_TMP/metrics.txt" | head -3 >&2
nt_assert_ge "advice for the overflowing listener (nettune_recommendation_info)" \
	"$(grep -c "^nettune_recommendation_info{.*0.0.0.0:$OVF_PORT" "$NT_TMP/metrics.txt")" 1
nt_assert_eq "GET /healthz" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVE_PORT/healthz")" 200
nt_assert_eq "GET /nothing" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVE_PORT/nothing")" 404
[ -s "$NT_TMP/tf/nettune.prom" ] || nt_fail "--textfile: no file"
lint=$(promtool check metrics <"$NT_TMP/tf/nettune.prom" 2>&1)
nt_assert_eq "promtool check metrics on the textfile" "$lint" ""
nt_assert_eq "textfile: no process_* (node_exporter has its own)" \
	"$(grep -c '^process_' "$NT_TMP/tf/nettune.prom")" 0
nt_assert_eq "textfile: the overflows" \
	"$(awk -v m="nettune_netns_listen_overflows_total{netns=\"$INO\"}" '$1 == m { print $2 }' \
		"$NT_TMP/tf/nettune.prom")" "$lo"
nt_assert_eq "no temporary files left beside the textfile" "$(ls "$NT_TMP/tf" | grep -vc '^nettune.prom$')" 0

# --- Go handlers and --uprobe through serve (the fixture server) ---------------
F=${NT_FIXTURES:-}
if [ -n "$F" ] && [ -r "$F/truth.txt" ] && [ -x "$H/httpget" ]; then
	GO_PORT=8190 GO_N=200 GO_404=30
	nt_bg srv "$F/goserver" -addr "127.0.0.1:$GO_PORT" -handler-sleep-ms 2 -recurse-depth 4 \
		>"$NT_TMP/goserver.out"
	gs=$NT_LAST_PID
	nt_wait_port srv $GO_PORT
	GO_SERVE_PORT=$(nt_free_port)
	"$NETTUNE" serve --listen "127.0.0.1:$GO_SERVE_PORT" -p "$gs" --probes http,uprobe \
		--uprobe "$F/goserver:main.recurse" >/dev/null 2>"$NT_TMP/serve-go.err" &
	SERVE_GO=$!
	NT_PIDS+=("$SERVE_GO")
	nt_wait_attached "$NT_TMP/serve-go.err"
	nt_exec srv "$H/httpget" --port $GO_PORT --requests $GO_N --conns 2 >"$NT_TMP/go.client" ||
		nt_fail "Go client: $(cat "$NT_TMP/go.client")"
	# /status/404 answers 404: httpget counts them as non-2xx (and exits 1)
	nt_exec srv "$H/httpget" --port $GO_PORT --requests $GO_404 --conns 1 --path /status/404 \
		>"$NT_TMP/go404.client"
	nt_assert_eq "Go client: 404s the server answered" "$(jq .non2xx "$NT_TMP/go404.client")" $GO_404
	curl -sf "http://127.0.0.1:$GO_SERVE_PORT/metrics" >"$NT_TMP/go-metrics.txt" ||
		nt_fail "GET /metrics of the Go serve"
	gm() { awk -v m="$1" '$1 == m { print $2 }' "$NT_TMP/go-metrics.txt"; }
	nt_assert_eq "Go handler histogram: _count{method=GET,code=200} = 200s answered" \
		"$(gm 'nettune_http_handler_duration_seconds_count{method="GET",code="200"}')" $GO_N
	nt_assert_eq "Go handler histogram: _count{method=GET,code=404} = 404s answered" \
		"$(gm 'nettune_http_handler_duration_seconds_count{method="GET",code="404"}')" $GO_404
	nt_assert_eq "--uprobe main.recurse: _count = requests" \
		"$(gm "nettune_uprobe_duration_seconds_count{binary=\"$F/goserver\",function=\"main.recurse\"}")" \
		$((GO_N + GO_404))
	lint=$(promtool check metrics <"$NT_TMP/go-metrics.txt" 2>&1)
	nt_assert_eq "promtool check metrics with the http and uprobe families" "$lint" ""
	kill -TERM "$SERVE_GO"
	wait "$SERVE_GO"
	nt_assert_eq "Go serve's exit code at SIGTERM" $? 0
else
	nt_log "no Go fixtures (NT_FIXTURES): the http and uprobe families are not checked here"
fi

# --- SIGTERM: clean exit, nothing left attached ---------------------------------
ids=$(nt_prog_ids "$SERVE")
nt_assert_ge "serve holds BPF programs" "$(jq length <<<"$ids")" 1
kill -TERM "$SERVE"
wait "$SERVE"
nt_assert_eq "serve's exit code at SIGTERM" $? 0
left=$(nt_progs_left "$ids")
nt_assert_eq "its BPF programs after exit ($(nt_progs "$ids" | jq -c '[.[].name]'))" "$left" 0
nt_pass
