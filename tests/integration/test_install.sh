#!/usr/bin/env bash
# make install (PREFIX, DESTDIR) lays out the binary, a man page per command
# made from its --help, the systemd unit with its paths filled in and the
# deployment docs; those parse: the Grafana dashboard (jq, with its heatmap
# of accept wait and its overflow panel), the YAML files (python3-yaml), the
# Prometheus config (promtool check config), the unit (systemd-analyze
# verify). And serve runs with no capability but the unit's.
source "$(dirname "$0")/lib.sh"
nt_setup install
ROOT=$NT_TMP/root PREFIX=/opt/nt

make -s -C "$NT_ROOT" --no-print-directory install DESTDIR="$ROOT" PREFIX="$PREFIX" \
	>"$NT_TMP/make.log" 2>&1 || { cat "$NT_TMP/make.log" >&2; nt_fail "make install"; }
for f in sbin/nettune lib/systemd/system/nettune-serve.service \
	share/doc/nettune/metrics.md share/doc/nettune/prometheus.yml \
	share/doc/nettune/prometheus-kubernetes.yml share/doc/nettune/kubernetes-daemonset.yaml \
	share/doc/nettune/grafana-dashboard.json; do
	[ -f "$ROOT$PREFIX/$f" ] || nt_fail "make install: no $PREFIX/$f"
done
nt_log "ok: binary, unit and docs under DESTDIR$PREFIX"
[ -x "$ROOT$PREFIX/sbin/nettune" ] || nt_fail "the binary is not executable"

# A man page per command of `nettune --help`, holding that command's --help.
cmds=$("$NETTUNE" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
nt_assert_ge "commands in nettune --help" "$(wc -w <<<"$cmds")" 6
for c in $cmds; do
	page=$ROOT$PREFIX/share/man/man8/nettune-$c.8
	[ -f "$page" ] || nt_fail "no man page for $c"
	want=$("$NETTUNE" "$c" --help | grep -m1 -- '--help\|-h, ' | sed 's/\\/\\e/g')
	grep -qF -- "$want" "$page" || nt_fail "nettune-$c.8 does not hold its --help ($want)"
	grep -q EXAMPLES "$page" || nt_fail "nettune-$c.8 has no EXAMPLES"
done
[ -f "$ROOT$PREFIX/share/man/man8/nettune.8" ] || nt_fail "no nettune(8)"
if command -v groff >/dev/null; then
	for page in "$ROOT$PREFIX"/share/man/man8/*.8; do
		out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		[ -z "$out" ] || nt_fail "groff warns on $(basename "$page"): $out"
	done
	nt_log "ok: every man page formats without a warning"
fi

unit=$ROOT$PREFIX/lib/systemd/system/nettune-serve.service
nt_assert_eq "unit's ExecStart" "$(sed -n 's/^ExecStart=//p' "$unit")" \
	"$PREFIX/sbin/nettune serve --listen 127.0.0.1:7941"
grep -q '@' "$unit" && nt_fail "unit: a placeholder left: $(grep '@' "$unit")"
for key in NoNewPrivileges ProtectSystem ProtectHome PrivateTmp CapabilityBoundingSet; do
	grep -q "^$key=" "$unit" || nt_fail "unit: no $key"
done
if command -v systemd-analyze >/dev/null; then
	# verify wants ExecStart to exist: point it at the DESTDIR copy.
	sed "s|^ExecStart=$PREFIX|ExecStart=$ROOT$PREFIX|" "$unit" >"$NT_TMP/nettune-serve.service"
	out=$(systemd-analyze verify --man=no "$NT_TMP/nettune-serve.service" 2>&1) ||
		nt_fail "systemd-analyze verify: $out"
	nt_log "ok: systemd-analyze verify"
fi

doc=$ROOT$PREFIX/share/doc/nettune
jq -e . "$doc/grafana-dashboard.json" >/dev/null || nt_fail "grafana-dashboard.json does not parse"
nt_assert_eq "dashboard: an accept-wait heatmap" \
	"$(jq '[.panels[] | select(.type == "heatmap" and (.targets[0].expr | test("nettune_accept_wait_seconds_bucket")))] | length' "$doc/grafana-dashboard.json")" 1
nt_assert_ge "dashboard: a listener overflow panel" \
	"$(jq '[.panels[] | select(.targets[].expr | test("nettune_listen_overflows_total"))] | length' "$doc/grafana-dashboard.json")" 1
if python3 -c 'import yaml' 2>/dev/null; then
	for y in prometheus.yml prometheus-kubernetes.yml kubernetes-daemonset.yaml; do
		python3 -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$doc/$y" ||
			nt_fail "$y does not parse as YAML"
	done
	nt_assert_eq "DaemonSet kind" "$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["kind"])' \
		"$doc/kubernetes-daemonset.yaml")" DaemonSet
else
	nt_log "python3-yaml missing: YAML parsed by promtool only"
fi
if command -v promtool >/dev/null; then
	promtool check config "$doc/prometheus.yml" >"$NT_TMP/promtool.log" 2>&1 ||
		nt_fail "promtool check config: $(cat "$NT_TMP/promtool.log")"
	nt_log "ok: promtool check config prometheus.yml"
fi

# The unit's capabilities are enough: serve attaches and serves with a
# bounding set of exactly those (setpriv limits root to them).
if command -v setpriv >/dev/null && command -v curl >/dev/null; then
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' |
		sed 's/cap_/+/g; s/ /,/g')
	port=$(( 20000 + RANDOM % 20000 ))
	setpriv --bounding-set "-all,$caps" "$ROOT$PREFIX/sbin/nettune" serve \
		--listen "127.0.0.1:$port" -d 30 >/dev/null 2>"$NT_TMP/serve.err" &
	serve=$!
	NT_PIDS+=("$serve")
	nt_wait_attached "$NT_TMP/serve.err"
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$port/metrics" >"$NT_TMP/m.txt" && break
		sleep 0.1
	done
	nt_assert_eq "serve with the unit's capabilities only ($caps): build info" \
		"$(grep -c '^nettune_build_info' "$NT_TMP/m.txt")" 1
	grep -q 'Operation not permitted' "$NT_TMP/serve.err" &&
		nt_fail "serve lacked a capability: $(cat "$NT_TMP/serve.err")"
	kill -TERM "$serve"
	wait "$serve"
	nt_assert_eq "serve's exit code at SIGTERM" $? 0
fi
nt_pass
