"""No reference leaks: 10⁵ events through every path leave every object's count as it was."""

import asyncio
import gc
import sys
import tracemalloc
from datetime import datetime, timedelta

import asp
from conftest import NOON, UTC, run

N = 100_000
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_no_reference_is_kept_per_event(clock):
    value, stamp = object(), T0
    calls = []

    def callback(t, v):
        calls.append(1) if len(calls) < 1 else None

    async def async_callback(t, v):
        await asp.sleep(0)

    def later(t, v):
        pass

    async def live():
        for _ in range(1000):
            yield NOON, value

    before = (sys.getrefcount(value), sys.getrefcount(stamp), sys.getrefcount(callback),
              sys.getrefcount(async_callback), sys.getrefcount(later))
    run([asp.process_stream(callback, [(stamp, value)] * N),
         asp.process_stream(async_callback, ((stamp, value) for _ in range(N))),
         asp.process_stream(callback, future=live()),
         asp.timer(timedelta(milliseconds=1), lambda t: asp.call_later(0, later, value), T0,
                   timedelta(seconds=N // 1000))], T0, clock=clock)
    gc.collect()
    after = (sys.getrefcount(value), sys.getrefcount(stamp), sys.getrefcount(callback),
             sys.getrefcount(async_callback), sys.getrefcount(later))
    assert after == before


def test_memory_does_not_grow_with_events():
    def one_run():
        run([asp.process_stream(lambda t, v: None, ((T0 + timedelta(microseconds=k), k)
                                                   for k in range(N)))], T0)

    one_run()  # caches, first-time allocations
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        one_run()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    # One leaked object per event would be 100,000 objects: megabytes.
    assert grown < 64 * 1024
