"""Failures: user exceptions surface from `await asp.run(...)` with their own traceback and a
note saying where and when; bad arguments say which and why; cancellation stops cleanly."""

import asyncio
import traceback
from datetime import datetime, timedelta

import pytest

import asp
from conftest import NOON, UTC, run

T0 = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
S = timedelta(seconds=1)


class Boom(Exception):
    pass


def notes(error):
    return getattr(error, "__notes__", [])


def test_a_callback_s_exception_propagates_with_its_traceback_and_a_note():
    def on_price(t, v):
        if v == 2:
            raise Boom(f"bad price {v}")

    with pytest.raises(Boom, match="bad price 2") as caught:
        run([asp.process_stream(on_price, [(T0 + k * S, k) for k in range(5)])], T0)
    assert notes(caught.value) == [
        "asp: raised in stream 'test_a_callback_s_exception_propagates_with_its_traceback_and_a_"
        "note.<locals>.on_price', event #2 (2025-01-01T09:30:02.000000000Z) at virtual time "
        "2025-01-01T09:30:02.000000000Z"]
    frames = [f.name for f in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "on_price"


def test_a_named_stream_and_an_async_callback():
    async def slow(t, v):
        await asp.sleep(1)
        raise Boom("late")

    with pytest.raises(Boom) as caught:
        run([asp.process_stream(slow, [(T0, 1)], name="quotes")], T0)
    assert notes(caught.value) == [
        "asp: raised in stream 'quotes', event #0 (2025-01-01T09:30:00.000000000Z) at virtual "
        "time 2025-01-01T09:30:01.000000000Z"]


def test_a_coroutine_s_exception_names_the_task():
    async def worker():
        await asp.sleep(3)
        raise Boom("worker failed")

    with pytest.raises(Boom) as caught:
        run([worker()], T0)
    assert notes(caught.value) == [
        "asp: raised in task 'test_a_coroutine_s_exception_names_the_task.<locals>.worker' at "
        "virtual time 2025-01-01T09:30:03.000000000Z"]


def test_a_call_later_callback_s_exception_names_it_and_its_due_time():
    def alarm(t):
        raise Boom("alarm")

    async def job():
        asp.call_later(5, alarm)

    with pytest.raises(Boom) as caught:
        run([job()], T0)
    assert notes(caught.value)[0] == (
        "asp: raised in call_later callback 'test_a_call_later_callback_s_exception_names_it_and_"
        "its_due_time.<locals>.alarm' due at 2025-01-01T09:30:05.000000000Z")


def test_hooks_fail_with_the_stream_s_name():
    def on_live():
        raise Boom("hook")

    with pytest.raises(Boom) as caught:
        run([asp.process_stream(lambda t, v: None, [(T0, 1)], on_live_start=on_live, name="s")], T0)
    assert notes(caught.value) == ["asp: raised in stream 's', on_live_start at virtual time "
                                   "2025-01-01T09:30:00.000000000Z"]


def test_the_run_stops_at_the_first_failure_and_loses_what_ran_before():
    seen = []

    def fail_at_two(t, v):
        seen.append(v)
        if v == 2:
            raise Boom()

    with pytest.raises(Boom):
        run([asp.process_stream(fail_at_two, [(T0 + k * S, k) for k in range(5)]),
             asp.process_stream(lambda t, v: seen.append(v), [(T0 + k * S, f"b{k}")
                                                              for k in range(5)])], T0)
    assert seen == [0, "b0", 1, "b1", 2]


def test_an_event_that_is_not_a_pair_is_a_type_error_with_its_index():
    with pytest.raises(TypeError) as caught:
        run([asp.process_stream(lambda t, v: None, [(T0, 1), (T0 + S, 2), "oops"], name="q")], T0)
    assert str(caught.value) == ("asp.process_stream: past event #2 of stream 'q' is 'oops': not "
                                 "a (datetime, value) pair")


def test_an_event_time_that_is_not_a_datetime_is_a_type_error_with_its_index():
    with pytest.raises(TypeError) as caught:
        run([asp.process_stream(lambda t, v: None, [(1700000000, 1)], name="q")], T0)
    assert str(caught.value) == ("asp.process_stream: past event #0 of stream 'q' is (1700000000,"
                                 " 1): its time is a int, not a datetime")


def test_a_live_event_that_is_not_a_pair_is_a_type_error_with_its_index(clock):
    async def live():
        yield NOON, 1
        yield NOON, 2, 3

    with pytest.raises(TypeError, match=r"live event #1 of stream 'q' is \(.*\): not a "
                                        r"\(datetime, value\) pair"):
        run([asp.process_stream(lambda t, v: None, future=live(), name="q")], clock=clock)


def test_events_out_of_order_are_a_value_error_naming_the_stream_and_times():
    with pytest.raises(ValueError) as caught:
        run([asp.process_stream(lambda t, v: None, [(T0 + S, 1), (T0, 2)], name="q")], T0)
    assert str(caught.value) == (
        "asp: stream 'q', event #1 (2025-01-01T09:30:00.000000000Z), at virtual time "
        "2025-01-01T09:30:01.000000000Z: out of order: earlier than event #0 "
        "(2025-01-01T09:30:01.000000000Z)")


@pytest.mark.parametrize("policy, delivered", [("clamp", [(1, T0 + S), (2, T0 + S), (3, T0 + 2 * S)]),
                                               ("skip", [(1, T0 + S), (3, T0 + 2 * S)])])
def test_out_of_order_policies(policy, delivered):
    seen = []
    run([asp.process_stream(lambda t, v: seen.append((v, t)), [(T0 + S, 1), (T0, 2), (T0 + 2 * S, 3)],
                            out_of_order=policy)], T0)
    assert seen == delivered


@pytest.mark.parametrize("call, error, message", [
    (lambda: asp.process_stream(42), TypeError, "callback must be callable, got int"),
    (lambda: asp.process_stream(print, past=7), TypeError, "past must be an iterable"),
    (lambda: asp.process_stream(print, future=[1]), TypeError, "future must be an async iterable"),
    (lambda: asp.process_stream(print, on_start=1), TypeError, "on_start must be callable or None"),
    (lambda: asp.process_stream(print, unpack_args=True, unpack_kwargs=True), ValueError,
     "exclude each other"),
    (lambda: asp.process_stream(print, out_of_order="sometimes"), ValueError,
     "out_of_order must be 'fail', 'clamp' or 'skip'"),
    (lambda: asp.timer(timedelta(0), print, T0), ValueError, "step must be positive"),
    (lambda: asp.timer("1s", print, T0), TypeError,
     "asp.timer: step: expected a timedelta or a number of seconds, got str"),
    (lambda: asp.timer(S, print, "now"), TypeError, "asp.timer: start_time: expected a datetime"),
    (lambda: asp.sleep("soon"), TypeError, "asp.sleep: delay: expected a timedelta or a number"),
    (lambda: asp.sleep(float("nan")), ValueError, "not a finite duration"),
    (lambda: asp.call_later(1, print), RuntimeError, "needs a running ASP engine"),
    (lambda: asyncio.run(asp.run([42])), TypeError, "expected coroutine objects"),
    (lambda: asyncio.run(asp.run([], clock="manual")), TypeError, "clock must be an asp.testing"),
    (lambda: asyncio.run(asp.run([], rate=0)), ValueError, "rate must be positive"),
    (lambda: asyncio.run(asp.run([], datetime(1600, 1, 1))), ValueError,
     "outside the range of ASP's nanosecond clock"),
])
def test_bad_arguments_say_which_and_why(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_call_later_with_a_non_callable_says_so():
    async def job():
        asp.call_later(1, 42)

    with pytest.raises(TypeError, match="func_or_coroutine must be callable or a coroutine "
                                        "object, got int"):
        run([job()], T0)


def test_work_runs_once():
    stream = asp.process_stream(lambda t, v: None, [(T0, 1)], name="once")
    run([stream], T0)
    with pytest.raises(ValueError, match="stream 'once' has already been started"):
        run([stream], T0)


def test_awaiting_asp_sleep_outside_a_run_says_so():
    with pytest.raises(RuntimeError, match=r"asp.sleep\(\) must be awaited in a coroutine"):
        asyncio.run(asp.sleep(1).__await__().__next__())


def test_keyboard_interrupt_in_a_callback_stops_the_run():
    def interrupt(t, v):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run([asp.process_stream(interrupt, [(T0, 1)])], T0)


def test_cancelling_the_run_stops_it_and_closes_its_coroutines(clock):
    seen = []

    async def forever():
        try:
            await asyncio.get_running_loop().create_future()  # never completes
        finally:
            seen.append("closed")

    async def main():
        task = asyncio.ensure_future(asp.run([forever()], clock=clock))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        seen.append("cancelled")

    asyncio.run(main())
    assert seen == ["closed", "cancelled"]


def test_an_asyncio_future_s_exception_is_raised_inside_the_coroutine(clock):
    seen = []

    async def job():
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(fut.set_exception, Boom("from asyncio"))
        try:
            await fut
        except Boom as e:
            seen.append(str(e))

    run([job()], clock=clock)
    assert seen == ["from asyncio"]


def test_yielding_something_unknown_fails_the_task():
    class Odd:
        def __await__(self):
            yield "odd"

    async def job():
        await Odd()

    with pytest.raises(TypeError, match="a coroutine yielded 'odd'"):
        run([job()], T0)
