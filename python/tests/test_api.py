"""Every name of the original's API (python-api.md), in every argument form."""

import asyncio
import inspect
from datetime import datetime, timedelta, timezone

import pytest

import asp
import async_stream_processing
from conftest import NOON, UTC, run

T0 = datetime(2025, 1, 1, 9, 30)  # naive: local time (the tests' zone is UTC)
S = timedelta(seconds=1)


def test_the_two_packages_export_the_same_names():
    names = ["call_later", "now", "run", "sleep", "testing", "process_stream", "timer"]
    assert asp.__all__ == names
    assert async_stream_processing.__all__ == names
    for name in names:
        if name != "testing":
            assert getattr(async_stream_processing, name) is getattr(asp, name)
    # Each package has its own `testing` module (the original's has one); the names in them
    # are the same objects.
    for name in ["timestamps", "create_async_generator"]:
        assert getattr(async_stream_processing.testing, name) is getattr(asp.testing, name)


def test_run_is_a_coroutine_function_that_returns_none():
    assert inspect.iscoroutinefunction(asp.run)
    assert run([]) is None


def test_run_takes_any_coroutine_and_any_iterable_of_work():
    seen = []

    async def one(label):
        seen.append((label, asp.now()))

    run((one(n) for n in "ab"), T0)
    assert seen == [("a", T0), ("b", T0)]


def test_run_without_start_time_starts_at_the_first_past_event(clock):
    seen = []
    run([asp.process_stream(lambda t, v: seen.append((asp.now(), t, v)), [(T0, 1), (T0 + S, 2)])],
        clock=clock)
    assert seen == [(T0, T0, 1), (T0 + S, T0 + S, 2)]


def test_run_without_start_time_or_past_starts_at_the_real_time(clock):
    seen = []

    async def job():
        seen.append(asp.now())

    run([job()], clock=clock)
    assert seen == [datetime(2025, 1, 1, 12)]  # naive local: the run had no start_time


def test_run_nests_in_a_running_asyncio_loop():
    seen = []

    async def main():
        await asp.run([asp.process_stream(lambda t, v: seen.append(v), [(T0, "x")])], T0)
        seen.append("after")

    asyncio.run(main())
    assert seen == ["x", "after"]


def test_process_stream_arguments_by_keyword_and_position():
    seen = []
    past = [(T0, 1), (T0 + S, 2)]
    run([asp.process_stream(lambda t, v: seen.append(("pos", t, v)), past),
         asp.process_stream(callback=lambda t, v: seen.append(("kw", t, v)), past=iter(past))], T0)
    assert seen == [("pos", T0, 1), ("kw", T0, 1), ("pos", T0 + S, 2), ("kw", T0 + S, 2)]


def test_process_stream_takes_lazy_and_endless_pasts():
    seen = []

    def endless():
        yield from zip(asp.testing.timestamps(T0, S), range(10**9))

    async def stop_after_three():
        await asp.sleep(2.5)
        raise SystemExit("enough")

    with pytest.raises(SystemExit):
        run([asp.process_stream(lambda t, v: seen.append(v), endless()), stop_after_three()], T0)
    assert seen == [0, 1, 2]


def test_process_stream_with_an_empty_past_and_no_future_calls_both_hooks():
    seen = []
    run([asp.process_stream(lambda t, v: seen.append(v), [], None,
                            on_start=lambda: seen.append("start"),
                            on_live_start=lambda: seen.append("live"))], T0)
    assert seen == ["start", "live"]


def test_hooks_surround_the_past_and_precede_the_future(clock):
    seen = []

    async def future():
        yield T0 + 10 * S, "live"

    run([asp.process_stream(lambda t, v: seen.append(v), [(T0, "past")], future(),
                            on_start=lambda: seen.append("start"),
                            on_live_start=lambda: seen.append("live start"))], clock=clock)
    assert seen == ["start", "past", "live start", "live"]


def test_unpack_args_and_unpack_kwargs():
    seen = []
    run([asp.process_stream(lambda t, a, b: seen.append((a, b)), [(T0, (1, 2)), (T0, [3, 4])],
                            unpack_args=True),
         asp.process_stream(lambda t, x, y: seen.append({"x": x, "y": y}), [(T0, {"y": 2, "x": 1})],
                            unpack_kwargs=True)], T0)
    assert seen == [(1, 2), {"x": 1, "y": 2}, (3, 4)]


def test_async_callback_is_awaited_before_the_next_event():
    seen = []

    async def slow(t, v):
        seen.append(("in", v, asp.now()))
        await asp.sleep(10)
        seen.append(("out", v, asp.now()))

    run([asp.process_stream(slow, [(T0, 1), (T0 + S, 2)])], T0)
    assert seen == [("in", 1, T0), ("out", 1, T0 + 10 * S), ("in", 2, T0 + 10 * S),
                    ("out", 2, T0 + 20 * S)]


def test_awaiting_a_stream_inside_a_coroutine_waits_for_its_end():
    seen = []

    async def main():
        await asp.process_stream(lambda t, v: seen.append(v), [(T0, 1), (T0 + S, 2)])
        seen.append(("joined", asp.now()))

    run([main()], T0)
    assert seen == [1, 2, ("joined", T0 + S)]


def test_now_has_the_kind_of_start_time():
    seen = []
    aware = datetime(2025, 1, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))

    async def job():
        seen.append(asp.now())

    run([job()], T0)
    run([job()], aware)
    assert seen[0] == T0 and seen[0].tzinfo is None
    assert seen[1] == aware and seen[1].tzinfo == aware.tzinfo and seen[1].hour == 9


def test_now_outside_a_run_raises():
    with pytest.raises(RuntimeError, match=r"asp.now\(\) needs a running ASP engine"):
        asp.now()


@pytest.mark.parametrize("delay, due", [
    (None, T0), (0, T0), (2, T0 + 2 * S), (0.5, T0 + S / 2), (timedelta(minutes=1), T0 + 60 * S),
    (T0 + 3 * S, T0 + 3 * S),
])
def test_call_later_delays(delay, due):
    seen = []

    async def job():
        asp.call_later(delay, lambda t, a, b: seen.append((t, asp.now(), a, b)), "a", "b")

    run([job()], T0)
    assert seen == [(due, due, "a", "b")]


def test_call_later_runs_coroutine_functions_and_coroutine_objects():
    seen = []

    async def fn(t, label):
        await asp.sleep(1)
        seen.append((label, t, asp.now()))

    async def plain():
        seen.append(("object", asp.now()))

    async def job():
        asp.call_later(2, fn, "function")
        asp.call_later(timedelta(seconds=1), plain())

    run([job()], T0)
    assert seen == [("object", T0 + S), ("function", T0 + 2 * S, T0 + 3 * S)]


def test_call_later_into_the_past_runs_next_with_now_unchanged():
    seen = []

    async def job():
        await asp.sleep(10)
        asp.call_later(T0, lambda t: seen.append((t, asp.now())))

    run([job()], T0)
    assert seen == [(T0, T0 + 10 * S)]


@pytest.mark.parametrize("delay, woke", [
    (1, T0 + S), (0.25, T0 + S / 4), (timedelta(hours=1), T0 + 3600 * S), (T0 + 5 * S, T0 + 5 * S),
    (-3, T0), (T0 - S, T0), (0, T0),
])
def test_sleep_forms(delay, woke):
    seen = []

    async def job():
        await asp.sleep(delay)
        seen.append(asp.now())

    run([job()], T0)
    assert seen == [woke]


def test_timer_ticks_ten_times_for_ten_seconds():
    ticks = []
    run([asp.timer(S, ticks.append, T0, timedelta(seconds=10))], T0)
    assert ticks == [T0 + k * S for k in range(1, 11)]


def test_timer_with_a_datetime_end_stops_after_the_first_tick_at_or_after_it():
    ticks = []
    run([asp.timer(timedelta(seconds=2), ticks.append, T0, T0 + timedelta(seconds=5))], T0)
    assert ticks == [T0 + 2 * S, T0 + 4 * S, T0 + 6 * S]


def test_timer_without_end_runs_until_the_run_stops():
    ticks = []

    def tick(t):
        ticks.append(t)
        if len(ticks) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run([asp.timer(S, tick, T0)], T0)
    assert ticks == [T0 + k * S for k in range(1, 5)]


def test_timer_awaits_a_coroutine_callback_and_calls_one_without_arguments():
    seen = []

    async def tick(t):
        seen.append(("tick", t, asp.now()))
        await asp.sleep(0.5)

    def bare():
        seen.append(("bare", asp.now()))

    run([asp.timer(S, tick, T0, timedelta(seconds=2)), asp.timer(S, bare, T0, T0 + S)], T0)
    assert seen == [("tick", T0 + S, T0 + S), ("bare", T0 + S), ("tick", T0 + 2 * S, T0 + 2 * S)]


def test_timestamps_is_endless():
    stamps = asp.testing.timestamps(T0, S)
    assert [next(stamps) for _ in range(3)] == [T0, T0 + S, T0 + 2 * S]


def test_create_async_generator_outside_a_run_uses_datetime_now():
    async def collect():
        return [v async for v in asp.testing.create_async_generator(["a", "b"], delay=0)]

    got = asyncio.run(collect())
    assert [v for _, v in got] == ["a", "b"]
    assert all(isinstance(t, datetime) for t, _ in got)


def test_create_async_generator_in_a_run_follows_the_run_s_real_clock(clock):
    seen = []
    run([asp.process_stream(lambda t, v: seen.append((t, v)),
                            future=asp.testing.create_async_generator("xyz", delay=0.5))],
        NOON, clock=clock)
    assert seen == [(NOON, "x"), (NOON + S / 2, "y"), (NOON + S, "z")]
    assert clock.now_ns() == asp._engine.to_ns(NOON + 1.5 * S)
