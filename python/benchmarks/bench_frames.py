"""A DataFrame as a past source, against the ways users write it today, in the same run.

    PYTHONPATH=build/release/python /usr/bin/python3 python/benchmarks/bench_frames.py [--rows N] [--repeat 5]

A frame of N rows (default 10^6) of (time, float, float, int), one row a microsecond; each way
calls the same callback once per row through asp.run, and the table shows the median
nanoseconds per row over `repeat` runs:
- asp.data.from_frame(df): the rows read in C++ from the frame's arrays;
- df.itertuples() into process_stream: a Python generator of (time, row) pairs;
- zip of the arrays (times as datetimes, the columns as lists) into process_stream;
- a pure-Python loop over the same rows calling the callback (no engine): the floor of any way
  that calls Python per row.
"""

import argparse
import asyncio
import statistics
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd

import asp
import asp.data

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def make_frame(rows):
    index = pd.date_range("2025-01-01", periods=rows, freq="us", tz="UTC")
    return pd.DataFrame({"bid": np.linspace(10.0, 11.0, rows), "ask": np.linspace(10.1, 11.1, rows),
                         "size": np.arange(rows, dtype=np.int64) % 500}, index=index)


def timed(fn):
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    frame = make_frame(args.rows)
    total = [0.0]

    def on_row(t, row):
        total[0] += row[0]

    def via_engine(past):
        asyncio.run(asp.run([asp.process_stream(on_row, past)], T0))

    def itertuples():
        return ((r[0].to_pydatetime(), r[1:]) for r in frame.itertuples())

    def zipped():
        times = frame.index.to_pydatetime()
        return zip(times, zip(frame["bid"].tolist(), frame["ask"].tolist(), frame["size"].tolist()))

    def python_loop():
        for r in frame.itertuples():
            on_row(r[0], r[1:])

    ways = {
        "asp.data.from_frame(df)": lambda: via_engine(asp.data.from_frame(frame)),
        "df.itertuples() into process_stream": lambda: via_engine(itertuples()),
        "zip of the arrays into process_stream": lambda: via_engine(zipped()),
        "pure-Python loop over itertuples, no engine": python_loop,
    }
    results = {name: [] for name in ways}
    for _ in range(args.repeat):
        for name, way in ways.items():  # in turn, so that a busy neighbour hurts all alike
            results[name].append(timed(way) * 1e9 / args.rows)
    print(f"{args.rows} rows, median of {args.repeat} (ns per row)")
    for name, samples in results.items():
        print(f"  {name:45s} {statistics.median(samples):8.0f}")


if __name__ == "__main__":
    main()
