#!/usr/bin/env python3
"""The measurements of the overhead bench (issue 8). tools/bench.sh creates
the network namespace, starts nginx in it and restores the host's
kernel.bpf_stats_enabled on every exit path; it then runs this script inside
the namespace, so every process started here (wrk, loadgen, nettune,
bpftrace, sockets.py) lives in that namespace too.

    bench.py --build DIR --port PORT --nginx-pid PID --out RESULTS.json [--quick]

Phases, all results in one JSON file that report.py turns into Markdown:
  startup     exec -> "attached" (stderr) and -> first report (-i 1), idle
  throughput  wrk keep-alive and Connection: close; a baseline between any two
              traced runs: nettune with every family, the bpftrace anchor,
              nettune with connect+accept+drops only, the floor (nettune's
              hooks with empty programs) (B N B A B C B F ...)
  cost        kernel.bpf_stats_enabled=1: run_time_ns/run_cnt of each BPF
              program, BPF ns per connection, nettune CPU and RSS, at three
              load levels; the anchor, the floor, every family with
              --read-syscall, and each family alone at the highest
  listeners   1, 100 and 10,000 listeners, each with one connection: time and
              CPU of each report, RSS, lost events
  hooks       hookcost's loops (ns per syscall, file read, TCP message, TCP
              connection) with no tracer, the floor, nettune and nettune
              --read-syscall, alternating: what the hooks cost outside the
              programs, which bpf_stats cannot see
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- /proc and bpftool readers -------------------------------------------

def proc_cpu(pid):
    """utime+stime of a process in seconds (dead threads included)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def children_of(pid):
    """Direct children, by ppid (this kernel has no /proc/PID/task/TID/children)."""
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(name))
        except (OSError, IndexError, ValueError):
            continue
    return kids


def prog_ids(pid):
    """BPF program ids a process holds (program and link descriptors)."""
    ids = set()
    fddir = f"/proc/{pid}/fdinfo"
    try:
        names = os.listdir(fddir)
    except OSError:
        return ids
    for name in names:
        try:
            with open(f"{fddir}/{name}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            continue
    return ids


def perf_event_fds(pid):
    n = 0
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{name}") == "anon_inode:[perf_event]":
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def bpf_prog_stats(ids):
    """{id: {name, type, run_time_ns, run_cnt, recursion_misses}} for those ids."""
    if not ids:
        return {}
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True,
                         text=True, check=True).stdout
    res = {}
    for p in json.loads(out):
        if p.get("id") in ids:
            res[p["id"]] = {
                "name": p.get("name", "?"), "type": p.get("type", "?"),
                "run_time_ns": p.get("run_time_ns", 0), "run_cnt": p.get("run_cnt", 0),
                "recursion_misses": p.get("recursion_misses", 0),
            }
    return res


def bpf_maps_kib(ids):
    """Kernel memory of the maps those programs use (bpftool's bytes_memlock)."""
    if not ids:
        return None
    progs = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True,
                                      text=True, check=True).stdout)
    maps = {m for p in progs if p.get("id") in ids for m in p.get("map_ids", [])}
    out = json.loads(subprocess.run(["bpftool", "map", "show", "-j"], capture_output=True,
                                    text=True, check=True).stdout)
    return sum(m.get("bytes_memlock", 0) for m in out if m.get("id") in maps) / 1024


def stats_delta(before, after):
    rows = []
    for pid, a in after.items():
        b = before.get(pid, {"run_time_ns": 0, "run_cnt": 0, "recursion_misses": 0})
        rows.append({
            "id": pid, "name": a["name"], "type": a["type"],
            "run_time_ns": a["run_time_ns"] - b["run_time_ns"],
            "run_cnt": a["run_cnt"] - b["run_cnt"],
            "recursion_misses": a["recursion_misses"] - b["recursion_misses"],
        })
    return sorted(rows, key=lambda r: -r["run_time_ns"])


def tcp_snmp():
    """This namespace's Tcp counters (python runs inside the namespace)."""
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Tcp:")]
    return dict(zip(lines[0][1:], (int(x) for x in lines[1][1:])))


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def set_bpf_stats(value):
    with open(STATS_SYSCTL, "w") as f:
        f.write(f"{value}\n")


# --- processes -------------------------------------------------------------

class Proc:
    """A child whose stdout/stderr lines are kept with their arrival times."""

    def __init__(self, argv, stdin=False):
        self.argv = argv
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  text=True, bufsize=1)
        self.pid = self.p.pid
        self.out, self.err = [], []
        self.cond = threading.Condition()
        self.rusage = None
        self.rc = None
        self.threads = [threading.Thread(target=self._read, args=(s, l), daemon=True)
                        for s, l in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self.threads:
            t.start()

    def _read(self, stream, lines):
        for line in stream:
            with self.cond:
                lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, which, pattern, timeout):
        """Time of the first line matching pattern, or None."""
        lines = self.out if which == "out" else self.err
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, l in lines:
                    if rx.search(l):
                        return t
                left = deadline - time.monotonic()
                # Both pipes at end of file: the process is gone or going.
                if left <= 0 or not any(th.is_alive() for th in self.threads):
                    return None
                self.cond.wait(min(left, 0.05))

    def send(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()

    def stop(self, sig=signal.SIGINT, timeout=20):
        if self.rc is None and self.p.poll() is None:
            try:
                self.p.send_signal(sig)
            except ProcessLookupError:
                pass
        self.wait(timeout)

    def wait(self, timeout):
        if self.rc is not None:
            return self.rc
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:	# Popen.poll() reaped it first
                self.rc = self.p.returncode
                break
            if pid:
                self.rc = os.waitstatus_to_exitcode(status)
                self.rusage = ru
                self.p.returncode = self.rc
                break
            if time.monotonic() > deadline:
                self.p.kill()
                timeout = 5
                deadline = time.monotonic() + timeout
            time.sleep(0.02)
        for t in self.threads:
            t.join(5)
        return self.rc

    def kill(self):
        if self.rc is None:
            try:
                self.p.kill()
            except ProcessLookupError:
                pass
            self.wait(5)


LIVE = []	# processes to kill on the way out, whatever happens


def spawn(argv, stdin=False):
    p = Proc(argv, stdin)
    LIVE.append(p)
    return p


def reap(p):
    if p in LIVE:
        LIVE.remove(p)


# --- tracers ---------------------------------------------------------------

class Tracer:
    def __init__(self, kind, cfg, probes=None, extra=()):
        self.kind = kind
        self.cfg = cfg
        self.probes = probes
        self.extra = list(extra)
        self.proc = None
        self.ready_at = None
        self.ids = set()

    def start(self, interval=1):
        if self.kind == "nettune":
            argv = [self.cfg.nettune, "trace", "--json", "-i", str(interval)]
            if self.probes:
                argv += ["--probes", self.probes]
            argv += self.extra
        else:
            argv = ["bpftrace", self.cfg.anchor]
        self.proc = spawn(argv)
        if self.kind == "nettune":
            self.ready_at = self.proc.wait_line("err", r"attached \d+ probe famil", 30)
        else:
            # bpftrace says "Attaching N probes..." before it loads anything;
            # it is attached once its tracepoint perf events are open.
            t = self.proc.wait_line("out", r"^Attaching", 30)
            deadline = time.monotonic() + 30
            while t and perf_event_fds(self.proc.pid) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            self.ready_at = time.monotonic() if t else None
        if self.ready_at is None:
            err = "\n".join(l for _, l in self.proc.err[-5:])
            self.proc.kill()
            reap(self.proc)
            raise RuntimeError(f"{self.kind} did not attach: {err}")
        self.ids = prog_ids(self.proc.pid)
        return self.ready_at - self.proc.t0

    def wait_first_report(self):
        """CPU seconds the first report took (it loads the drop-reason names
        from the kernel's BTF): kept out of the steady-state numbers."""
        c0 = self.cpu()
        if self.proc.wait_line("out", r"^\{", 30) is None:
            return None
        time.sleep(0.05)
        return self.cpu() - c0

    def out_bytes(self, since=0.0):
        return sum(len(l) + 1 for t, l in self.proc.out if t >= since)

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def hwm_kib(self):
        return proc_status_kib(self.proc.pid, "VmHWM")

    def stop(self):
        t = time.monotonic()
        self.proc.stop(signal.SIGINT)
        reap(self.proc)
        return time.monotonic() - t

    def json_lines(self):
        res = []
        for t, l in self.proc.out:
            if l.startswith("{"):
                try:
                    res.append((t, json.loads(l)))
                except ValueError:
                    pass
        return res


# --- load generators ---------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def run_wrk(cfg, seconds, close, conns=100, threads=2):
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://127.0.0.1:{cfg.port}/")
    p = spawn(argv)
    p.wait(seconds + 30)
    reap(p)
    text = "\n".join(l for _, l in p.out)
    res = {"tool": "wrk", "rps": None, "p99_ms": None, "requests": None,
           "socket_errors": 0, "non_2xx": 0,
           "cpu_s": p.rusage.ru_utime + p.rusage.ru_stime if p.rusage else None}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    if m:
        res["p99_ms"] = parse_ms(m.group(1))
    m = re.search(r"(\d+) requests in", text)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        res["socket_errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        res["non_2xx"] = int(m.group(1))
    if res["rps"] is None:
        raise RuntimeError("wrk: no result: " + text + " ".join(l for _, l in p.err))
    return res


def run_loadgen(cfg, seconds, rate):
    conc = max(64, rate // 20)
    argv = [cfg.loadgen, "-m", "http-close", "-r", str(rate), "-c", str(conc), "-t", "2",
            "-d", str(seconds), "--port", str(cfg.port), "--json"]
    p = spawn(argv)
    p.wait(seconds + 30)
    reap(p)
    try:
        j = json.loads("\n".join(l for _, l in p.out))
    except ValueError:
        raise RuntimeError("loadgen: no JSON: " + " ".join(l for _, l in p.err))
    resp = j["latency"]["response"]
    p99 = resp["p99_us"] / 1e3 if "p99_us" in resp else resp.get("p99_ns", 0) / 1e6
    return {"tool": "loadgen", "rps": j["rate"]["completed_per_s"],
            "asked": rate, "kept": j["rate"]["kept"],
            "p99_ms": p99, "requests": j["operations"]["completed"],
            "socket_errors": j["operations"]["failed"], "non_2xx":
            j["operations"]["completed"] - j["http_status"]["2xx"],
            "cpu_s": p.rusage.ru_utime + p.rusage.ru_stime if p.rusage else None}


# --- one measured run ----------------------------------------------------------

def nginx_cpu(cfg):
    if not getattr(cfg, "nginx_pids", None):
        cfg.nginx_pids = [cfg.nginx_pid] + children_of(cfg.nginx_pid)
    return sum(proc_cpu(p) or 0 for p in cfg.nginx_pids)


def measured_run(cfg, tracer_kind, load, stats=False, interval=1, probes=None, label=None,
                 extra=()):
    """load: ("wrk", seconds, close) or ("loadgen", seconds, rate)."""
    run = {"tracer": label or tracer_kind or "baseline"}
    if probes:
        run["probes"] = probes
    tracer = Tracer(tracer_kind, cfg, probes, extra) if tracer_kind else None
    try:
        if tracer:
            run["startup_s"] = tracer.start(interval)
            if tracer_kind == "nettune":
                run["first_report_cpu_s"] = tracer.wait_first_report()
        before_stats = bpf_prog_stats(tracer.ids) if tracer and stats else None
        snmp0, ng0 = tcp_snmp(), nginx_cpu(cfg)
        tc0, t0 = (tracer.cpu() if tracer else None), time.monotonic()
        if load[0] == "wrk":
            res = run_wrk(cfg, load[1], load[2])
        else:
            res = run_loadgen(cfg, load[1], load[2])
        wall = time.monotonic() - t0
        tc1 = tracer.cpu() if tracer else None
        snmp1, ng1 = tcp_snmp(), nginx_cpu(cfg)
        run.update(res)
        run["wall_s"] = wall
        run["connections"] = snmp1["ActiveOpens"] - snmp0["ActiveOpens"]
        run["nginx_cpu_s"] = ng1 - ng0
        if tracer:
            run["tracer_cpu_s"] = tc1 - tc0
            run["out_bytes"] = tracer.out_bytes(t0)
            if stats:
                run["progs"] = stats_delta(before_stats, bpf_prog_stats(tracer.ids))
            run["hwm_kib"] = tracer.hwm_kib()
            run["maps_kib"] = bpf_maps_kib(tracer.ids)
            run["stop_s"] = tracer.stop()
            if tracer_kind == "nettune":
                lines = tracer.json_lines()
                total = [j for _, j in lines if j.get("type") == "total"]
                if total:
                    tot = total[-1]
                    run["lost_events"] = tot.get("lost_events")
                    # JSON keys are the families' names (docs/json.md); the
                    # old keys kept for one release are not families.
                    old = ("accept_wait", "read_wait", "read_syscall", "uprobes")
                    run["families"] = [k for k in ("connect", "accept", "drops", "read", "http",
                                                   "uprobe") if k in tot] + \
                        [k for k in tot if k not in ("type", "time", "seconds", "listeners",
                                                     "lost_events", "connect", "accept",
                                                     "drops", "http", "uprobe", "read",
                                                     "slow_events_lost_per_cpu") + old]
                    run["accepts_seen"] = tot.get("accept", {}).get("count")
                    run["connects_seen"] = tot.get("connect", {}).get("count")
                run["stderr"] = [l for _, l in tracer.proc.err][:10]
                run["rc"] = tracer.proc.rc
    finally:
        if tracer and tracer.proc and tracer.proc.rc is None:
            tracer.proc.kill()
            reap(tracer.proc)
    return run


# --- phases ------------------------------------------------------------------------

def phase_startup(cfg, runs):
    res = []
    for i in range(runs):
        p = spawn([cfg.nettune, "trace", "--json", "-i", "1", "-d", "2"])
        att = p.wait_line("err", r"attached \d+ probe famil", 30)
        first = p.wait_line("out", r"^\{", 30)
        p.wait(30)
        reap(p)
        res.append({"attached_s": att - p.t0 if att else None,
                    "first_output_s": first - p.t0 if first else None,
                    "rc": p.rc, "stderr": [l for _, l in p.err][:10]})
        log(f"startup {i + 1}/{runs}: attached {res[-1]['attached_s']:.3f} s, "
            f"first report {res[-1]['first_output_s']:.3f} s")
    return res


# The traced runs of each round, rotated from round to round: every family
# nettune has (its default), the anchor, the three families issue 8
# started with, to tell what each addition costs, and the floor: nettune
# attached to the same hooks with programs that return at once, which is
# what any tracer on those hooks pays before doing any work.
KINDS = ("nettune", "anchor", "nettune-core", "floor")
CORE_FAMILIES = "connect,accept,drops"
# The two families the anchor does too (issue 23's second target).
PAIR_FAMILIES = "connect,accept"
FLOOR_ARGS = ("--empty-programs",)
# Every family, and read_syscall (off by default): every read syscall hooked.
READ_SYSCALL_ARGS = ("--read-syscall",)


def rotated(kinds, i):
    """Round i's order: each kind goes first in turn, so that none always
    runs at the same point of a round."""
    k = i % len(kinds)
    return kinds[k:] + kinds[:k]


def phase_throughput(cfg, mode, pairs, seconds):
    close = mode == "close"
    log(f"throughput ({mode}): warm-up")
    run_wrk(cfg, 2, close)
    runs = []

    def go(kind):
        if kind == "nettune-core":
            r = measured_run(cfg, "nettune", ("wrk", seconds, close), probes=CORE_FAMILIES,
                             label=kind)
        elif kind == "floor":
            r = measured_run(cfg, "nettune", ("wrk", seconds, close), label=kind,
                             extra=FLOOR_ARGS)
        else:
            r = measured_run(cfg, kind, ("wrk", seconds, close))
        r["index"] = len(runs)
        runs.append(r)
        log(f"throughput ({mode}) {len(runs)}: {r['tracer']:12s} {r['rps']:9.0f} req/s "
            f"p99 {r['p99_ms']:.2f} ms")

    go(None)
    for i in range(pairs):
        for kind in rotated(KINDS, i):
            go(kind)
            go(None)
    return runs


def phase_cost(cfg, seconds, repeats):
    """Per-program cost at each load level, of the anchor, and of each family
    alone; the all-families run at the highest load is made `repeats` more
    times between the others, since one run of it moves by up to 30% here."""
    levels = []
    if cfg.loadgen:
        levels += [("loadgen", seconds, 2000), ("loadgen", seconds, 8000)]
    else:
        levels += [("wrk-c", seconds, 2), ("wrk-c", seconds, 10)]
    levels.append(("wrk", seconds, True))
    set_bpf_stats(1)
    res = []

    def at_top(what, tracer="nettune", **kw):
        """One run at the highest load (wrk, closed loop)."""
        r = measured_run(cfg, tracer, ("wrk", seconds, True), stats=True, **kw)
        r["level"] = "wrk, closed loop"
        res.append(r)
        log(f"cost {what}: {r['connections'] / r['wall_s']:.0f} conn/s")

    try:
        for lv in levels:
            load = ("wrk", lv[1], True) if lv[0] == "wrk-c" else lv
            r = measured_run(cfg, "nettune", load, stats=True)
            r["level"] = (f"loadgen -r {lv[2]}" if lv[0] == "loadgen" else
                          "wrk, closed loop" if lv[0] == "wrk" else f"wrk -c {lv[2]}")
            res.append(r)
            log(f"cost at {r['level']}: {r['connections'] / r['wall_s']:.0f} conn/s")
        # connect+accept against the anchor (the same two measurements):
        # each once here and again with the repeats below, alternating.
        at_top("of connect+accept", probes=PAIR_FAMILIES, label="connect-accept")
        at_top("of the anchor", "anchor")
        at_top("of the floor", label="floor", extra=FLOOR_ARGS)
        at_top("with --read-syscall", label="read-syscall", extra=READ_SYSCALL_ARGS)
        fams = families(cfg)
        # Repeats go between the family runs: after the first, the middle
        # one... so that they sample the phase's whole span.
        after = {round((i + 1) * len(fams) / (repeats + 1)) - 1 for i in range(repeats)}
        for i, fam in enumerate(fams):
            try:
                at_top(f"of family {fam} alone", probes=fam, label=f"family {fam}")
            except RuntimeError as e:
                log(f"family {fam} alone: not measured: {e}")
                continue
            if i in after:
                at_top("at wrk, closed loop (repeat)", label="nettune-repeat")
                at_top("of the anchor (repeat)", "anchor")
                at_top("of connect+accept (repeat)", probes=PAIR_FAMILIES,
                       label="connect-accept")
    finally:
        set_bpf_stats(cfg.stats_orig)
    return res


def phase_hooks(cfg, rounds, repeats):
    """hookcost under no tracer, the floor, nettune (all families) and
    nettune --read-syscall, rotated from round to round; each loop's
    fastest repeat is kept."""
    extra = {"floor": FLOOR_ARGS, "nettune": (), "read-syscall": READ_SYSCALL_ARGS}
    kinds = ("baseline",) + tuple(extra)
    res = []
    for i in range(rounds):
        for kind in rotated(kinds, i):
            tracer = None
            if kind != "baseline":
                tracer = Tracer("nettune", cfg, extra=extra[kind])
            try:
                if tracer:
                    tracer.start(1)
                    tracer.wait_first_report()
                p = subprocess.run([cfg.hookcost, "-r", str(repeats)], capture_output=True,
                                   text=True, timeout=300)
                if p.returncode != 0:
                    raise RuntimeError("hookcost: " + p.stderr.strip())
                r = json.loads(p.stdout)
            finally:
                if tracer and tracer.proc:
                    tracer.stop()
            r["tracer"] = kind
            res.append(r)
            log(f"hooks {len(res)}/{rounds * len(kinds)}: {kind:15s} " +
                " ".join(f"{k} {v:.0f}" for k, v in r.items() if k != "tracer"))
    return res


def families(cfg):
    """The families nettune lists in its --help (those that need arguments,
    such as http or uprobe, fail to attach alone and are left out)."""
    text = subprocess.run([cfg.nettune, "trace", "--help"], capture_output=True,
                          text=True).stdout
    m = re.search(r"\(default: all\):\s*([\w,]+)", text)
    return m.group(1).split(",") if m else []


def phase_listeners(cfg, counts, seconds):
    res = []
    for n in counts:
        s = spawn([sys.executable, os.path.join(HERE, "sockets.py"), str(n)], stdin=True)
        tr = None
        try:
            if not s.wait_line("out", r"^ready", 120):
                raise RuntimeError(f"sockets.py {n}: " + " ".join(l for _, l in s.err))
            tr = Tracer("nettune", cfg)
            attach = tr.start(1)
            t_att = tr.ready_at
            tr.wait_first_report()
            t_send = time.monotonic()
            s.send("connect")
            t_conn = s.wait_line("out", r"^connected", 300)
            c0, w0 = tr.cpu(), time.monotonic()
            time.sleep(seconds)
            c1, w1 = tr.cpu(), time.monotonic()
            hwm = tr.hwm_kib()
            tr.stop()
            lines = tr.json_lines()
            late = []
            in_window = 0
            for t, j in lines:
                if j.get("type") != "interval":
                    continue
                k = round(t - t_att)
                late.append(t - (t_att + k))
                if w0 <= t <= w1:
                    in_window += 1
            total = [j for _, j in lines if j.get("type") == "total"]
            tot = total[-1] if total else {}
            res.append({
                "count": n, "attach_s": attach, "connect_s": t_conn - t_send if t_conn else None,
                "reports": len(late), "report_late_ms": [x * 1000 for x in late],
                "cpu_s": c1 - c0, "window_s": w1 - w0, "reports_in_window": in_window,
                "hwm_kib": hwm, "lost_events": tot.get("lost_events"),
                "accepts_seen": tot.get("accept_wait", {}).get("count"),
                "listeners_reported": len(tot.get("listeners", [])),
                "stderr": [l for _, l in tr.proc.err][:10], "rc": tr.proc.rc})
            log(f"listeners {n}: attach {attach:.3f} s, reports {len(late)}, "
                f"cpu {c1 - c0:.2f} s in {w1 - w0:.1f} s, HWM {hwm} KiB")
        finally:
            if tr and tr.proc.rc is None:
                tr.proc.kill()
                reap(tr.proc)
            if s.rc is None:
                try:
                    s.send("quit")
                except OSError:
                    pass
                s.wait(30)
            reap(s)
    return res


def mitigations():
    """The kernel's Meltdown and Spectre v2 mitigations: they set what a
    syscall and an indirect call (every call into a BPF program) cost."""
    res = {}
    for name in ("meltdown", "spectre_v2"):
        try:
            with open(f"/sys/devices/system/cpu/vulnerabilities/{name}") as f:
                res[name] = f.read().strip()
        except OSError:
            pass
    return res


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = proc_meminfo_gib()
    osname = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass

    def ver(argv, rx):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            m = re.search(rx, r.stdout + r.stderr)
            return m.group(1) if m else "?"
        except OSError:
            return "?"
    return {"cpu_model": model, "cores": os.cpu_count(), "kernel": os.uname().release,
            "os": osname, "mem_gib": mem, "mitigations": mitigations(),
            "nginx": ver(["nginx", "-v"], r"nginx/(\S+)"),
            "wrk": ver(["wrk", "--version"], r"wrk (\S+)"),
            "bpftrace": ver(["bpftrace", "--version"], r"bpftrace (\S+)"),
            "nettune": nettune_version()}


def nettune_version():
    """The commit measured; -dirty if the tree differs from it other than by
    docs/benchmarks.md, which the bench itself rewrites."""
    top = os.path.dirname(os.path.dirname(HERE))
    try:
        rev = subprocess.run(["git", "-C", top, "describe", "--always"], capture_output=True,
                             text=True, timeout=10).stdout.strip() or "?"
        changed = subprocess.run(["git", "-C", top, "status", "--porcelain", "--", ".",
                                  ":!docs/benchmarks.md"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
    except OSError:
        return "?"
    return rev + ("-dirty" if changed else "")


def proc_meminfo_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--nginx-pid", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stats-orig", type=int, default=0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--phases", default="startup,throughput,cost,listeners,hooks")
    cfg = ap.parse_args()
    cfg.nettune = os.path.join(cfg.build, "nettune")
    lg = os.path.join(cfg.build, "loadgen")
    cfg.loadgen = lg if os.access(lg, os.X_OK) else None
    cfg.anchor = os.path.join(HERE, "anchor.bt")
    cfg.hookcost = os.path.join(cfg.build, "hookcost")
    q = cfg.quick
    # Issue 23's verdicts: the throughput ratio over >= 7 pairs, BPF costs
    # the median of 3 runs at the highest load.
    params = {"pairs": 2 if q else 7, "seconds": 3 if q else 5,
              "cost_seconds": 3 if q else 8, "cost_repeats": 0 if q else 2,
              "startup_runs": 2 if q else 5,
              "listener_counts": [1, 100, 10000], "listener_seconds": 3 if q else 6,
              "hook_rounds": 1 if q else 3, "hook_repeats": 3 if q else 5,
              "wrk": "-t2 -c100", "interval_s": 1}
    phases = cfg.phases.split(",")
    res = {"quick": q, "params": params, "machine": machine(), "families": families(cfg),
           "date": time.strftime("%Y-%m-%d %H:%M %Z"), "load_before": loadavg(),
           "bpf_stats_orig": cfg.stats_orig, "loadgen": bool(cfg.loadgen)}
    t0 = time.monotonic()
    # `ip netns exec` gives this script a private mount namespace with a
    # fresh /sys and no tracefs. nettune would mount it itself, but its
    # families attach in parallel and race to do so (one of them may find
    # no tracepoints); mounting it here, in this private mount namespace,
    # changes nothing on the host.
    if not os.path.isdir("/sys/kernel/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=True)

    def on_term(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    runners = {
        "startup": lambda: phase_startup(cfg, params["startup_runs"]),
        "throughput": lambda: {m: phase_throughput(cfg, m, params["pairs"], params["seconds"])
                               for m in ("keepalive", "close")},
        "cost": lambda: phase_cost(cfg, params["cost_seconds"], params["cost_repeats"]),
        "listeners": lambda: phase_listeners(cfg, params["listener_counts"],
                                             params["listener_seconds"]),
        "hooks": lambda: phase_hooks(cfg, params["hook_rounds"], params["hook_repeats"]),
    }
    failed = []
    try:
        for name in (n for n in runners if n in phases):
            # A phase that fails is reported and the others still run; the
            # results so far are saved after each phase.
            try:
                res[name] = runners[name]()
            except (RuntimeError, KeyError, ValueError, OSError) as e:
                log(f"phase {name} failed: {e!r}")
                res[name + "_error"] = repr(e)
                failed.append(name)
            finally:
                for p in list(LIVE):
                    p.kill()
                    reap(p)
            res["load_after"] = loadavg()
            res["elapsed_s"] = time.monotonic() - t0
            with open(cfg.out, "w") as f:
                json.dump(res, f, indent=1)
    finally:
        for p in list(LIVE):
            p.kill()
    log(f"done in {res['elapsed_s']:.0f} s; results in {cfg.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        log(f"failed: {e}")
        sys.exit(1)
