"""Helpers for examples and tests: the original's generators, and a manual clock."""

import asyncio
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Iterable, Iterator, Tuple

from . import _engine
from ._engine import ManualClock

__all__ = ["timestamps", "create_async_generator", "ManualClock", "real_now"]


def timestamps(start: datetime, delay: timedelta) -> Iterator[datetime]:
    """An endless generator: start, start + delay, start + 2·delay, ..."""
    current = start
    while True:
        yield current
        current += delay


def real_now() -> datetime:
    """The run's real clock as a datetime (datetime.now() outside a run): the manual clock's
    reading when the run has one."""
    return _engine.real_now()


async def create_async_generator(values: Iterable[Any],
                                 delay: float = 1.0) -> AsyncIterator[Tuple[datetime, Any]]:
    """Yields (real now, value) for each value, then waits `delay` real seconds.

    Inside a run it reads and waits on the run's real clock, so that on a ManualClock it takes
    no real time and its output is exact; outside a run it uses datetime.now() and
    asyncio.sleep, as the original does."""
    for value in values:
        if _engine.in_run():
            yield _engine.real_now(), value
            await _engine.real_sleep(delay)
        else:
            yield datetime.now(), value
            await asyncio.sleep(delay)
