"""asyncio.create_task, ensure_future and gather inside a run: process_stream(...), timer(...)
and coroutines become tasks of the run, on the virtual clock, as they were in the original's
asyncio programs."""

import asyncio
from datetime import datetime, timedelta

import pytest

import asp
from conftest import NOON, UTC, run

S = timedelta(seconds=1)
T0 = datetime(2020, 3, 2, 9, 30, tzinfo=UTC)  # long before the manual clock's noon: the past


def events(label, seconds):
    return [(T0 + k * S, f"{label}{k}") for k in seconds]


def test_gather_of_streams_interleaves_them_and_resumes_at_the_last_event(clock):
    seen = []

    def on(t, v):
        seen.append((v, asp.now() - T0))

    async def main():
        results = await asyncio.gather(asp.process_stream(on, events("a", [1, 4])),
                                       asp.process_stream(on, events("b", [2, 3, 7])))
        seen.append((results, asp.now() - T0))
        await asp.sleep(1)
        seen.append(("slept", asp.now() - T0))

    run([main()], T0, clock=clock)
    assert seen == [("a1", 1 * S), ("b2", 2 * S), ("b3", 3 * S), ("a4", 4 * S), ("b7", 7 * S),
                    ([None, None], 7 * S), ("slept", 8 * S)]
    assert clock.advances == 0  # all of it in the past: the manual clock never moved


def test_create_task_runs_beside_the_coroutine_that_made_it(clock):
    seen = []

    async def main():
        task = asyncio.create_task(
            asp.process_stream(lambda t, v: seen.append((v, asp.now() - T0)),
                               events("s", [1, 2, 3, 4])))
        assert isinstance(task, asyncio.Future) and not task.done()
        await asp.sleep(2.5)
        seen.append(("main", asp.now() - T0))
        await task
        seen.append(("joined", asp.now() - T0, task.done(), task.result()))

    run([main()], T0, clock=clock)
    assert seen == [("s1", 1 * S), ("s2", 2 * S), ("main", 2.5 * S), ("s3", 3 * S),
                    ("s4", 4 * S), ("joined", 4 * S, True, None)]


def test_coroutines_made_into_tasks_sleep_on_the_virtual_clock(clock):
    async def worker(k):
        await asp.sleep(k)
        return k * 10, asp.now() - T0

    async def main():
        first = asyncio.ensure_future(worker(3))
        results = await asyncio.gather(worker(2), worker(1))
        after_gather = asp.now() - T0
        return results, after_gather, await first, asp.now() - T0

    out = []

    async def outer():
        out.append(await main())

    run([outer()], T0, clock=clock)
    assert out == [([(20, 2 * S), (10, 1 * S)], 2 * S, (30, 3 * S), 3 * S)]


def test_a_task_made_in_a_stream_callback_starts_at_the_events_time(clock):
    seen = []

    async def alarm(label):
        await asp.sleep(10)
        seen.append((label, asp.now() - T0))

    def on(t, v):
        seen.append((v, asp.now() - T0))
        asyncio.create_task(alarm("alarm-" + v))

    run([asp.process_stream(on, events("e", [1, 5, 20]))], T0, clock=clock)
    assert seen == [("e1", 1 * S), ("e5", 5 * S), ("alarm-e1", 11 * S), ("alarm-e5", 15 * S),
                    ("e20", 20 * S), ("alarm-e20", 30 * S)]


def test_cancelling_a_timer_task_stops_its_ticks(clock):
    ticks = []
    seen = []

    async def main():
        task = asyncio.create_task(asp.timer(S, lambda t: ticks.append(t - T0), T0))
        await asp.sleep(3.5)
        assert task.cancel()
        assert not task.cancel()  # once
        try:
            await task
        except asyncio.CancelledError:
            seen.append(("cancelled", asp.now() - T0, task.cancelled()))
        await asp.sleep(2)
        seen.append(("end", asp.now() - T0))

    run([main()], T0, clock=clock)
    assert ticks == [1 * S, 2 * S, 3 * S]
    assert seen == [("cancelled", 3.5 * S, True), ("end", 5.5 * S)]


def test_a_task_that_cancels_itself_stops_at_its_next_step(clock):
    seen = []

    async def selfish():
        me = current[0]
        seen.append("before")
        me.cancel()
        seen.append("after cancel, same step")
        await asp.sleep(1)
        seen.append("never")

    current = []

    async def main():
        current.append(asyncio.create_task(selfish()))
        with pytest.raises(asyncio.CancelledError):
            await current[0]
        seen.append(("main", asp.now() - T0))

    run([main()], T0, clock=clock)
    assert seen == ["before", "after cancel, same step", ("main", 0 * S)]


def test_a_failing_coroutine_task_raises_in_its_awaiter_with_a_note(clock):
    async def bad():
        await asp.sleep(3)
        raise KeyError("x3")

    caught = []

    async def main():
        task = asyncio.create_task(bad())
        try:
            await task
        except KeyError as error:
            caught.append((error.args, asp.now() - T0, error.__notes__))

    run([main()], T0, clock=clock)
    ((args, at, notes),) = caught
    assert args == ("x3",) and at == 3 * S
    assert notes == ["asp: raised in task "
                     "'test_a_failing_coroutine_task_raises_in_its_awaiter_with_a_note.<locals>.bad'"
                     " at virtual time 2020-03-02T09:30:03.000000000Z"]


def test_a_failing_stream_in_a_task_fails_the_run_as_any_stream_does(clock):
    def bad(t, v):
        raise KeyError(v)

    async def main():
        task = asyncio.create_task(asp.process_stream(bad, events("x", [3]), name="bad"))
        await task

    with pytest.raises(KeyError) as caught:
        run([main()], T0, clock=clock)
    assert caught.value.__notes__ == [
        "asp: raised in stream 'bad', event #0 (2020-03-02T09:30:03.000000000Z) at virtual time "
        "2020-03-02T09:30:03.000000000Z"]


def test_gather_with_return_exceptions_collects_a_failure(clock):
    async def fails():
        await asp.sleep(1)
        raise ValueError("no")

    async def fine():
        await asp.sleep(2)
        return "yes"

    out = []

    async def main():
        results = await asyncio.gather(fails(), fine(), return_exceptions=True)
        out.append(([type(r).__name__ if isinstance(r, Exception) else r for r in results],
                    asp.now() - T0))

    run([main()], T0, clock=clock)
    assert out == [(["ValueError", "yes"], 2 * S)]


def test_gather_resumes_at_the_first_failure(clock):
    async def fails():
        await asp.sleep(1)
        raise ValueError("first")

    async def slow():
        await asp.sleep(5)

    out = []

    async def main():
        try:
            await asyncio.gather(fails(), slow())
        except ValueError as error:
            out.append((str(error), asp.now() - T0))

    run([main()], T0, clock=clock)
    # The run goes on until the slow task ends: its tasks are the run's.
    assert out == [("first", 1 * S)]


def test_the_run_waits_for_tasks_nobody_awaits(clock):
    ticks = []

    async def main():
        asyncio.create_task(asp.timer(S, lambda t: ticks.append(t - T0), T0, 3 * S))

    run([main()], T0, clock=clock)
    assert ticks == [1 * S, 2 * S, 3 * S]


def test_work_started_twice_fails_its_task():
    stream = asp.process_stream(lambda t, v: None, events("a", [1]))

    async def main():
        first = asyncio.create_task(stream)
        second = asyncio.create_task(stream)
        await first
        with pytest.raises(ValueError, match="already been started"):
            await second

    run([main()], T0)


def test_asyncio_tasks_outside_runs_are_asyncio_tasks():
    async def plain():
        return 5

    async def main():
        task = asyncio.create_task(plain())
        assert type(task) is asyncio.Task
        assert await task == 5
        with pytest.raises(TypeError):
            asyncio.create_task(asp.process_stream(lambda t, v: None, []))

    asyncio.run(main())


def test_the_factory_is_restored_after_side_by_side_runs():
    async def main():
        aloop = asyncio.get_running_loop()
        before = aloop.get_task_factory()

        async def short():
            await asp.sleep(1)

        await asyncio.gather(asp.run([short()], T0), asp.run([short()], T0))
        assert aloop.get_task_factory() is before

    asyncio.run(main())
