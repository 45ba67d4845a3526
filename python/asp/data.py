"""Files as past sources, read in C++: only each event's value becomes a Python object.

    stream = asp.process_stream(on_quote, past=asp.data.read_csv("quotes.csv"),
                                unpack_args=True)

Each event's value is a tuple of the row's fields, typed by the file's schema (int, float,
bool, str); with `unpack_args=True` the callback receives them as arguments.
"""

from typing import List, Optional
from datetime import datetime

from . import _engine

__all__ = ["read_csv", "read_log", "csv_columns"]


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


def csv_columns(path: str, *, time_column: str = "", times: str = "iso8601",
                delimiter: str = ",") -> List[str]:
    """The names of the value columns read_csv delivers, in order."""
    return _engine.csv_columns(path, time_column, times, delimiter)
