#!/usr/bin/env python3
"""The progress line of `asp play` and `asp convert`, read through a pseudo-terminal as a user
sees it: the position in virtual time, the end of the range, the percent, the events, events/s
and the elapsed time, with an ETA while the end is ahead. The line is redrawn ten times a
second while a command runs and drawn a last time when it ends; that last line's fields are
exact (the last record's time, the range's end, 100.0 %, every event), the rates and times are
checked for their form. Lines drawn along the way (a paced play lasts a third of a second) are
checked for consistency with the last one.

Usage: progress_test.py ASP WORK_DIR
"""
import os
import pty
import re
import shutil
import subprocess
import sys

ROWS = 1000  # one a second from 2025-01-01T00:00:00Z: the last at 00:16:39
FIRST = "2025-01-01T00:00:00"
LAST = "2025-01-01T00:16:39"

LINE = re.compile(
    r"(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)"
    r"(?: / (?P<end>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)  +(?P<percent>[\d.]+)%)?"
    r"  (?P<events>\d+) events  (?P<rate>\d+) ev/s  elapsed (?P<elapsed>[\d.]+(?:ns|ms|s)|\S+)"
    r"(?:  ETA (?P<eta>\S+))?(?:  lag (?P<lag>\S+))?$")


def on_a_terminal(argv):
    """Runs argv with stderr on a pseudo-terminal (stdout to /dev/null); returns its exit status
    and the lines drawn there (each redraw starts with CR and erase-line)."""
    master, slave = pty.openpty()
    with open(os.devnull, "wb") as null:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=null, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    status = child.wait()
    text = out.decode()
    lines = []
    for piece in re.split(r"\r\x1b\[K", text):
        for line in piece.replace("\r\n", "\n").split("\n"):
            if LINE.match(line):
                lines.append(LINE.match(line))
    return status, lines, text


def check(condition, what, text):
    if not condition:
        print(f"FAILED: {what}\n--- what the terminal showed ---\n{text!r}")
        sys.exit(1)


def main():
    tool, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    csv = os.path.join(work, "ticks.csv")
    with open(csv, "w") as f:
        f.write("time,price\n")
        for i in range(ROWS):
            f.write(f"2025-01-01T00:{i // 60:02}:{i % 60:02}Z,{100 + i % 7}\n")
    log = os.path.join(work, "ticks.asplog")

    # CSV to log: a CSV's range is not known beforehand, so the line has no end and no percent.
    status, lines, text = on_a_terminal([tool, "convert", csv, log])
    check(status == 0, "convert exits 0", text)
    check(lines, "convert draws its line", text)
    last = lines[-1]
    check(last["at"] == LAST and last["end"] is None and last["percent"] is None,
          "convert CSV to log: the last row's time, no end", text)
    check(int(last["events"]) == ROWS and last["eta"] is None, "convert: every row", text)

    # Log to CSV: the log's index gives the range.
    status, lines, text = on_a_terminal([tool, "convert", log, os.path.join(work, "back.csv")])
    check(status == 0, "convert back exits 0", text)
    last = lines[-1]
    check((last["at"], last["end"], last["percent"]) == (LAST, LAST, "100.0"),
          "convert log to CSV: at the end of the range, 100.0%", text)
    check(int(last["events"]) == ROWS and last["eta"] is None, "convert back: every record", text)

    # A paced play (999 s of data at 3000 times: a third of a second): the same last line, and
    # along the way, lines that go forward.
    status, lines, text = on_a_terminal(
        [tool, "play", log, "--rate", "3000", "--format", "raw"])
    check(status == 0, "play exits 0", text)
    last = lines[-1]
    check((last["at"], last["end"], last["percent"]) == (LAST, LAST, "100.0"),
          "play: at the end of the range, 100.0%", text)
    check(int(last["events"]) == ROWS and last["eta"] is None, "play: every record", text)
    previous = 0
    along = lines[:-1]
    for line in along:
        events = int(line["events"])
        check(line["end"] == LAST and FIRST <= line["at"] <= LAST, "play: within the range", text)
        check(previous <= events <= ROWS, "play: events only go up", text)
        if float(line["percent"]) < 100:
            check(line["eta"] is not None, "play: an ETA while the end is ahead", text)
        previous = events

    # --quiet: no line.
    status, quiet, text = on_a_terminal([tool, "play", log, "-q", "--format", "raw"])
    check(status == 0 and not quiet and text == "", "play -q draws nothing", text)
    print(f"ok: the last lines exact, {len(along)} lines of the paced play along the way")


if __name__ == "__main__":
    main()
