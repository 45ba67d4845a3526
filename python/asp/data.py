"""Files as past sources, read in C++: only each event's value becomes a Python object.

    stream = asp.process_stream(on_quote, past=asp.data.read_csv("quotes.csv"),
                                unpack_args=True)

Each event's value is a tuple of the row's fields, typed by the file's schema (int, float,
bool, str); with `unpack_args=True` the callback receives them as arguments.
"""

from datetime import datetime
from typing import Any, List, Optional

from . import _engine

__all__ = ["read_csv", "read_log", "LogFile", "csv_columns", "from_arrays", "from_frame"]


def read_csv(path: str, *, time_column: str = "", times: str = "iso8601", delimiter: str = ",",
             schema: str = "", bad_rows: str = "fail") -> _engine.NativeSource:
    """A CSV file as a past source. `time_column`: the column of event times (default: the
    first of time, timestamp, ts); `times`: 'iso8601', or epoch 's', 'ms', 'us', 'ns';
    `schema`: the value columns' types, 'bid:f64,size:i64,...' (default: inferred from the
    first 100 rows); `bad_rows`: 'fail' (ValueError naming file, line and column) or 'skip'.
    The file is opened at the call: a missing file or a bad header raises at once."""
    return _engine.read_csv(path, time_column=time_column, times=times, delimiter=delimiter,
                            schema=schema, bad_rows=bad_rows)


def read_log(path: str, stream: str, *, start: Optional[datetime] = None,
             end: Optional[datetime] = None) -> _engine.NativeSource:
    """One stream of a record log (the `asp record` / `asp convert` format), or of a dataset
    (a directory of logs, as `asp record --split-size/--split-duration` writes it), as a past
    source, from `start` to `end` (found through the logs' time indexes). Rows of a table
    stream arrive as tuples; other payloads as bytes."""
    return _engine.read_log(path, stream, start=start, end=end)


class LogFile:
    """A record log, or a dataset of them, opened once, handing out a past source per stream
    that all share one scan of the files: K streams of one file cost one read, one check and
    one decompression of each chunk, however the run interleaves them (the C++
    asp::data::log_file).

        day = asp.data.LogFile("day.asplog")
        await asp.run([asp.process_stream(on_trade, day.source("AAPL"), unpack_args=True),
                       asp.process_stream(on_quote, day.source("MSFT"), unpack_args=True)])

    `start`, `end`: only the records from `start` to `end` (found through the time indexes).
    Opening reads the header and the index: a missing or damaged file raises at once.
    """

    def __init__(self, path: str, *, start: Optional[datetime] = None,
                 end: Optional[datetime] = None) -> None:
        self._file = _engine.LogFile(path, start=start, end=end)

    @property
    def path(self) -> str:
        """The file or directory opened."""
        return self._file.path

    @property
    def streams(self) -> List[str]:
        """The names of the streams, in the file's order."""
        return self._file.streams

    def source(self, stream: str) -> _engine.NativeSource:
        """The past source of the stream named `stream`: table rows as tuples, other payloads
        as bytes. ValueError when there is no such stream (naming those there are) or when it
        has a source already. Make every source before the run starts, so that they share the
        scan; a source made once the scan has gone past its records reads on its own."""
        return self._file.source(stream)

    def __repr__(self) -> str:
        return f"<asp.data.LogFile {self.path!r}: streams {self.streams}>"


def csv_columns(path: str, *, time_column: str = "", times: str = "iso8601",
                delimiter: str = ",") -> List[str]:
    """The names of the value columns read_csv delivers, in order."""
    return _engine.csv_columns(path, time_column, times, delimiter)


def _utc_nanoseconds(times: Any, sort: bool) -> "tuple[Any, bool, Any]":
    """The times as int64 nanoseconds, whether they are local wall times (naive), and the order
    that sorts them (None when they are sorted)."""
    import numpy as np

    # A pandas DatetimeIndex has .tz, a datetime Series .dt.tz: aware times become UTC.
    accessor = getattr(times, "dt", None)
    zone = getattr(accessor if accessor is not None else times, "tz", None)
    if zone is not None and accessor is not None:
        values = np.asarray(accessor.tz_convert("UTC").dt.tz_localize(None))
    elif zone is not None:
        values = np.asarray(times.tz_convert("UTC").tz_localize(None))
    else:
        values = np.asarray(times)
    if values.dtype.kind != "M":
        raise TypeError(f"asp.data: times must be datetime64 values (numpy datetime64 or a "
                        f"pandas DatetimeIndex or datetime column), not {values.dtype}")
    if values.ndim != 1:
        raise ValueError(f"asp.data: times must be one-dimensional, not {values.ndim}-dimensional")
    ns = values.astype("datetime64[ns]").view(np.int64)
    missing = np.flatnonzero(np.isnat(values))
    if missing.size:
        raise ValueError(f"asp.data: the time of row {int(missing[0])} is NaT "
                         f"({missing.size} rows without a time)")
    order = None
    if ns.size > 1:
        back = np.flatnonzero(ns[1:] < ns[:-1])
        if back.size:
            if not sort:
                i = int(back[0]) + 1
                raise ValueError(f"asp.data: the times are not sorted: row {i} "
                                 f"({values[i]}) is before row {i - 1} ({values[i - 1]}); "
                                 f"pass sort=True to sort the rows (stably)")
            order = np.argsort(ns, kind="stable")
            ns = ns[order]
    return np.ascontiguousarray(ns), zone is None, order


def from_arrays(times: Any, *columns: Any, sort: bool = False,
                name: str = "arrays") -> _engine.NativeSource:
    """Arrays as a past source, read in C++ without a Python object per row until the
    callback: `times` (numpy datetime64, or a pandas DatetimeIndex or datetime Series; tz-aware
    times are instants, naive ones local wall times, as naive datetimes are) and value columns
    of integers, floats or booleans, all of one length. Each event's value is the row's tuple
    of Python scalars (with `unpack_args=True`, the callback's arguments).

    The arrays are read through the buffer protocol (no copy; `sort=True` sorts into new
    arrays) and kept alive by the source. Raises TypeError for a column of another dtype (or
    times that are not datetimes), ValueError for a NaT time, unsorted times (unless `sort`),
    columns of different lengths or more than one dimension."""
    import numpy as np

    ns, local, order = _utc_nanoseconds(times, sort)
    arrays = []
    for i, c in enumerate(columns):
        a = np.asarray(c)
        if a.dtype.kind not in "iufb":
            raise TypeError(f"asp.data.from_arrays: column {i} has dtype {a.dtype}; columns must "
                            f"be integers, floats or booleans")
        if order is not None and a.ndim == 1 and len(a) == len(order):
            a = a[order]
        arrays.append(a)
    return _engine.from_arrays(ns, arrays, local, f"{name} ({len(ns)} rows)")


def from_frame(frame: Any, time: Optional[str] = None, *, sort: bool = False) -> _engine.NativeSource:
    """A pandas DataFrame as a past source (see from_arrays): its times from the column `time`
    (default: the DatetimeIndex), its other columns, in order, as each row's values."""
    if time is None:
        times = frame.index
        names = list(frame.columns)
    else:
        if time not in frame.columns:
            raise ValueError(f"asp.data.from_frame: no column {time!r} "
                             f"(the frame has {list(frame.columns)})")
        times = frame[time]
        names = [c for c in frame.columns if c != time]
    values = []
    for c in names:
        column = frame[c]
        if column.dtype.kind not in "iufb":
            raise TypeError(f"asp.data.from_frame: column {c!r} has dtype {column.dtype}; "
                            f"columns must be integers, floats or booleans")
        values.append(column.to_numpy())
    return from_arrays(times, *values, sort=sort, name=f"frame {names}")
