"""What the tests share: a fixed local zone, the manual clock's start, and a way to run."""

import asyncio
import os
import time
from datetime import datetime, timezone

import pytest

# Naive datetimes are local time: the tests fix the zone so that their output is exact.
os.environ["TZ"] = "UTC"
time.tzset()

import asp  # noqa: E402  (after the zone is set)

UTC = timezone.utc
NOON = datetime(2025, 1, 1, 12, tzinfo=UTC)


def run(work, start_time=None, *, clock=None, rate=None):
    """asyncio.run(asp.run(work, start_time)), on `clock`."""
    return asyncio.run(asp.run(work, start_time, clock=clock, rate=rate))


@pytest.fixture
def clock():
    """A manual clock at 2025-01-01T12:00:00Z, as the C++ examples' --manual-clock."""
    return asp.testing.ManualClock(NOON)


@pytest.fixture
def local_zone():
    """Sets the local zone for one test: local_zone("America/New_York")."""
    def set_zone(name):
        os.environ["TZ"] = name
        time.tzset()
    yield set_zone
    os.environ["TZ"] = "UTC"
    time.tzset()
