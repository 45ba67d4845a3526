"""The original README's examples, in Python, on a manual clock: their output is exact, and
byte-identical to the C++ examples' golden files (examples/golden/)."""

import asyncio
import os
from datetime import datetime, timedelta
from pathlib import Path

import async_stream_processing as asp
from conftest import NOON, UTC, run

NAMES = ["Jane", "John", "Sarah", "Paul", "Jane"]
GOLDEN = Path(__file__).resolve().parents[2] / "examples" / "golden"


def fmt(t: datetime) -> str:
    return f"{t:%H:%M:%S.%f}"


class Greeter:
    """The README's Greeter; log lines go to `out` (real time, virtual time, event time)."""

    def __init__(self, out):
        self.greeted = set()
        self.out = out

    def log(self, event_time, msg):
        self.out.append(f"{fmt(asp.testing.real_now())} {fmt(asp.now())} {fmt(event_time)} {msg}")

    def greet(self, event_time, name):
        if name not in self.greeted:
            self.log(event_time, f"Hello {name}.")
            self.greeted.add(name)
        else:
            self.log(event_time, f"Hello again {name}!")

    def greet_later(self, event_time, name):
        self.log(event_time, f"{name} arrived.")
        asp.call_later(event_time + timedelta(seconds=1), self.greet, name)

    async def sleep_and_greet(self, event_time, name):
        self.log(event_time, f"{name} arrived.")
        delay = timedelta(seconds=5)
        await asp.sleep(delay)
        self.greet(event_time + delay, name)


def golden(name):
    return (GOLDEN / name).read_text().splitlines()


def test_processing_past_events():
    out = []
    greeter = Greeter(out)
    start_time = datetime(2025, 1, 1)
    past_queue = zip(asp.testing.timestamps(start_time, timedelta(seconds=1)), NAMES)
    clock = asp.testing.ManualClock(NOON)
    run([asp.process_stream(callback=greeter.greet, past=past_queue)], start_time, clock=clock)
    assert out == [
        "12:00:00.000000 00:00:00.000000 00:00:00.000000 Hello Jane.",
        "12:00:00.000000 00:00:01.000000 00:00:01.000000 Hello John.",
        "12:00:00.000000 00:00:02.000000 00:00:02.000000 Hello Sarah.",
        "12:00:00.000000 00:00:03.000000 00:00:03.000000 Hello Paul.",
        "12:00:00.000000 00:00:04.000000 00:00:04.000000 Hello again Jane!",
    ]
    assert clock.advances == 0  # all of it was the past: no waiting


def test_processing_real_time_events(clock):
    out = []
    greeter = Greeter(out)
    live_queue = asp.testing.create_async_generator(NAMES, delay=1)
    run([asp.process_stream(callback=greeter.greet, future=live_queue)], clock=clock)
    assert out == golden("02_real_time_events.txt")


def history_then_live(greeter, callback, clock, out):
    start = datetime(2025, 1, 1, 12) - timedelta(seconds=60)  # naive local (TZ=UTC)
    past_queue = zip(asp.testing.timestamps(start, delay=timedelta(seconds=1)), NAMES[:2])
    live_queue = asp.testing.create_async_generator(NAMES[2:], delay=1)
    run([asp.process_stream(callback=callback, past=past_queue, future=live_queue,
                            on_live_start=lambda: out.append("** Running live **"))],
        clock=clock)


def test_traveling_through_time(clock):
    out = []
    greeter = Greeter(out)
    start = datetime(2025, 1, 1, 12) - timedelta(seconds=60)
    past_queue = zip(asp.testing.timestamps(start, delay=timedelta(seconds=1)), NAMES[:2])
    live_queue = asp.testing.create_async_generator(NAMES[:2], delay=1)
    run([asp.process_stream(callback=greeter.greet, past=past_queue, future=live_queue,
                            on_live_start=lambda: out.append("** Running live **"))],
        clock=clock)
    assert out == golden("03_traveling_through_time.txt")


def test_scheduling_callbacks(clock):
    out = []
    greeter = Greeter(out)
    history_then_live(greeter, greeter.greet_later, clock, out)
    assert out == golden("04_scheduling_callbacks.txt")


def test_pausing_execution(clock):
    out = []
    greeter = Greeter(out)
    history_then_live(greeter, greeter.sleep_and_greet, clock, out)
    assert out == golden("05_pausing_execution.txt")


async def say_hello_with(greeter):
    greeter.log(asp.now(), "sleeping for 1 second")
    await asp.sleep(1)
    greeter.log(asp.now(), "hello")


def test_executing_arbitrary_coroutines(clock):
    """The README's code: five ticks due a minute before the run starts (it starts at the real
    time, having no past events). Each runs at once, with now() at the start, and the stream of
    ticks waits for each coroutine callback: the ticks follow each other a second apart."""
    out = []
    greeter = Greeter(out)
    run([asp.timer(timedelta(seconds=1), lambda: say_hello_with(greeter),
                   start_time=datetime(2025, 1, 1, 12) - timedelta(seconds=60),
                   end_time=timedelta(seconds=5))], clock=clock)
    expected = []
    for second in range(5):
        expected.append(f"12:00:0{second}.000000 12:00:0{second}.000000 12:00:0{second}.000000 "
                        "sleeping for 1 second")
        expected.append(f"12:00:0{second + 1}.000000 12:00:0{second + 1}.000000 "
                        f"12:00:0{second + 1}.000000 hello")
    assert out == expected


def test_one_live_tick(clock):
    """What the README's output shows: one tick, live; as the C++ example 06."""
    out = []
    greeter = Greeter(out)
    start = datetime(2025, 1, 1, 11, 59, 59)
    run([asp.timer(timedelta(seconds=1), lambda: say_hello_with(greeter), start_time=start,
                   end_time=timedelta(seconds=1))], clock=clock)
    assert out == golden("06_timer.txt")
