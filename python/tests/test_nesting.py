"""asp.run nested in asyncio with real asyncio work beside it and inside it."""

import asyncio
from datetime import datetime, timedelta

import pytest

import asp
from conftest import NOON, UTC

T0 = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.mark.asyncio
async def test_awaited_in_a_running_loop_of_pytest_asyncio():
    seen = []
    await asp.run([asp.process_stream(lambda t, v: seen.append((v, asp.now())), [(T0, "a")])], T0)
    assert seen == [("a", T0)]


@pytest.mark.asyncio
async def test_a_live_async_generator_on_the_real_clock_fed_by_an_asyncio_task():
    queue = asyncio.Queue()

    async def producer():
        for k in range(5):
            await asyncio.sleep(0.005)
            await queue.put(k)
        await queue.put(None)

    async def feed():
        while (item := await queue.get()) is not None:
            yield datetime.now(UTC), item

    seen = []
    readings = []
    past_time = datetime.now(UTC) - timedelta(minutes=1)

    def on_event(t, v):
        seen.append(v)
        readings.append(asp.now())

    task = asyncio.ensure_future(producer())
    await asp.run([asp.process_stream(on_event, [(past_time, "past")], feed(),
                                      on_live_start=lambda: seen.append("live"))])
    await task
    assert seen == ["past", "live", 0, 1, 2, 3, 4]
    assert readings[0] == past_time and readings == sorted(readings)


@pytest.mark.asyncio
async def test_two_runs_side_by_side_keep_their_own_clocks():
    seen = []

    async def ticker(label, start):
        for _ in range(3):
            await asp.sleep(1)
            seen.append((label, asp.now() - start))
            await asyncio.sleep(0)  # real asyncio work: the other run goes on meanwhile

    other = datetime(2020, 6, 1, tzinfo=UTC)
    await asyncio.gather(asp.run([ticker("a", T0)], T0), asp.run([ticker("b", other)], other))
    assert sorted(seen) == [("a", k * S) for k in (1, 2, 3)] + [("b", k * S) for k in (1, 2, 3)]


def test_asyncio_gather_and_wait_for_inside_an_asp_coroutine(clock):
    seen = []

    async def real(k):
        await asyncio.sleep(0)
        return k * 10

    async def job():
        results = await asyncio.gather(real(1), real(2))
        seen.append((results, asp.now()))
        value = await asyncio.wait_for(real(3), timeout=5)
        seen.append((value, asp.now()))
        await asp.sleep(2)
        seen.append(("slept", asp.now()))

    asyncio.run(asp.run([job()], NOON, clock=clock))
    assert seen == [([10, 20], NOON), (30, NOON), ("slept", NOON + 2 * S)]
