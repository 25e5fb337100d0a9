#!/usr/bin/env python3
"""A/B cost of nettune builds on one set of families (tools/bench/ab.sh runs
this inside its namespace, with nginx started and bpf_stats restored by it).

    ab.py --port PORT --nginx-pid PID --probes LIST --rounds N --seconds S
          NAME='NETTUNE [ARGS]' [NAME='NETTUNE [ARGS]' ...]

Each round runs every build once, in turn (A B A B ...), under wrk
Connection: close (-t2 -c100; keep-alive with --keepalive) with kernel.bpf_stats_enabled=1, and records
per BPF program its runs and ns per connection, nginx's CPU per request, wrk's
requests/s and the read family's read_wait count (the number of reads that
drained data whose arrival the family saw: its "messages"). Prints one JSON
object per run, then medians and ranges per build.
"""
import argparse
import json
import statistics
import sys
import time

import bench


def one_run(cfg, name, spec):
    path, *args = spec.split()
    cfg.nettune = path
    tr = bench.Tracer("nettune", cfg, cfg.probes, cfg.extra + args)
    tr.start(100)
    try:
        time.sleep(0.3)
        s0 = bench.bpf_prog_stats(tr.ids)
        snmp0, ng0 = bench.tcp_snmp(), bench.nginx_cpu(cfg)
        t0 = time.monotonic()
        res = bench.run_wrk(cfg, cfg.seconds, not cfg.keepalive)
        wall = time.monotonic() - t0
        snmp1, ng1 = bench.tcp_snmp(), bench.nginx_cpu(cfg)
        progs = bench.stats_delta(s0, bench.bpf_prog_stats(tr.ids))
        tr.stop()
        lines = tr.json_lines()
    finally:
        if tr.proc and tr.proc.rc is None:
            tr.proc.kill()
            bench.reap(tr.proc)
    conns = snmp1["ActiveOpens"] - snmp0["ActiveOpens"]
    tot = [j for _, j in lines if j.get("type") == "total"]
    wait = tot[-1].get("read", {}).get("wait", {}) if tot else {}
    msgs = (wait.get("count") or 0) if wait else 0
    run = {"build": name, "conns": conns, "rps": res["rps"], "wall_s": wall,
           "insegs": snmp1["InSegs"] - snmp0["InSegs"],
           "nginx_cpu_us_per_req": (ng1 - ng0) * 1e6 / max(res["requests"] or 1, 1),
           "wrk_cpu_us_per_req": (res["cpu_s"] or 0) * 1e6 / max(res["requests"] or 1, 1),
           "read_wait_count": msgs, "method": wait.get("method"), "progs": {}}
    total_ns = 0
    for p in progs:
        run["progs"][p["name"]] = {
            "ns_per_run": p["run_time_ns"] / p["run_cnt"] if p["run_cnt"] else 0,
            "runs_per_conn": p["run_cnt"] / conns if conns else 0,
            "ns_per_conn": p["run_time_ns"] / conns if conns else 0}
        total_ns += p["run_time_ns"]
    run["bpf_ns_per_conn"] = total_ns / conns if conns else 0
    run["bpf_ns_per_msg"] = total_ns / msgs if msgs else None
    run["msgs_per_conn"] = msgs / conns if conns else 0
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--nginx-pid", type=int, required=True)
    ap.add_argument("--probes", default="read")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--extra", default="")
    ap.add_argument("--keepalive", action="store_true")
    ap.add_argument("builds", nargs="+")
    cfg = ap.parse_args()
    cfg.extra = cfg.extra.split()
    builds = [b.split("=", 1) for b in cfg.builds]
    bench.run_wrk(cfg, 2, True)	# warm-up
    runs = []
    for i in range(cfg.rounds):
        for name, path in builds:
            r = one_run(cfg, name, path)
            runs.append(r)
            print(json.dumps(r), flush=True)
            bench.log(f"round {i + 1} {name}: {r['rps']:.0f} req/s, "
                      f"{r['bpf_ns_per_conn']:.0f} BPF ns/conn, "
                      f"{r['bpf_ns_per_msg'] or 0:.0f} ns/msg, "
                      f"nginx {r['nginx_cpu_us_per_req']:.1f} us/req, "
                      + ", ".join(f"{k} {v['ns_per_run']:.0f} ns x {v['runs_per_conn']:.2f}"
                                  for k, v in r["progs"].items()))

    def med(vals):
        vals = [v for v in vals if v is not None]
        return (statistics.median(vals), min(vals), max(vals)) if vals else (0, 0, 0)

    print("\nmedian [min-max] per build", file=sys.stderr)
    for name, _ in builds:
        rs = [r for r in runs if r["build"] == name]
        keys = [("rps", lambda r: r["rps"]), ("bpf_ns_per_conn", lambda r: r["bpf_ns_per_conn"]),
                ("bpf_ns_per_msg", lambda r: r["bpf_ns_per_msg"]),
                ("msgs_per_conn", lambda r: r["msgs_per_conn"]),
                ("nginx_cpu_us_per_req", lambda r: r["nginx_cpu_us_per_req"]),
                ("wrk_cpu_us_per_req", lambda r: r["wrk_cpu_us_per_req"])]
        progs = sorted({p for r in rs for p in r["progs"]})
        for p in progs:
            keys.append((f"{p} ns/run", lambda r, p=p: r["progs"].get(p, {}).get("ns_per_run")))
            keys.append((f"{p} runs/conn", lambda r, p=p: r["progs"].get(p, {}).get("runs_per_conn")))
        print(f"{name} ({rs[0]['method']}):", file=sys.stderr)
        for k, f in keys:
            m, lo, hi = med([f(r) for r in rs])
            print(f"  {k:36s} {m:10.2f} [{lo:.2f} - {hi:.2f}]", file=sys.stderr)


if __name__ == "__main__":
    main()
