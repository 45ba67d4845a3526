"""Per-event cost of the Python package, with its baselines measured in the same run.

    PYTHONPATH=build/release/python /usr/bin/python3 python/benchmarks/bench_engine.py [--repeat 5]

Each case runs `repeat` times; the table shows the median nanoseconds per event. Baselines:
- "heap loop": a minimal pure-Python virtual-time loop (heapq of (due, seq, ...), coroutines
  driven with send()), doing the same work with the same callbacks: the ratio to it is the
  headline.
- "C++ call": the raw cost of calling the same Python callback from a C++ loop, the floor of
  any engine that calls Python per event.
"""

import argparse
import asyncio
import heapq
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

import asp
from asp import _engine

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
US = timedelta(microseconds=1)


# --- the pure-Python baseline: a heap-based virtual-time loop ---------------------------------

class HeapLoop:
    """Runs callbacks and coroutines in (due, seq) order on a virtual clock."""

    def __init__(self, start):
        self.now = start
        self.queue = []
        self.seq = 0

    def call_at(self, due, fn, *args):
        self.seq += 1
        heapq.heappush(self.queue, (due, self.seq, fn, args))

    def stream(self, callback, events):
        it = iter(events)

        def step(t, v):
            r = callback(t, v)
            if r is not None and hasattr(r, "send"):
                self.drive(r, lambda: advance())
            else:
                advance()

        def advance():
            for t, v in it:
                self.call_at(t, step, t, v)
                return

        advance()

    def drive(self, coro, done):
        def resume():
            try:
                delay = coro.send(None)
            except StopIteration:
                done()
                return
            self.call_at(self.now + delay, resume)
        resume()

    def run(self):
        queue = self.queue
        while queue:
            due, _, fn, args = heapq.heappop(queue)
            if due > self.now:
                self.now = due
            fn(*args)


class HeapSleep:
    """What the baseline's coroutines await: yields the delay to the loop."""
    __slots__ = ("delay",)

    def __init__(self, delay):
        self.delay = delay

    def __await__(self):
        yield self.delay


# --- cases --------------------------------------------------------------------------------

def events(n, streams=1, offset=0):
    return [(T0 + (k * streams + offset) * US, k) for k in range(n)]


def plain_callback(n):
    data = events(n)
    count = [0]

    def cb(t, v):
        count[0] += 1

    def ours():
        asyncio.run(asp.run([asp.process_stream(cb, data)], T0))

    def heap():
        loop = HeapLoop(T0)
        loop.stream(cb, data)
        loop.run()

    return ours, heap


def async_sleep_callback(n):
    data = events(n)

    async def cb(t, v):
        await asp.sleep(0)

    async def heap_cb(t, v):
        await HeapSleep(timedelta(0))

    def ours():
        asyncio.run(asp.run([asp.process_stream(cb, data)], T0))

    def heap():
        loop = HeapLoop(T0)
        loop.stream(heap_cb, data)
        loop.run()

    return ours, heap


def call_later_chain(n):
    left = [0]

    def tick(t):
        left[0] -= 1
        if left[0] > 0:
            asp.call_later(US, tick)

    async def start():
        asp.call_later(US, tick)

    def ours():
        left[0] = n
        asyncio.run(asp.run([start()], T0))

    def heap():
        loop = HeapLoop(T0)
        remaining = [n]

        def heap_tick(t):
            remaining[0] -= 1
            if remaining[0] > 0:
                loop.call_at(loop.now + US, heap_tick, loop.now + US)

        loop.call_at(T0 + US, heap_tick, T0 + US)
        loop.run()

    return ours, heap


def merged_streams(n, k=8):
    per = n // k
    data = [events(per, k, i) for i in range(k)]
    count = [0]

    def cb(t, v):
        count[0] += 1

    def ours():
        asyncio.run(asp.run([asp.process_stream(cb, d) for d in data], T0))

    def heap():
        loop = HeapLoop(T0)
        for d in data:
            loop.stream(cb, d)
        loop.run()

    return ours, heap


def csv_source(n, path):
    count = [0]

    def cb(t, row):
        count[0] += 1

    def ours():
        asyncio.run(asp.run([asp.process_stream(cb, asp.data.read_csv(path, times="ns"))], T0))

    def heap():
        # The same rows read by Python's csv module, then the heap loop.
        import csv
        with open(path, newline="") as f:
            reader = csv.reader(f)
            next(reader)
            rows = ((T0 + timedelta(microseconds=int(r[0]) // 1000), (float(r[1]), float(r[2]),
                                                                         int(r[3])))
                    for r in reader)
            loop = HeapLoop(T0)
            loop.stream(cb, rows)
            loop.run()

    return ours, heap


def write_csv(n):
    fd, path = tempfile.mkstemp(suffix=".csv")
    base = int(T0.timestamp()) * 10**9
    with os.fdopen(fd, "w") as f:
        f.write("time,bid,ask,size\n")
        for k in range(n):
            f.write(f"{base + k * 1000},{100 + k % 7 / 100:.2f},{100.02 + k % 5 / 100:.2f},{k % 300}\n")
    return path


def cpp_call(n):
    def cb(t, v):
        pass

    return lambda: _engine.bench_call(cb, T0, 1, n)


def median_ns(fn, n, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / n)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.events
    path = write_csv(n)
    try:
        floor = median_ns(cpp_call(n), n, args.repeat)
        cases = [
            ("plain callback, list of past events", plain_callback(n), 300),
            ("async def callback awaiting asp.sleep", async_sleep_callback(n), 1000),
            ("call_later chain", call_later_chain(n), 500),
            ("8 merged streams", merged_streams(n), None),
            ("CSV source into a Python callback", csv_source(n, path), None),
        ]
        print(f"{n:,} events per run, median of {args.repeat} runs, ns per event; "
              f"Python {sys.version.split()[0]}")
        print(f"C++ loop calling the same callback (floor): {floor:.0f} ns")
        print(f"| case | asp | heap loop | speed-up | target |")
        print(f"|---|---|---|---|---|")
        for name, (ours, heap), target in cases:
            a = median_ns(ours, n, args.repeat)
            b = median_ns(heap, n, args.repeat)
            goal = f"≤ {target} ns" if target else "—"
            print(f"| {name} | {a:.0f} | {b:.0f} | {b / a:.1f}× | {goal} |")
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
