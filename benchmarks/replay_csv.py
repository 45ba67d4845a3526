#!/usr/bin/env python3
"""Turns replay_bench's JSON output (--benchmark_out=FILE --benchmark_out_format=json, with
--benchmark_repetitions) into a plot-ready CSV: one row per benchmark, its median.

    benchmarks/replay_csv.py run.json > replay.csv

Columns: way (Floor_Read, Floor_CrcWalk, Reader, LoopOneStream, LoopLogSources,
LoopSharedSources), cache (warm, cold), n, k, zstd, read_ahead (0 none, 1 thread; empty for
the floors), ns_per_event, rss_mb.
"""

import csv
import json
import sys


def main() -> None:
    with open(sys.argv[1]) as f:
        run = json.load(f)
    out = csv.writer(sys.stdout)
    out.writerow(["way", "cache", "n", "k", "zstd", "read_ahead", "ns_per_event", "rss_mb"])
    for b in run["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        parts = b["run_name"].split("/")
        way = parts[0].removeprefix("BM_")
        cache = "warm"
        if parts[1] in ("warm", "cold"):
            cache = parts[1]
            parts = parts[:1] + parts[2:]
        numbers = [p for p in parts[1:] if p.isdigit()]
        n, k, zstd = (int(x) for x in numbers[:3])
        ahead = numbers[3] if len(numbers) > 3 else ""
        seconds = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        out.writerow([way, cache, n, k, zstd, ahead, f"{seconds * 1e9 / n:.2f}",
                      f"{b.get('rss_mb', 0):.1f}"])


if __name__ == "__main__":
    main()
