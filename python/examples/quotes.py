"""Ten minutes of quotes from a CSV file as the past, then live quotes, in one stream.

    PYTHONPATH=build/dev/python /usr/bin/python3 python/examples/quotes.py [--manual-clock]

The history replays at once, on its own clock; the live quotes arrive a second apart on the
real clock. With --manual-clock the run's real clock is a manual one at 2025-01-01T12:00:00Z,
so the output is exact and takes no real time (ctest compares it with golden/quotes.txt).
"""

import asyncio
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import asp

HISTORY = Path(__file__).resolve().parents[2] / "examples" / "data" / "acme_quotes.csv"


class Mid:
    """Prints each quote's mid price and keeps the last one."""

    def __init__(self) -> None:
        self.last = 0.0

    def on_quote(self, t: datetime, symbol: str, bid: float, ask: float) -> None:
        self.last = (bid + ask) / 2
        print(f"{t:%H:%M:%S} {asp.now():%H:%M:%S} {symbol} {self.last:.3f}")


async def main(clock: Optional[asp.testing.ManualClock] = None) -> None:
    mid = Mid()
    history = asp.data.read_csv(str(HISTORY))
    live = asp.testing.create_async_generator([("ACME", 10.10, 10.12), ("ACME", 10.11, 10.13)],
                                              delay=1)
    await asp.run([asp.process_stream(mid.on_quote, history, live, unpack_args=True,
                                      on_live_start=lambda: print("** live **"))],
                  datetime(2025, 1, 1, 11, 50, tzinfo=timezone.utc), clock=clock)
    print(f"last mid {mid.last:.3f}")


if __name__ == "__main__":
    manual = "--manual-clock" in sys.argv[1:]
    clock = asp.testing.ManualClock(datetime(2025, 1, 1, 12, tzinfo=timezone.utc)) if manual else None
    asyncio.run(main(clock))
