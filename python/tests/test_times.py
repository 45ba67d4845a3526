"""Times at the border: naive local datetimes (DST included), aware ones, nanoseconds."""

import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import asp
from asp import _engine
from conftest import UTC, run


def test_aware_datetimes_are_their_instant_in_any_zone():
    t = datetime(2025, 3, 9, 12, 0, 0, 123456, tzinfo=UTC)
    for zone in (UTC, timezone(timedelta(hours=5, minutes=30)), ZoneInfo("America/New_York")):
        local = t.astimezone(zone)
        assert _engine.to_ns(local) == 1741521600_123456_000
        back = _engine.from_ns(_engine.to_ns(local), local)
        assert back == t and back.tzinfo is local.tzinfo and back.utcoffset() == local.utcoffset()


def test_a_shown_time_is_rounded_down_to_the_microsecond():
    assert _engine.from_ns(1_999, UTC) == datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert _engine.from_ns(-1, UTC) == datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize("wall", [
    datetime(2025, 3, 9, 1, 59, 59),            # before the spring gap
    datetime(2025, 3, 9, 2, 30),                # in the gap: does not exist
    datetime(2025, 3, 9, 3, 0),                 # after it
    datetime(2025, 11, 2, 1, 30),               # the repeated hour, first time (fold=0)
    datetime(2025, 11, 2, 1, 30, fold=1),       # the repeated hour, second time
    datetime(2025, 11, 2, 2, 0),
    datetime(2025, 7, 1, 12, 0, 0, 500000),
])
def test_naive_times_convert_as_python_s_timestamp_does(local_zone, wall):
    local_zone("America/New_York")
    assert _engine.to_ns(wall) == round(wall.timestamp() * 1e6) * 1000


def test_naive_times_shown_as_fromtimestamp_shows_them_with_fold(local_zone):
    local_zone("America/New_York")
    first = datetime(2025, 11, 2, 1, 30).timestamp()   # 05:30Z
    second = first + 3600                                # 06:30Z, the same wall time again
    for s in (first, second, first - 7200, second + 7200):
        shown = _engine.from_ns(int(s) * 1_000_000_000)
        expected = datetime.fromtimestamp(s)
        assert (shown, shown.fold) == (expected, expected.fold)


def test_a_run_across_the_autumn_change_keeps_order_and_exact_intervals(local_zone):
    local_zone("America/New_York")
    start = datetime(2025, 11, 2, 0, 30)
    seen = []

    async def hourly():
        for _ in range(4):
            await asp.sleep(3600)
            seen.append((asp.now(), asp.now().fold, asp._engine.now_ns()))

    run([hourly()], start)
    # Wall times 01:30, 01:30 (again), 02:30, 03:30; the instants an hour apart each.
    assert [(t.hour, t.minute, fold) for t, fold, _ in seen] == [(1, 30, 0), (1, 30, 1),
                                                                 (2, 30, 0), (3, 30, 0)]
    assert [b[2] - a[2] for a, b in zip(seen, seen[1:])] == [3600 * 10**9] * 3


def test_durations_accept_numbers_and_timedeltas():
    async def job():
        await asp.sleep(timedelta(days=1, microseconds=3))
        await asp.sleep(2)
        await asp.sleep(0.5)
        await asp.sleep(1e-9)

    seen = []

    async def main():
        await job()
        seen.append(asp._engine.now_ns())

    start = datetime(2025, 1, 1, tzinfo=UTC)
    run([main()], start)
    assert seen == [_engine.to_ns(start) + 86400 * 10**9 + 3000 + 2 * 10**9 + 5 * 10**8 + 1]
