"""DataFrames and numpy arrays as past sources (asp.data.from_frame, from_arrays): rows in time
order as Python scalars, merged with other streams, tz-aware and naive times, the arrays kept
alive, and every refusal named."""

import gc
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import asp
import asp.data
from conftest import UTC, run

T0 = datetime(2025, 1, 1, 11, 50, tzinfo=UTC)
NAIVE = datetime(2025, 1, 1, 11, 50)


def wall(*minutes):
    """Naive datetime64[ns] times, `minutes` after 11:50 (local wall time)."""
    base = np.datetime64("2025-01-01T11:50:00", "ns")
    return np.array([base + np.timedelta64(int(m * 60e9), "ns") for m in minutes])


def test_arrays_are_rows_of_python_scalars_in_time_order():
    seen = []
    source = asp.data.from_arrays(wall(0, 0.5, 1), np.array([1.5, 2.5, 3.5]),
                                  np.array([7, 8, 9], dtype=np.int64),
                                  np.array([True, False, True]),
                                  np.array([1, 2, 3], dtype=np.uint8),
                                  np.array([0.25, 0.5, 0.75], dtype=np.float32))
    run([asp.process_stream(lambda t, row: seen.append((t, asp.now(), row)), source)], NAIVE)
    assert seen == [
        (NAIVE, NAIVE, (1.5, 7, True, 1, 0.25)),
        (NAIVE + timedelta(seconds=30), NAIVE + timedelta(seconds=30), (2.5, 8, False, 2, 0.5)),
        (NAIVE + timedelta(minutes=1), NAIVE + timedelta(minutes=1), (3.5, 9, True, 3, 0.75)),
    ]
    assert [tuple(type(v) for v in row) for _, _, row in seen] == [(float, int, bool, int, float)] * 3


def test_naive_times_are_local_wall_times(local_zone):
    local_zone("America/New_York")
    seen = []
    run([asp.process_stream(lambda t, row: seen.append((t, row)),
                            asp.data.from_arrays(wall(0, 1), np.array([1, 2])))], T0)
    # 11:50 in New York is 16:50 UTC: the run is in UTC (its start time's zone).
    assert [t for t, _ in seen] == [T0 + timedelta(hours=5), T0 + timedelta(hours=5, minutes=1)]


def test_a_frame_with_a_tz_aware_index_unpacks_into_arguments_and_merges():
    index = pd.DatetimeIndex(["2025-01-01T12:50:00", "2025-01-01T12:51:00"]).tz_localize(
        "Europe/Paris")
    frame = pd.DataFrame({"bid": [9.99, 10.02], "ask": [10.01, 10.04], "size": [100, 200]},
                         index=index)
    seen = []
    run([asp.process_stream(lambda t, bid, ask, size: seen.append((t, bid, ask, size)),
                            asp.data.from_frame(frame), unpack_args=True),
         asp.process_stream(lambda t, v: seen.append((t, v)), [(T0 + timedelta(seconds=30), "x")])],
        T0)
    assert seen == [(T0, 9.99, 10.01, 100), (T0 + timedelta(seconds=30), "x"),
                    (T0 + timedelta(minutes=1), 10.02, 10.04, 200)]


def test_a_frame_with_a_time_column_and_a_tz_aware_column():
    frame = pd.DataFrame({"time": pd.to_datetime(["2025-01-01T11:50:00Z", "2025-01-01T11:52:00Z"]),
                          "price": [1.0, 2.0], "n": np.array([3, 4], dtype=np.int32)})
    seen = []
    run([asp.process_stream(lambda t, row: seen.append((t, row)),
                            asp.data.from_frame(frame, time="time"))], T0)
    assert seen == [(T0, (1.0, 3)), (T0 + timedelta(minutes=2), (2.0, 4))]


def test_the_arrays_live_as_long_as_the_source_and_strides_are_read():
    def make():
        values = np.arange(10.0)
        return asp.data.from_arrays(wall(0, 1, 2, 3, 4), values[::2])

    source = make()
    gc.collect()
    seen = []
    run([asp.process_stream(lambda t, row: seen.append(row[0]), source)], NAIVE)
    assert seen == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_unsorted_times_are_refused_or_sorted_stably():
    times = wall(1, 0, 1, 0)
    with pytest.raises(ValueError, match=r"the times are not sorted: row 1 \(2025-01-01T11:50:00"
                                         r"\.000000000\) is before row 0 \(2025-01-01T11:51:00"
                                         r"\.000000000\); pass sort=True"):
        asp.data.from_arrays(times, np.array([1, 2, 3, 4]))
    seen = []
    run([asp.process_stream(lambda t, row: seen.append((t, row[0])),
                            asp.data.from_arrays(times, np.array([1, 2, 3, 4]), sort=True))], NAIVE)
    minute = timedelta(minutes=1)
    assert seen == [(NAIVE, 2), (NAIVE, 4), (NAIVE + minute, 1), (NAIVE + minute, 3)]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"the time of row 1 is NaT \(1 rows without a time\)"):
        asp.data.from_arrays(np.array(["2025-01-01", "NaT"], dtype="datetime64[ns]"), np.zeros(2))
    with pytest.raises(TypeError, match=r"column 1 has dtype object; columns must be integers, "
                                        r"floats or booleans"):
        asp.data.from_arrays(wall(0, 1), np.zeros(2), np.array(["a", "b"], dtype=object))
    with pytest.raises(ValueError, match=r"column 0 has 3 rows, the times 2"):
        asp.data.from_arrays(wall(0, 1), np.zeros(3))
    with pytest.raises(ValueError, match=r"column 0 has 2 dimensions, not 1"):
        asp.data.from_arrays(wall(0, 1), np.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"times must be datetime64 values"):
        asp.data.from_arrays(np.array([1, 2]), np.zeros(2))
    frame = pd.DataFrame({"time": wall(0, 1), "symbol": ["A", "B"]})
    with pytest.raises(TypeError, match=r"column 'symbol' has dtype object"):
        asp.data.from_frame(frame, time="time")
    with pytest.raises(ValueError, match=r"no column 'when' \(the frame has \['time', 'symbol'\]\)"):
        asp.data.from_frame(frame, time="when")
