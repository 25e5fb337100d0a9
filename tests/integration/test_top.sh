#!/usr/bin/env bash
# nettune top in a real terminal (tmux, 80x24): a listener that never
# accepts overflows under a burst, and its line shows the same total as the
# namespace's ListenOverflows delta; a server that accepts one connection
# every 50 ms shows the imposed accept-wait median (450 ms for 20 clients at
# once) within a bucket; the sort key and the / filter change what is shown;
# a resize to 120x30 redraws wider; q exits 0, leaves none of its BPF
# programs loaded and the terminal usable (echo and canonical mode back);
# so does SIGTERM.
# Without a terminal it says so in one line and exits 2.
source "$(dirname "$0")/lib.sh"
nt_setup top
command -v tmux >/dev/null || nt_skip "tmux is not installed"

# --- no terminal -------------------------------------------------------------
"$NETTUNE" top </dev/null >"$NT_TMP/notty.out" 2>"$NT_TMP/notty.err"
nt_assert_eq "without a terminal: exit" "$?" 2
nt_assert_eq "without a terminal: one line" "$(grep -c . "$NT_TMP/notty.err")" 1
grep -q "nettune trace -i 1" "$NT_TMP/notty.err" || nt_fail "no pointer to trace -i: $(cat "$NT_TMP/notty.err")"

OVF=9501 WAIT=9502 N=20 EVERY=50
nt_netns srv
nt_exec srv ip addr add 10.77.0.1/32 dev lo
nt_bg srv "$NT_BUILD/tests/helpers/tcpserver" --port $OVF --backlog 4 --no-accept
nt_bg srv "$NT_BUILD/tests/helpers/tcpserver" --port $WAIT --accept-every-ms $EVERY
nt_wait_port srv $OVF
nt_wait_port srv $WAIT

SESSION=nettune-test-$$
export TMUX_TMPDIR=$NT_TMP	# a tmux server of our own, gone with $NT_TMP
# start_top NAME: nettune top in a new 80x24 terminal; its pid in NAME.pid,
# then its exit code in NAME.exit and the terminal's settings in NAME.stty.
start_top() {
	tmux new-session -d -s "$1" -x 80 -y 24 \
		"sh -c 'echo \$\$ >$NT_TMP/$1.pid; exec $NETTUNE top --netns $(nt_ns_path srv) -i 1' \
		 2>'$NT_TMP/$1.err'; echo \$? >'$NT_TMP/$1.exit'; stty -a >'$NT_TMP/$1.stty'; sleep 600"
	for _ in $(seq 50); do [ -s "$NT_TMP/$1.pid" ] && break; sleep 0.1; done
}
# restored NAME: the terminal has echo and canonical mode back.
restored() {
	for _ in $(seq 50); do [ -s "$NT_TMP/$1.stty" ] && break; sleep 0.1; done
	grep -qw -- "-echo" "$NT_TMP/$1.stty" && nt_fail "$1: terminal left without echo"
	grep -qw -- "-icanon" "$NT_TMP/$1.stty" && nt_fail "$1: terminal left in raw mode"
	nt_log "ok: $1: the terminal has echo and canonical mode back"
}
trap 'tmux kill-server 2>/dev/null; nt_cleanup' EXIT
start_top "$SESSION"
screen() { tmux capture-pane -p -t "$SESSION"; }
# wait_screen PATTERN: until the screen shows it (20 s at most).
wait_screen() {
	for _ in $(seq 200); do
		screen | grep -q -- "$1" && return 0
		sleep 0.1
	done
	nt_fail "the screen never showed '$1': $(screen)"
}
wait_screen "^LISTENER"
top_pid=$(cat "$NT_TMP/$SESSION.pid")
kill -0 "$top_pid" 2>/dev/null || nt_fail "nettune top is not running: $(cat "$NT_TMP/$SESSION.err")"
progs=$(nt_prog_ids "$top_pid")
[ "$(jq length <<<"$progs")" -gt 0 ] || nt_fail "nettune top holds no BPF program"

# --- an overflowing listener and an imposed accept wait ----------------------
lo0=$(nt_netstat srv ListenOverflows)
nt_exec srv taskset -c 0 "$NT_BUILD/tests/helpers/tcpclient" --addr 10.77.0.1 --port $OVF \
	--count 40 --parallel --timeout-ms 1500 >/dev/null &
burst=$!
nt_exec srv taskset -c 1 "$NT_BUILD/tests/helpers/tcpclient" --addr 10.77.0.1 --port $WAIT \
	--count $N --parallel --hold-ms 1500 >"$NT_TMP/wait.client" || nt_fail "client failed"
wait $burst

# line PORT: the listener line of that port. Its last fields are
# PEAK ACC/s OVFL OVF/s W.P50 W.P99 (the queue bar before them has spaces).
line() { grep -E "^[^ ]*:$1 " "$NT_TMP/screen.txt"; }
# Late SYN retransmits can still overflow after the clients gave up: the
# screen and the counter are compared once both have held still for two
# refreshes (20 s at most).
shown= lo= same=0
for _ in $(seq 40); do
	sleep 0.5
	now=$(( $(nt_netstat srv ListenOverflows) - lo0 ))
	screen >"$NT_TMP/screen.txt"
	got=$(line $OVF | awk '{ print $(NF-3) }')
	if [ "$got" = "$shown" ] && [ "$now" = "$lo" ]; then
		same=$((same + 1))
		[ $same -ge 4 ] && [ "$got" = "$now" ] && break
	else
		same=0
	fi
	shown=$got lo=$now
done
[ "$lo" -gt 0 ] || nt_fail "no overflow happened"
nt_log "screen:"; sed 's/^/    | /' "$NT_TMP/screen.txt" >&2
ovf_line=$(line $OVF) || nt_fail "no line for port $OVF"
nt_assert_eq "overflows shown = ListenOverflows delta" "$(awk '{ print $(NF-3) }' <<<"$ovf_line")" "$lo"
wait_line=$(line $WAIT) || nt_fail "no line for port $WAIT"
p50=$(awk '{ v = $(NF-1); u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	print (u == "s" ? v * 1000 : u == "ms" ? v : v / 1000) }' <<<"$wait_line")
want=$(( (N / 2 - 1) * EVERY ))
nt_assert_near "accept-wait p50 shown (ms)" "$p50" "$want" 5 "$(nt_bucket_width_ms $want)"

# --- sorting and filtering ---------------------------------------------------
first() { screen | sed -n '3p' | awk '{ print $1 }'; }
nt_assert_eq "sorted by overflows: first line" "$(first)" "0.0.0.0:$OVF"
for _ in 1 2 3; do tmux send-keys -t "$SESSION" s; done	# overflows -> accepts/s -> queue -> wait p99
wait_screen "sort: wait p99"
nt_assert_eq "sorted by accept wait: first line" "$(first)" "0.0.0.0:$WAIT"
tmux send-keys -t "$SESSION" / ":$OVF" Enter
wait_screen "filter: :$OVF |"	# the footer once applied (the edit line is gone)
for _ in $(seq 50); do screen | grep -q "^filter: :${OVF}_" || break; sleep 0.1; done
screen >"$NT_TMP/filtered.txt"
grep -q "^0.0.0.0:$OVF " "$NT_TMP/filtered.txt" || nt_fail "filter hid its own listener"
grep -q "^0.0.0.0:$WAIT " "$NT_TMP/filtered.txt" && nt_fail "filter kept the other listener"
nt_log "ok: the filter shows $OVF only"

# --- a resize redraws --------------------------------------------------------
tmux resize-window -t "$SESSION" -x 120 -y 30
for _ in $(seq 50); do
	[ "$(screen | sed -n '2p' | awk '{ print length($0) }')" -gt 80 ] && break
	sleep 0.1
done
width=$(screen | sed -n '2p' | awk '{ print length($0) }')
[ "$width" -gt 80 ] || nt_fail "no redraw at 120 columns: header is $width wide"
nt_log "ok: redrawn at 120 columns (header $width wide)"

# --- q -----------------------------------------------------------------------
tmux send-keys -t "$SESSION" q
for _ in $(seq 100); do [ -s "$NT_TMP/$SESSION.exit" ] && break; sleep 0.1; done
nt_assert_eq "q: exit code" "$(cat "$NT_TMP/$SESSION.exit" 2>/dev/null)" 0
nt_assert_eq "q: its BPF programs left loaded" "$(nt_progs_left "$progs")" 0
restored "$SESSION"

# --- SIGTERM: the same, from outside ------------------------------------------
start_top term
for _ in $(seq 100); do [ "$(nt_prog_ids "$(cat "$NT_TMP/term.pid")")" != "[]" ] && break; sleep 0.1; done
progs=$(nt_prog_ids "$(cat "$NT_TMP/term.pid")")
[ "$(jq length <<<"$progs")" -gt 0 ] || nt_fail "SIGTERM: nettune top holds no BPF program"
kill -TERM "$(cat "$NT_TMP/term.pid")"
for _ in $(seq 100); do [ -s "$NT_TMP/term.exit" ] && break; sleep 0.1; done
nt_assert_eq "SIGTERM: exit code" "$(cat "$NT_TMP/term.exit" 2>/dev/null)" 0
nt_assert_eq "SIGTERM: its BPF programs left loaded" "$(nt_progs_left "$progs")" 0
restored term
nt_pass
