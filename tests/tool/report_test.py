#!/usr/bin/env python3
"""The page of `asp inspect --html`, opened in a browser: headless Chromium (Debian's
`chromium`) loads it from the file, and the test reads the DOM it built (--dump-dom) and the
picture it drew (--screenshot). The data are made here, so what must be on the page is known:

- a dataset of two streams: A, one event a second for 100 s but for a silence of 20 s (one gap
  of 5 s or more), and B, one every 2 s; A's `price` plotted;
- a CSV file whose fifth row goes back in time (one out-of-order event);
- the README's picture, made by scripts/make-inspect-picture from the sample day of quotes.

Usage: report_test.py ASP WORK_DIR
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def chromium(*args):
    """Runs headless Chromium (it talks about the D-Bus and GPU it lacks on stderr)."""
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         *args], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        fail(f"chromium {' '.join(args)} exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def fail(what):
    print(f"FAILED: {what}")
    sys.exit(1)


def check(condition, what):
    if not condition:
        fail(what)
    print(f"ok: {what}")


def png_colours(path):
    """The number of different pixel values of an 8-bit RGB or RGBA PNG (no palette)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG")
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                fail(f"{path}: an unexpected PNG form (depth {depth}, colour type {colour})")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours = set()
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, scan = line[0], bytearray(line[1:])
        for i in range(stride):  # undo the line's filter (PNG's five kinds)
            a = scan[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                scan[i] = (scan[i] + a) & 0xFF
            elif kind == 2:
                scan[i] = (scan[i] + b) & 0xFF
            elif kind == 3:
                scan[i] = (scan[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                scan[i] = (scan[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        colours.update(bytes(scan[i:i + 3]) for i in range(0, stride, channels * 7))
        previous = scan
    return colours


def main():
    tool, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "set"))
    os.chdir(work)
    with open("a.csv", "w") as f:
        f.write("time,price\n")
        for s in range(100):
            if 30 <= s < 50:
                continue  # 20 s of silence: A's one gap
            f.write(f"2025-01-01T00:{s // 60:02}:{s % 60:02}Z,{100 + (s % 10)}.5\n")
    with open("b.csv", "w") as f:
        f.write("time,size\n")
        for s in range(0, 100, 2):
            f.write(f"2025-01-01T00:{s // 60:02}:{s % 60:02}Z,{s}\n")
    subprocess.run([tool, "convert", "a.csv", "set/a.asplog", "--stream", "A", "-q"], check=True,
                   stderr=subprocess.DEVNULL)
    subprocess.run([tool, "convert", "b.csv", "set/b.asplog", "--stream", "B", "-q"], check=True,
                   stderr=subprocess.DEVNULL)
    subprocess.run([tool, "inspect", "set", "--html", "set.html", "--plot", "A:price"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    dom = chromium("--dump-dom", f"file://{work}/set.html")
    check(len(re.findall(r'<path class="rate"', dom)) == 2, "one rate path per stream (A, B)")
    gaps = re.findall(r'<rect class="gap"[^>]*><title>([^<]*)</title>', dom)
    check(gaps == ["no event for 21s after 2025-01-01T00:00:29.000000000Z"],
          "A's gap marked, with its length and start: " + repr(gaps))
    check(len(re.findall(r'<path class="band"', dom)) == 1 and
          len(re.findall(r'<path class="last"', dom)) == 1, "A's price plotted, once")
    check("disorder" not in re.sub(r"\.disorder \{[^}]*\}", "", dom), "no out-of-order marks")
    # The axes: five labels each, from the range's start (00:00:00, a multiple of the column's
    # width) to the end of the column of the last event: 99 s in at most 999 columns takes
    # columns of 100 ms (the round width at or above 99.1 ms), and the last event's is the 991st.
    labels = re.findall(r'<text class="axis-label"[^>]*data-time="([^"]+)"[^>]*>([^<]+)</text>',
                        dom)
    check(len(labels) == 15, f"three panels of five axis labels ({len(labels)})")
    check(labels[0] == ("2025-01-01T00:00:00.000000000Z", "00:00:00"),
          f"the axis starts at the range's start: {labels[0]}")
    ends = {label for i, label in enumerate(labels) if i % 5 == 4}
    check(ends == {("2025-01-01T00:01:39.100000000Z", "00:01:39")},
          f"every axis ends with the last event's column: {ends}")
    check(labels[2] == ("2025-01-01T00:00:49.550000000Z", "00:00:49"),
          f"the middle label at half the axis: {labels[2]}")
    check(re.search(r"<td[^>]*>A</td><td>80</td><td>0</td><td>1</td>", dom) is not None and
          re.search(r"<td[^>]*>B</td><td>50</td><td>0</td><td>0</td>", dom) is not None,
          "the table: events, out of order and gaps per stream")

    shot = os.path.join(work, "set.png")
    chromium("--window-size=1200,900", f"--screenshot={shot}", f"file://{work}/set.html")
    colours = png_colours(shot)
    check(len(colours) > 16, f"the picture is not blank ({len(colours)} colours sampled)")

    # A CSV file with a row back in time: its mark.
    with open("back.csv", "w") as f:
        f.write("time,x\n")
        for s in (0, 1, 2, 3, 1, 4, 5):
            f.write(f"2025-01-01T00:00:0{s}Z,{s}\n")
    subprocess.run([tool, "inspect", "back.csv", "--html", "back.html"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dom = chromium("--dump-dom", f"file://{work}/back.html")
    marks = re.findall(r'<line class="disorder"[^>]*><title>([^<]*)</title>', dom)
    check(marks == ["1 out of order"], f"the out-of-order row marked: {marks}")

    # A stream's name is text on the page, never markup.
    subprocess.run([tool, "convert", "b.csv", "named.asplog", "--stream", "<i>x</i>&", "-q"],
                   check=True, stderr=subprocess.DEVNULL)
    subprocess.run([tool, "inspect", "named.asplog", "--html", "named.html"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dom = chromium("--dump-dom", f"file://{work}/named.html")
    check("<i>" not in dom and "&lt;i&gt;x&lt;/i&gt;&amp;" in dom,
          "a stream name with markup is shown as text")

    # --plot of a column that is not there says which are.
    result = subprocess.run([tool, "inspect", "set", "--html", "x.html", "--plot", "bid"],
                            capture_output=True, text=True)
    check(result.returncode != 0 and
          "--plot: no numeric column 'bid' (the file has 'A:price', 'B:size')" in result.stderr,
          "an unknown --plot column is named, with those there are: " + result.stderr.strip())

    # The README's picture, from the sample day.
    picture = os.path.join(work, "inspect-quotes.png")
    subprocess.run([os.path.join(ROOT, "scripts", "make-inspect-picture"), tool, picture],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    check(len(png_colours(picture)) > 16, "scripts/make-inspect-picture draws the sample day")


if __name__ == "__main__":
    main()
