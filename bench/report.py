#!/usr/bin/env python3
"""Turns bench/compare.sh's raw results (JSON lines) into the markdown report.

Usage: report.py compare-raw.jsonl compare-meta.txt servers.tsv

Throughput ratios are computed inside each round (same minute, same machine state) and
the report gives their median over the rounds with the min-max spread; absolute rates
are medians too. Busy shares are medians over the rounds, in percent of one core.
STRICT=1 (the CI smoke run): a failed run or an echo error fails the command.
"""

import json
import os
import statistics
import sys
from collections import defaultdict

GEN_NAMES = {"loadgen": "loadgen", "wspc-bench": "`wspc bench`"}


def load_servers(path):
    """name -> (role, label), in the file's order."""
    servers = {}
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        name, role, label = line.rstrip("\n").split("\t")[:3]
        servers[name] = (role, label)
    return servers


def size_name(s):
    s = int(s)
    if s >= 1 << 20 and s % (1 << 20) == 0:
        return f"{s >> 20} MiB"
    if s >= 1024 and s % 1024 == 0:
        return f"{s >> 10} KiB"
    return f"{s} B"


def workload_name(w):
    if w == "handshake":
        return "per handshake"
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


def pct(x):
    return "–" if x is None else f"{100 * x:.0f}"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Report:
    def __init__(self, rows, meta, servers):
        self.rows = rows
        self.meta = meta
        self.servers = servers
        self.out = []
        self.failures = 0
        self.scpu = int(meta.get("server_cpu", 0))
        self.ccpu = int(meta.get("client_cpu", 1))

    def p(self, line=""):
        self.out.append(line)

    def label(self, s):
        return self.servers.get(s, ("peer", s))[1]

    def role(self, s):
        return self.servers.get(s, ("peer", s))[0]

    def ordered(self, names):
        """Raw first, then ours, then the peers, each in the registry's order."""
        rank = {"raw": 0, "wspc": 1, "peer": 2}
        reg = list(self.servers)
        return sorted(
            set(names),
            key=lambda s: (rank.get(self.role(s), 3), reg.index(s) if s in reg else 99, s),
        )

    def core(self, res, i):
        cores = res.get("cores_busy") or []
        return cores[i] if i < len(cores) else None

    def header(self):
        m = self.meta
        self.p("# wspc compared with popular Rust WebSocket crates")
        self.p()
        self.p(
            f"{m.get('date', '?')}, commit {m.get('commit', '?')}; {m.get('cpu', '?')}, "
            f"Linux {m.get('kernel', '?')}, {m.get('rustc', '?')}; load average before "
            f"{m.get('load_before', '?')}, after {m.get('load_after', '?')}; "
            f"{m.get('elapsed_s', '?')} s in all."
        )
        self.p()
        self.p(f"Peers: {m.get('versions', '?')}.")
        self.p(
            f"Servers pinned to core {self.scpu}, load generators to core {self.ccpu}; "
            "all on a tokio current_thread runtime; real-time priority (SCHED_FIFO): "
            f"{m.get('rt_prio', 'none')}."
        )
        self.p()

    # ---------------------------------------------------------------- throughput
    def throughput(self, mode):
        tp = [r for r in self.rows if r["section"] == mode]
        if not tp:
            return
        settings = self.meta.get(f"{mode}_settings", "")
        title = "interleaved" if mode == "interleaved" else "sequential"
        self.p(f"## Throughput, {title} ({settings})")
        self.p()
        if mode == "interleaved":
            self.p(
                "Every server up at once; for each workload, every round visits each "
                "server in turn (rotating order) with each load generator. Ratios are "
                "taken inside a round; the tables give their median over the rounds "
                "(min–max)."
            )
        else:
            self.p(
                "Every round runs every workload against every server (rotating order); "
                "ratios inside a round, median over rounds (min–max)."
            )
        self.p()
        gens = []
        rate = defaultdict(dict)  # (gen, workload, server) -> round -> msgs/s
        res_of = defaultdict(list)  # (gen, workload, server) -> results
        workloads, names, errors, silent = [], [], [], []
        echoed = set()  # (round, workload, server) where some generator got echoes
        for r in tp:
            if r["result"].get("messages", 0) > 0:
                echoed.add((r["round"], r["workload"], r["server"]))
        for r in tp:
            g, w, s, rnd, res = r["generator"], r["workload"], r["server"], int(r["round"]), r["result"]
            for lst, v in ((gens, g), (workloads, w), (names, s)):
                if v not in lst:
                    lst.append(v)
            if "error" in res:
                errors.append(f"{w} {s} round {rnd} ({g}): {res['error']}")
                continue
            if res.get("messages", 0) == 0:
                # A stall in a short window, if the other generator got echoes from the
                # same server in the same round; a failure if nobody did.
                note = f"{w} {s} round {rnd} ({g}): no echoes in the window"
                if (r["round"], w, s) in echoed:
                    silent.append(note)
                else:
                    errors.append(note)
                continue
            if res.get("errors", 0):
                errors.append(f"{w} {s} round {rnd} ({g}): {res['errors']} errors")
            rate[(g, w, s)][rnd] = res["msgs_per_sec"]
            res_of[(g, w, s)].append(res)
        order = self.ordered(names)
        raw = [s for s in order if self.role(s) == "raw"]
        ours = [s for s in order if self.role(s) == "wspc"]
        peers = [s for s in order if self.role(s) == "peer"]

        def ratios(g, w, a, b):
            ra, rb = rate[(g, w, a)], rate[(g, w, b)]
            return [ra[k] / rb[k] for k in ra if k in rb and rb[k] > 0]

        for g in gens:
            gname = GEN_NAMES.get(g, g)
            self.p(f"### Load generator: {gname}")
            self.p()
            self.p("Echoed messages per second (median over rounds, min–max):")
            self.p()
            self.p("| workload | " + " | ".join(self.label(s) for s in order) + " |")
            self.p("| --- |" + " ---: |" * len(order))
            for w in workloads:
                cells = [spread(list(rate[(g, w, s)].values()), fmt_rate) for s in order]
                self.p(f"| {workload_name(w)} | " + " | ".join(cells) + " |")
            self.p()
            if ours and peers:
                self.p("wspc ÷ each peer (per-round ratios: median, min–max):")
                self.p()
                self.p(
                    "| workload | wspc | "
                    + " | ".join(f"÷ {self.label(s)}" for s in peers + raw)
                    + " |"
                )
                self.p("| --- | --- |" + " ---: |" * len(peers + raw))
                for w in workloads:
                    for a in ours:
                        cells = [spread(ratios(g, w, a, b), ratio_fmt) for b in peers + raw]
                        self.p(f"| {workload_name(w)} | {self.label(a)} | " + " | ".join(cells) + " |")
                self.p()
            if raw:
                rest = [s for s in order if s not in raw]
                self.p(f"Each server ÷ {self.label(raw[0])} (per round, median, min–max):")
                self.p()
                self.p("| workload | " + " | ".join(self.label(s) for s in rest) + " |")
                self.p("| --- |" + " ---: |" * len(rest))
                for w in workloads:
                    cells = [spread(ratios(g, w, s, raw[0]), ratio_fmt) for s in rest]
                    self.p(f"| {workload_name(w)} | " + " | ".join(cells) + " |")
                self.p()
            self.p(
                f"Busy shares in % (median over rounds): server process / {gname} process "
                f"/ server core {self.scpu} / generator core {self.ccpu} (the cores count "
                "everyone's work, so core − process is foreign load):"
            )
            self.p()
            self.p("| workload | " + " | ".join(self.label(s) for s in order) + " |")
            self.p("| --- |" + " ---: |" * len(order))
            for w in workloads:
                cells = []
                for s in order:
                    rs = res_of[(g, w, s)]
                    if not rs:
                        cells.append("–")
                        continue
                    cells.append(
                        " / ".join(
                            pct(med(v))
                            for v in (
                                [x.get("server_busy") for x in rs],
                                [x.get("gen_busy") for x in rs],
                                [self.core(x, self.scpu) for x in rs],
                                [self.core(x, self.ccpu) for x in rs],
                            )
                        )
                    )
                self.p(f"| {workload_name(w)} | " + " | ".join(cells) + " |")
            self.p()
            self.p(
                "Server CPU time per echoed message in µs (server busy share ÷ msg/s, "
                "median over rounds; kernel work included, so it separates servers even "
                "when the generator sets the pace):"
            )
            self.p()
            self.p("| workload | " + " | ".join(self.label(s) for s in order) + " |")
            self.p("| --- |" + " ---: |" * len(order))
            for w in workloads:
                cells = []
                for s in order:
                    us = med(
                        [
                            x["server_busy"] * 1e6 / x["msgs_per_sec"]
                            for x in res_of[(g, w, s)]
                            if x.get("server_busy") is not None and x.get("msgs_per_sec")
                        ]
                    )
                    cells.append("–" if us is None else f"{us:.2f}")
                self.p(f"| {workload_name(w)} | " + " | ".join(cells) + " |")
            self.p()
            self.p("Round-trip latency p50 / p99 in µs (median over rounds):")
            self.p()
            self.p("| workload | " + " | ".join(self.label(s) for s in order) + " |")
            self.p("| --- |" + " ---: |" * len(order))
            for w in workloads:
                cells = []
                for s in order:
                    rs = res_of[(g, w, s)]
                    if rs:
                        cells.append(
                            f"{med([x['p50_us'] for x in rs]):.0f} / {med([x['p99_us'] for x in rs]):.0f}"
                        )
                    else:
                        cells.append("–")
                self.p(f"| {workload_name(w)} | " + " | ".join(cells) + " |")
            self.p()
        if len(gens) >= 2:
            a, b = gens[1], gens[0]
            self.p(
                f"### The two load generators side by side: {GEN_NAMES.get(a, a)} ÷ "
                f"{GEN_NAMES.get(b, b)}"
            )
            self.p()
            self.p(
                "msg/s ratio per round (median, min–max), and each generator's own busy "
                "share in % (median):"
            )
            self.p()
            self.p(
                "| workload | server | "
                f"{GEN_NAMES.get(a, a)} ÷ {GEN_NAMES.get(b, b)} | busy {GEN_NAMES.get(b, b)} | "
                f"busy {GEN_NAMES.get(a, a)} |"
            )
            self.p("| --- | --- | ---: | ---: | ---: |")
            for w in workloads:
                for s in order:
                    ra, rb = rate[(a, w, s)], rate[(b, w, s)]
                    rs = [ra[k] / rb[k] for k in ra if k in rb and rb[k] > 0]
                    ga = med([x.get("gen_busy") for x in res_of[(a, w, s)]])
                    gb = med([x.get("gen_busy") for x in res_of[(b, w, s)]])
                    self.p(
                        f"| {workload_name(w)} | {self.label(s)} | {spread(rs, ratio_fmt)} | "
                        f"{pct(gb)} | {pct(ga)} |"
                    )
            self.p()
        if errors:
            self.failures += len(errors)
            self.p("Failures and echo errors:")
            self.p()
            for e in errors:
                self.p(f"- {e}")
            self.p()
        if silent:
            self.p("Cells without echoes while the other generator got them (not failures):")
            self.p()
            for e in silent:
                self.p(f"- {e}")
            self.p()

    # ---------------------------------------------------------------- handshakes
    def handshakes(self):
        hs = [r for r in self.rows if r["section"] == "handshakes"]
        if not hs:
            return
        self.p(f"## Opening handshakes per second ({self.meta.get('handshake_settings', '')})")
        self.p()
        self.p(
            "`loadgen --handshakes N --concurrency K`: each connection is opened, upgraded "
            "(the 101 and its Sec-WebSocket-Accept checked) and reset (SO_LINGER 0) at "
            "once; rounds visit the servers in turn. Busy shares in % (median)."
        )
        self.p()
        by = defaultdict(list)
        errors = []
        for r in hs:
            res = r["result"]
            if "error" in res or res.get("handshakes", 0) == 0 or res.get("errors"):
                errors.append(f"{r['server']} round {r['round']}: {res.get('error', res.get('errors'))}")
                if "error" in res:
                    continue
            by[r["server"]].append(res)
        self.p("| server | handshakes/s | server busy | generator busy | p50 / p99 µs |")
        self.p("| --- | ---: | ---: | ---: | ---: |")
        for s in self.ordered(by):
            rs = by[s]
            self.p(
                f"| {self.label(s)} | {spread([x['handshakes_per_sec'] for x in rs], fmt_rate)} | "
                f"{pct(med([x.get('server_busy') for x in rs]))} | "
                f"{pct(med([x.get('gen_busy') for x in rs]))} | "
                f"{med([x['p50_us'] for x in rs]):.0f} / {med([x['p99_us'] for x in rs]):.0f} |"
            )
        self.p()
        if errors:
            self.failures += len(errors)
            self.p("Failures:")
            self.p()
            for e in errors:
                self.p(f"- {e}")
            self.p()

    # ---------------------------------------------------------------- memory
    def memory(self):
        mem = [r for r in self.rows if r["section"] == "memory"]
        if not mem:
            return
        conns = mem[0]["conns"]
        self.p(f"## Memory per idle connection ({conns} connections, server VmRSS growth ÷ {conns})")
        self.p()
        self.p(
            "`plain`: handshake only. `+echo`: after one 20 B message echoed on every "
            "connection (lazily created buffers exist). `deflate`: permessage-deflate "
            "negotiated (client_max_window_bits offered; context takeover both ways). "
            "`deflate-nct`: also server_ and client_no_context_takeover."
        )
        self.p()
        modes = []
        for r in mem:
            if r["mode"] not in modes:
                modes.append(r["mode"])
        by = {(r["server"], r["mode"]): r for r in mem}
        self.p("| server | " + " | ".join(modes) + " |")
        self.p("| --- |" + " ---: |" * len(modes))
        for s in self.ordered({r["server"] for r in mem}):
            cells = []
            for m in modes:
                r = by.get((s, m))
                if r is None:
                    cells.append("–")
                    continue
                if not r.get("ready", "").startswith("ready"):
                    self.failures += 1
                    cells.append("failed")
                    continue
                per = (r["rss_after_kib"] - r["rss_before_kib"]) / r["conns"]
                cells.append(f"{per:.1f} KiB")
            self.p(f"| {self.label(s)} | " + " | ".join(cells) + " |")
        self.p()

    # ---------------------------------------------------------------- callgrind
    def callgrind(self):
        cg = [r for r in self.rows if r["section"] == "callgrind"]
        if not cg:
            return
        self.p("## Instructions per echoed message and per handshake (callgrind, server side)")
        self.p()
        self.p(
            "Each server runs under `valgrind --tool=callgrind` twice, for M and 2M echoes "
            f"(or handshakes) ({self.meta.get('callgrind_settings', '')}); "
            "(Ir(2M) − Ir(M)) ÷ M removes start-up and shutdown. User-space instructions "
            "only: the kernel's work in the syscalls is not counted."
        )
        self.p()
        groups = defaultdict(dict)
        cworkloads, cservers = [], []
        for r in cg:
            res = r.get("result") or {}
            done = res.get("messages", res.get("handshakes", 0))
            ok = "error" not in res and done > 0 and not res.get("errors")
            groups[(r["workload"], r["server"])][int(r["count"])] = r["ir"] if ok else None
            if not ok:
                self.failures += 1
            if r["workload"] not in cworkloads:
                cworkloads.append(r["workload"])
            if r["server"] not in cservers:
                cservers.append(r["server"])
        self.p("| server | " + " | ".join(workload_name(w) for w in cworkloads) + " |")
        self.p("| --- |" + " ---: |" * len(cworkloads))
        for s in self.ordered(cservers):
            cells = []
            for w in cworkloads:
                g = groups.get((w, s), {})
                counts = sorted(g)
                if len(counts) == 2 and g[counts[0]] and g[counts[1]]:
                    m = counts[1] - counts[0]
                    cells.append(f"{(g[counts[1]] - g[counts[0]]) / m:,.0f}")
                elif counts and any(g[c] is None for c in counts):
                    cells.append("failed")
                else:
                    cells.append("–")
            self.p(f"| {self.label(s)} | " + " | ".join(cells) + " |")
        self.p()


def main():
    raw_path, meta_path, servers_path = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = [json.loads(line) for line in open(raw_path) if line.strip()]
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(meta_path) if "=" in line)
    rep = Report(rows, meta, load_servers(servers_path))
    rep.header()
    rep.throughput("interleaved")
    rep.throughput("sequential")
    rep.handshakes()
    rep.memory()
    rep.callgrind()
    print("\n".join(rep.out))
    # STRICT=1 (CI smoke): a failed run or an echo error fails the command.
    if rep.failures and os.environ.get("STRICT") == "1":
        print(f"report: {rep.failures} failed runs", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
