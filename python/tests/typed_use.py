"""Every public name of asp and async_stream_processing, used as a program would: mypy --strict
checks this file against the packages' annotations and stubs (ctest python.mypy_strict). It is
not a test to run."""

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, List, Optional, Tuple

import asp
import asp.data
import asp.io
import asp.nats
import asp.processor
import asp.testing
import async_stream_processing
import async_stream_processing.processor
import async_stream_processing.testing
from asp import call_later, now, process_stream, run, sleep, timer
from async_stream_processing.testing import create_async_generator, timestamps

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
version: str = asp.__version__ + async_stream_processing.__version__


class Counter:
    def __init__(self) -> None:
        self.seen: List[Tuple[datetime, Any]] = []

    def on_event(self, t: datetime, value: Any) -> None:
        self.seen.append((t, value))
        call_later(timedelta(seconds=1), self.later, "x")
        asp.call_later(1.5, self.later, "y")

    def later(self, due: datetime, what: str) -> None:
        self.seen.append((due, what))

    async def slowly(self, t: datetime, value: Any) -> None:
        await sleep(timedelta(milliseconds=5))
        await asp.sleep(0.5)
        self.seen.append((now(), value))

    def tick(self, t: datetime) -> None:
        self.seen.append((t, "tick"))


async def live() -> AsyncIterator[Tuple[datetime, int]]:
    for i in range(2):
        yield asp.testing.real_now(), i
        await asyncio.sleep(0)


async def main(clock: Optional[asp.testing.ManualClock]) -> int:
    c = Counter()
    past = list(zip(timestamps(T0, timedelta(seconds=1)), range(3)))
    columns: List[str] = asp.data.csv_columns("quotes.csv")
    csv = asp.data.read_csv("quotes.csv", time_column="time", times="iso8601", schema="bid:f64",
                            bad_rows="skip")
    log = asp.data.read_log("day.asplog", "quotes", start=T0, end=T0 + timedelta(hours=1))
    day = asp.data.LogFile("day/", start=T0, end=None)
    names: List[str] = day.streams
    where: str = day.path
    trades = day.source(names[0])
    feed = asp.io.tcp("127.0.0.1", 9000, framing="lines", reconnect=True)
    datagrams = asp.io.udp(0, address="127.0.0.1", as_bytes=True)
    socket = asp.io.websocket("ws://127.0.0.1:8080/quotes")
    port: int = datagrams.port
    feed.close()
    asp.nats.add_stream("nats://127.0.0.1:4222", "TRADES", ["trades.>"], allow_direct=False)
    subject: asp.nats.Subject = asp.nats.subject(
        "nats://127.0.0.1:4222", "TRADES", "trades.>", start=T0, times="server",
        start_tolerance=0.5, caught_up_pending=0, stall_timeout=30.0, follow_live=False,
        live_capacity=1024, keep_headers=True, as_bytes=False)
    first: Optional[int] = subject.start_sequence
    publisher = asp.nats.Publisher("nats://127.0.0.1:4222", "results", name="strategy",
                                   max_in_flight=100, message_ids=True, flush_timeout=5.0,
                                   max_attempts=3, retry_for=10.0)

    def on_trade(t: datetime, m: asp.nats.Message) -> None:
        publisher.publish(m.value, subject=m.subject + ".seen", time=t, headers=m.headers)
        publisher.publish(b"raw", headers={"Venue": "XNAS"})

    counts: int = publisher.published + publisher.failed + publisher.resent + (first or 0)
    ticks = asyncio.ensure_future(asp.timer(timedelta(seconds=1), c.tick, T0, T0))
    together = asyncio.gather(asp.process_stream(c.on_event, [(T0, 1)]), ticks)
    await run([asp.process_stream(on_trade, subject.past, subject.live, name="trades"),
               together], T0)
    subject.close()
    publisher.flush()
    assert asp.nats.available and subject.repeats_dropped >= 0 and counts >= 0
    await run([process_stream(c.on_event, past, live(), on_start=lambda: None,
                              on_live_start=lambda: None, name="events"),
               asp.process_stream(c.slowly, csv, socket, unpack_args=True, out_of_order="skip"),
               asp.processor.process_stream(c.on_event, log),
               asp.process_stream(c.on_event, trades, name=where),
               async_stream_processing.process_stream(c.on_event, future=datagrams),
               async_stream_processing.processor.process_stream(
                   c.on_event, future=create_async_generator([1, 2], delay=0.1)),
               timer(timedelta(seconds=1), c.tick, T0, end_time=timedelta(seconds=3)),
               asp.timer(timedelta(seconds=1), c.tick, T0, T0 + timedelta(seconds=2))],
              T0, clock=clock, rate=None)
    await asp.processor.run([], T0)
    await async_stream_processing.run([c.slowly(T0, 0)], T0)
    _ = (asp.processor.call_later, asp.processor.now, asp.processor.sleep, asp.processor.timer,
         async_stream_processing.call_later, async_stream_processing.sleep,
         async_stream_processing.timer, async_stream_processing.testing.timestamps,
         async_stream_processing.processor.call_later, async_stream_processing.processor.now,
         async_stream_processing.processor.run, async_stream_processing.processor.sleep,
         async_stream_processing.processor.timer, asp.testing.create_async_generator)
    return len(c.seen) + len(columns) + port


if __name__ == "__main__":
    asyncio.run(main(asp.testing.ManualClock(T0)))
