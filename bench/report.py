#!/usr/bin/env python3
"""Turns bench/compare.sh's raw results (JSON lines) into the markdown report.

Usage: report.py compare-raw.jsonl compare-meta.txt
Ratios are computed inside each round (same minute, same machine state) and then the
median over rounds is reported with its min-max spread; absolute msg/s are medians too.
"""

import json
import os
import statistics
import sys
from collections import defaultdict

NAMES = {
    "raw": "raw TCP",
    "wspc-serve": "wspc serve",
    "wspc-tokio": "wspc-tokio",
    "wspc-tokio-feed": "wspc-tokio (feed)",
    "fastwebsockets": "fastwebsockets",
    "tokio-tungstenite": "tokio-tungstenite",
    "tokio-websockets": "tokio-websockets",
}
WSPC = ["wspc-serve", "wspc-tokio", "wspc-tokio-feed"]


def size_name(s):
    s = int(s)
    if s >= 1 << 20 and s % (1 << 20) == 0:
        return f"{s >> 20} MiB"
    if s >= 1024 and s % 1024 == 0:
        return f"{s >> 10} KiB"
    return f"{s} B"


def workload_name(w):
    c, p, s = (part[1:] for part in w.split("-"))
    return f"{c} conn × {size_name(s)}, {p} in flight"


def fmt_rate(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.1f}"


def spread(values, fmt):
    if not values:
        return "–"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}–{fmt(max(values))})"


def ratio_fmt(x):
    return f"{x:.2f}×"


def main():
    global failures
    raw_path, meta_path = sys.argv[1], sys.argv[2]
    rows = [json.loads(line) for line in open(raw_path) if line.strip()]
    meta = dict(
        line.rstrip("\n").split("=", 1) for line in open(meta_path) if "=" in line
    )
    out = []
    p = out.append
    p("# wspc compared with popular Rust WebSocket crates")
    p("")
    p(
        f"{meta.get('date', '?')}, commit {meta.get('commit', '?')}, {meta.get('cpu', '?')}, "
        f"Linux {meta.get('kernel', '?')}; load average before {meta.get('load_before', '?')}, "
        f"after {meta.get('load_after', '?')}; {meta.get('settings', '')}."
    )
    p("Servers on core 0, `wspc bench` on core 1, all on a tokio current_thread runtime.")
    p("")

    tp = [r for r in rows if r["section"] == "throughput"]
    if tp:
        servers = []
        workloads = []
        rate = defaultdict(dict)  # (workload, server) -> round -> msgs/s
        lat = defaultdict(lambda: defaultdict(list))
        errors = []
        for r in tp:
            w, s, rnd, res = r["workload"], r["server"], r["round"], r["result"]
            if s not in servers:
                servers.append(s)
            if w not in workloads:
                workloads.append(w)
            if "error" in res or res.get("messages", 0) == 0:
                errors.append(f"{w} {s} round {rnd}: {res.get('error', 'no echoes')}")
                continue
            if res.get("errors", 0):
                errors.append(f"{w} {s} round {rnd}: {res['errors']} errors")
            rate[(w, s)][rnd] = res["msgs_per_sec"]
            lat[(w, s)]["p50"].append(res["p50_us"])
            lat[(w, s)]["p99"].append(res["p99_us"])
        order = [s for s in ["raw", *WSPC] if s in servers] + [
            s for s in servers if s not in ["raw", *WSPC]
        ]
        peers = [s for s in order if s not in ["raw", *WSPC]]
        rounds = max(r["round"] for r in tp)

        p(f"## Throughput: echoed messages per second (median of {rounds} rounds, min–max)")
        p("")
        p("| workload | " + " | ".join(NAMES.get(s, s) for s in order) + " |")
        p("| --- |" + " ---: |" * len(order))
        for w in workloads:
            cells = [spread(list(rate[(w, s)].values()), fmt_rate) for s in order]
            p(f"| {workload_name(w)} | " + " | ".join(cells) + " |")
        p("")

        def ratios(w, a, b):
            return [
                rate[(w, a)][k] / rate[(w, b)][k]
                for k in rate[(w, a)]
                if k in rate[(w, b)] and rate[(w, b)][k] > 0
            ]

        if "raw" in servers:
            p("## Ratio to raw TCP (per round, median and min–max)")
            p("")
            rest = [s for s in order if s != "raw"]
            p("| workload | " + " | ".join(NAMES.get(s, s) for s in rest) + " |")
            p("| --- |" + " ---: |" * len(rest))
            for w in workloads:
                cells = [spread(ratios(w, s, "raw"), ratio_fmt) for s in rest]
                p(f"| {workload_name(w)} | " + " | ".join(cells) + " |")
            p("")
        ws = [s for s in WSPC if s in servers]
        if ws and peers:
            p("## wspc ÷ each peer (per round, median and min–max)")
            p("")
            p("| workload | wspc | " + " | ".join(f"÷ {NAMES.get(s, s)}" for s in peers) + " |")
            p("| --- | --- |" + " ---: |" * len(peers))
            for w in workloads:
                for a in ws:
                    cells = [spread(ratios(w, a, b), ratio_fmt) for b in peers]
                    p(f"| {workload_name(w)} | {NAMES[a]} | " + " | ".join(cells) + " |")
            p("")
        p("## Round-trip latency p50 / p99 in µs (median over rounds)")
        p("")
        p("| workload | " + " | ".join(NAMES.get(s, s) for s in order) + " |")
        p("| --- |" + " ---: |" * len(order))
        for w in workloads:
            cells = []
            for s in order:
                d = lat[(w, s)]
                if d["p50"]:
                    cells.append(
                        f"{statistics.median(d['p50']):.0f} / {statistics.median(d['p99']):.0f}"
                    )
                else:
                    cells.append("–")
            p(f"| {workload_name(w)} | " + " | ".join(cells) + " |")
        p("")
        if errors:
            failures += len(errors)
            p("Failures and echo errors:")
            p("")
            for e in errors:
                p(f"- {e}")
            p("")

    mem = [r for r in rows if r["section"] == "memory"]
    if mem:
        conns = mem[0]["conns"]
        p(f"## Memory per idle connection ({conns} connections, server VmRSS growth ÷ {conns})")
        p("")
        p(
            "`plain`: handshake only. `+echo`: after one 20 B message echoed on every "
            "connection (lazily created buffers exist). `deflate`: permessage-deflate "
            "negotiated (client_max_window_bits offered; context takeover both ways). "
            "`deflate-nct`: also server_ and client_no_context_takeover."
        )
        p("")
        modes = []
        for r in mem:
            if r["mode"] not in modes:
                modes.append(r["mode"])
        by = {(r["server"], r["mode"]): r for r in mem}
        mservers = []
        for r in mem:
            if r["server"] not in mservers:
                mservers.append(r["server"])
        p("| server | " + " | ".join(modes) + " |")
        p("| --- |" + " ---: |" * len(modes))
        for s in mservers:
            cells = []
            for m in modes:
                r = by.get((s, m))
                if r is None:
                    cells.append("–")
                    continue
                ready = r.get("ready", "")
                if not ready.startswith("ready"):
                    failures += 1
                    cells.append("failed")
                    continue
                per = (r["rss_after_kib"] - r["rss_before_kib"]) * 1024 / r["conns"]
                cells.append(f"{per / 1024:.1f} KiB")
            p(f"| {NAMES.get(s, s)} | " + " | ".join(cells) + " |")
        p("")

    cg = [r for r in rows if r["section"] == "callgrind"]
    if cg:
        p("## Instructions per echoed message (callgrind, server side)")
        p("")
        p(
            "Each server runs under `valgrind --tool=callgrind` twice, for M and 2M echoes "
            "(`wspc bench --count`); (Ir(2M) − Ir(M)) ÷ M removes start-up, handshakes and "
            "shutdown. Instruction counts include the kernel-call wrappers in libc, not the kernel."
        )
        p("")
        groups = defaultdict(dict)
        cworkloads, cservers = [], []
        for r in cg:
            res = r.get("result") or {}
            ok = "error" not in res and res.get("messages", 0) > 0 and not res.get("errors")
            groups[(r["workload"], r["server"])][r["count"]] = r["ir"] if ok else None
            if not ok:
                failures += 1
            if r["workload"] not in cworkloads:
                cworkloads.append(r["workload"])
            if r["server"] not in cservers:
                cservers.append(r["server"])
        p("| server | " + " | ".join(workload_name(w) for w in cworkloads) + " |")
        p("| --- |" + " ---: |" * len(cworkloads))
        for s in cservers:
            cells = []
            for w in cworkloads:
                g = groups[(w, s)]
                counts = sorted(g)
                if len(counts) == 2 and g[counts[0]] and g[counts[1]]:
                    m = counts[1] - counts[0]
                    cells.append(f"{(g[counts[1]] - g[counts[0]]) / m:,.0f}")
                elif counts and any(g[c] is None for c in counts):
                    cells.append("failed")
                else:
                    cells.append("–")
            p(f"| {NAMES.get(s, s)} | " + " | ".join(cells) + " |")
        p("")
    print("\n".join(out))


failures = 0


if __name__ == "__main__":
    main()
    # STRICT=1 (CI smoke): a failed run or an echo error fails the command.
    if failures and os.environ.get("STRICT") == "1":
        print(f"report: {failures} failed runs", file=sys.stderr)
        sys.exit(1)
