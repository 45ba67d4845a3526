#!/usr/bin/env python3
"""CSV files as pandas writes them (`DataFrame.to_csv`, Debian's python3-pandas), through the
tool and back: `asp convert` of pandas' file into a record log, then of the log into CSV, reads
back in pandas as the same frame. The frame holds what pandas writes in its own way: times
with nanoseconds and a UTC offset, missing floats (empty fields), infinities, the extremes of
int64, booleans, and text with commas, quotes, line breaks and UTF-8. `asp play --format
json` gives the same values, a missing float as null.

Usage: pandas_csv_test.py ASP WORK_DIR
"""
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd

ROWS = 1000


def check(condition, what, text=""):
    if not condition:
        print(f"FAILED: {what}\n{text}")
        sys.exit(1)


def frame():
    times = (pd.Timestamp("2025-01-02 14:31:00", tz="UTC") +
             pd.to_timedelta(np.arange(ROWS) * 1_500_001, unit="ns"))
    texts = ["ACME", "A,B", 'say "hi"', "two\nlines", "ünï ✓ 日本", "plain"]
    px = np.array([0.1 * k + 1e-7 for k in range(ROWS)])
    px[5] = np.nan        # among the rows the types are inferred from
    px[7] = np.inf
    px[9] = -np.inf
    px[500] = np.nan      # and after them
    px[501] = 1e-300
    qty = np.arange(ROWS, dtype=np.int64) * 7 - 3000
    qty[3] = np.iinfo(np.int64).min
    qty[4] = np.iinfo(np.int64).max
    return pd.DataFrame({
        "time": times,
        "sym": [texts[k % len(texts)] for k in range(ROWS)],
        "px": px,
        "qty": qty,
        "flag": [k % 3 == 0 for k in range(ROWS)],
    })


def run(*args):
    done = subprocess.run(list(args), capture_output=True, text=True)
    check(done.returncode == 0, f"{' '.join(args)} exited {done.returncode}", done.stderr)
    return done


def read(path):
    # round_trip: pandas' default float parser may miss the last bit of a written float.
    df = pd.read_csv(path, float_precision="round_trip")
    df["time"] = pd.to_datetime(df["time"], utc=True)
    return df


def main():
    asp, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    original = os.path.join(work, "frame.csv")
    log = os.path.join(work, "frame.asplog")
    back = os.path.join(work, "back.csv")

    frame().to_csv(original, index=False)
    converted = run(asp, "convert", original, log)
    check(f"wrote {ROWS} records" in converted.stderr, "asp convert did not write every row",
          converted.stderr)
    run(asp, "convert", log, back)

    # What pandas wrote and what came back through the log, both read by pandas, against the
    # frame itself: bit for bit.
    expected = frame()
    for name, table in (("pandas' own file", read(original)), ("the file asp wrote", read(back))):
        try:
            pd.testing.assert_frame_equal(table, expected, check_exact=True)
        except AssertionError as e:
            check(False, f"{name}, read by pandas, differs from the frame", str(e))

    played = run(asp, "play", log, "--rate", "max", "--format", "json").stdout.splitlines()
    check(len(played) == ROWS, f"asp play gave {len(played)} rows")
    for k, line in enumerate(played):
        row = json.loads(line)
        want = expected.iloc[k]
        check(pd.Timestamp(row["time"]) == want["time"], f"row {k}: time {row['time']}")
        check(row["sym"] == want["sym"], f"row {k}: sym {row['sym']!r}")
        px = want["px"]
        if math.isnan(px) or math.isinf(px):
            check(row["px"] is None, f"row {k}: px {row['px']!r}, pandas has {px}")
        else:
            check(row["px"] == px, f"row {k}: px {row['px']!r}, pandas has {px!r}")
        check(row["qty"] == want["qty"], f"row {k}: qty {row['qty']}")
        check(row["flag"] == bool(want["flag"]), f"row {k}: flag {row['flag']}")
    print(f"ok: {ROWS} rows of a pandas {pd.__version__} CSV through asp convert and back")


if __name__ == "__main__":
    main()
