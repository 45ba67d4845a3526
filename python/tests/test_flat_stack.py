"""The stack stays flat: work that completes without suspending nests nothing, however much of it.

A Python async generator that yields without awaiting and a coroutine callback that never
awaits are driven by C++ tasks that complete at once; 200,000 of them in a row would overflow
the C++ stack of a Debug or sanitizer build if each nested the next.
"""

from datetime import timedelta

from conftest import NOON, run

import asp

N = 200_000
US = timedelta(microseconds=1)


def test_an_async_generator_that_never_awaits_as_the_live_source(clock):
    total = 0

    async def feed():
        for k in range(N):
            yield NOON - timedelta(hours=1) + k * US, k

    def add(t, v):
        nonlocal total
        total += v

    run([asp.process_stream(add, [], feed())], clock=clock)
    assert total == N * (N - 1) // 2


def test_a_coroutine_callback_that_never_awaits_over_the_past(clock):
    total = 0
    last = None

    async def add(t, v):
        nonlocal total, last
        total += v
        last = asp.now()

    start = NOON - timedelta(hours=1)
    run([asp.process_stream(add, [(start + k * US, k) for k in range(N)])], clock=clock)
    assert total == N * (N - 1) // 2
    assert last == start + (N - 1) * US


def test_a_coroutine_that_sleeps_zero_in_a_loop(clock):
    results = []

    async def main():
        total = 0
        for k in range(N):
            await asp.sleep(0)
            total += k
        results.append((total, asp.now()))

    run([main()], NOON, clock=clock)
    assert results == [(N * (N - 1) // 2, NOON)]
