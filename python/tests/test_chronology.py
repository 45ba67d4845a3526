"""The clock contract (docs/contract.md), from Python: each rule with exact values."""

import asyncio
import time
from datetime import datetime, timedelta

import pytest

import asp
from conftest import NOON, UTC, run

T0 = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
S = timedelta(seconds=1)


def test_c1_now_never_decreases_across_streams_timers_and_sleeps(clock):
    readings = []

    def record(*_):
        readings.append(asp.now())

    async def sleeper():
        for delay in (3, -1, 0, 2.5):
            await asp.sleep(delay)
            record()
            asp.call_later(T0, record)  # into the past: runs next, now unchanged

    run([asp.process_stream(record, [(T0 + k * S, k) for k in range(5)]),
         asp.process_stream(record, [(T0 - 10 * S, "early"), (T0 + 2 * S, "b")]),
         asp.timer(S / 2, record, T0, T0 + 3 * S), sleeper()], T0, clock=clock)
    assert len(readings) == 5 + 2 + 6 + 8
    assert readings == sorted(readings)


def test_c2_equal_times_run_in_the_order_they_were_scheduled():
    seen = []

    async def job():
        for label in "abc":
            asp.call_later(T0 + S, lambda t, x: seen.append(x), label)

    run([asp.process_stream(lambda t, v: seen.append(v), [(T0 + S, "s1")]),
         asp.process_stream(lambda t, v: seen.append(v), [(T0 + S, "s2")]), job()], T0)
    assert seen == ["s1", "s2", "a", "b", "c"]


def test_c3_events_before_the_start_keep_their_order_and_run_at_the_start():
    seen = []
    a = [(T0 - 3 * S, "a1"), (T0 - S, "a2"), (T0 + S, "a3")]
    b = [(T0 - 2 * S, "b1"), (T0, "b2")]
    run([asp.process_stream(lambda t, v: seen.append((v, t, asp.now())), a),
         asp.process_stream(lambda t, v: seen.append((v, t, asp.now())), b)], T0)
    assert seen == [("a1", T0 - 3 * S, T0), ("b1", T0 - 2 * S, T0), ("a2", T0 - S, T0),
                    ("b2", T0, T0), ("a3", T0 + S, T0 + S)]


def test_c3_compute_time_does_not_leak_into_now():
    seen = []

    def busy(t, v):
        deadline = time.perf_counter() + 0.005
        while time.perf_counter() < deadline:
            pass
        seen.append(asp.now() - t)

    run([asp.process_stream(busy, [(T0 + k * S, k) for k in range(3)])])
    assert seen == [timedelta(0)] * 3


def test_c3_nanoseconds_are_kept_inside_the_engine():
    seen = []

    async def job():
        for _ in range(1000):
            await asp.sleep(1e-9)
        seen.append(asp._engine.now_ns())

    run([job()], T0)
    assert seen == [asp._engine.to_ns(T0) + 1000]


def test_c4_the_past_runs_without_waiting(clock):
    run([asp.process_stream(lambda t, v: None, [(NOON - timedelta(days=1) + k * S, k)
                                                for k in range(1000)])], clock=clock)
    assert clock.advances == 0
    assert clock.now_ns() == asp._engine.to_ns(NOON)


def test_c4_work_ahead_of_the_real_clock_waits_for_it(clock):
    seen = []

    async def job():
        await asp.sleep(NOON + 90 * S)
        seen.append((asp.now(), asp.testing.real_now()))

    run([job()], NOON - 60 * S, clock=clock)
    assert seen == [(NOON + 90 * S, NOON + 90 * S)]
    assert clock.advances == 1


def test_c5_timers_of_past_events_fire_before_live_events(clock):
    seen = []

    def on_event(t, v):
        seen.append(("event", v, asp.now()))
        asp.call_later(t + 30 * S, lambda due: seen.append(("timer", v, asp.now())))

    async def live():
        yield NOON, "live"

    run([asp.process_stream(on_event, [(NOON - 60 * S, "past")], live())], clock=clock)
    assert seen == [("event", "past", NOON - 60 * S), ("timer", "past", NOON - 30 * S),
                    ("event", "live", NOON), ("timer", "live", NOON + 30 * S)]


def test_c6_a_live_event_stamped_before_now_runs_at_now_with_its_own_time(clock):
    seen = []

    async def live():
        yield NOON - 5 * S, "late"

    async def ahead():
        await asp.sleep(NOON)

    run([asp.process_stream(lambda t, v: seen.append((v, t, asp.now())), future=live())],
        NOON, clock=clock)
    assert seen == [("late", NOON - 5 * S, NOON)]


def test_c6_a_live_event_is_due_at_its_arrival_not_at_the_time_it_carries(clock):
    seen = []

    async def live():
        yield NOON + timedelta(hours=1), "stamped ahead"

    run([asp.process_stream(lambda t, v: seen.append((v, t, asp.now())),
                            [(NOON - S, "past")], live())], clock=clock)
    assert seen == [("past", NOON - S, NOON - S), ("stamped ahead", NOON + timedelta(hours=1), NOON)]
    assert clock.advances == 0  # nothing waited for the hour


def test_c6_live_input_waits_for_its_turn_behind_the_replay(clock):
    """An asyncio future completed while history replays resumes its coroutine at its arrival
    (the real clock), after every past event due before it."""
    seen = []
    fut_box = []

    async def waiter():
        fut = asyncio.get_running_loop().create_future()
        fut_box.append(fut)
        asyncio.get_running_loop().call_soon(fut.set_result, "input")
        got = await fut
        seen.append((got, asp.now()))

    run([waiter(), asp.process_stream(lambda t, v: seen.append((v, asp.now())),
                                      [(NOON - 2 * S, "p1"), (NOON - S, "p2"), (NOON + S, "p3")])],
        clock=clock)
    assert seen == [("p1", NOON - 2 * S), ("p2", NOON - S), ("input", NOON), ("p3", NOON + S)]


def test_c7_on_live_start_fires_once_between_past_and_future(clock):
    seen = []

    async def live():
        for k in range(2):
            yield NOON + k * S, f"live{k}"

    run([asp.process_stream(lambda t, v: seen.append(v), [(NOON - S, "past")], live(),
                            on_live_start=lambda: seen.append("LIVE"))], clock=clock)
    assert seen == ["past", "LIVE", "live0", "live1"]


def test_c8_a_sleeping_callback_delays_only_its_own_stream():
    seen = []

    async def slow(t, v):
        await asp.sleep(5)
        seen.append(("slow", v, asp.now()))

    run([asp.process_stream(slow, [(T0, 1), (T0 + S, 2)]),
         asp.process_stream(lambda t, v: seen.append(("fast", v, asp.now())),
                            [(T0 + k * S, k) for k in range(3)])], T0)
    assert seen == [("fast", 0, T0), ("fast", 1, T0 + S), ("fast", 2, T0 + 2 * S),
                    ("slow", 1, T0 + 5 * S), ("slow", 2, T0 + 10 * S)]


def test_c9_pacing_replays_at_a_rate_of_the_original_speed(clock):
    seen = []
    run([asp.process_stream(lambda t, v: seen.append((v, asp.testing.real_now())),
                            [(NOON - 100 * S + k * S, k) for k in range(5)])],
        clock=clock, rate=4.0)
    # Four events after the first, a second apart each, at 4× speed: a quarter second each.
    assert seen == [(k, NOON + k * S / 4) for k in range(5)]


def test_c10_the_run_is_a_host_driven_poll_inside_asyncio():
    """Other asyncio work runs while the engine waits for its next deadline."""
    seen = []

    async def other():
        for k in range(3):
            seen.append(("asyncio", k))
            await asyncio.sleep(0)

    async def main():
        task = asyncio.ensure_future(other())
        now = datetime.now(UTC)
        await asp.run([asp.process_stream(lambda t, v: seen.append(("asp", v)),
                                          future=one_live(now + timedelta(milliseconds=20)))])
        await task

    async def one_live(at):
        await asyncio.sleep(0.02)
        yield at, "live"

    asyncio.run(main())
    assert seen.index(("asp", "live")) == 3
    assert sorted(seen[:3]) == [("asyncio", 0), ("asyncio", 1), ("asyncio", 2)]
