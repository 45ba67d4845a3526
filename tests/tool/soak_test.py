#!/usr/bin/env python3
"""A live soak: a loopback TCP feed at a steady rate into `asp record`, with the recorder's
resident memory sampled every second. Passes when every line sent was recorded, once and in
order, the recorder ended cleanly (exit 0) when the feed closed, and its memory stayed flat
after the warm-up (no more than 4 MiB above what it was when the warm-up ended).

Usage: soak_test.py ASP WORK_DIR [--seconds 20] [--rate 50000]
The long mode (RELIABILITY.md): --seconds 600 --rate 100000.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("asp")
    parser.add_argument("work")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=int, default=50_000, help="lines a second")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    out = os.path.join(args.work, "soak.asplog")

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    recorder = subprocess.Popen(
        [args.asp, "record", "--from", f"tcp://127.0.0.1:{port}", "--out", out, "--fsync", "1s",
         "--quiet"],
        stderr=subprocess.PIPE, text=True)
    conn, _ = listener.accept()

    # The feed: every 10 ms, the lines due by then (a steady rate, whatever the sending costs).
    sent = 0
    total = int(args.seconds * args.rate)
    samples = []  # (seconds since start, RSS in KiB)
    began = time.monotonic()

    def sample():
        while recorder.poll() is None:
            kib = rss_kib(recorder.pid)
            if kib is not None:
                samples.append((time.monotonic() - began, kib))
            time.sleep(1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    while sent < total:
        due = min(total, int((time.monotonic() - began) * args.rate) + 1)
        if due > sent:
            conn.sendall("".join(f"{i}\n" for i in range(sent, due)).encode())
            sent = due
        else:
            time.sleep(0.01)
    feed_seconds = time.monotonic() - began
    conn.close()
    listener.close()
    _, err = recorder.communicate(timeout=60)
    sampler.join(timeout=5)

    failures = []
    if recorder.returncode != 0:
        failures.append(f"the recorder exited with {recorder.returncode}: {err.strip()}")
    # Every line, once, in order.
    played = subprocess.run([args.asp, "play", out, "--format", "raw", "--quiet"],
                            capture_output=True, text=True, check=True).stdout
    expected = "".join(f"{i}\n" for i in range(total))
    if played != expected:
        got = played.count("\n")
        failures.append(f"recorded {got} lines, not the {total} sent in order")
    warm_up = max(5.0, args.seconds / 10)
    settled = [kib for at, kib in samples if at <= warm_up]
    after = [kib for at, kib in samples if at > warm_up]
    if not settled or not after:
        failures.append(f"too few memory samples ({len(samples)})")
    else:
        base, peak = settled[-1], max(after)
        print(f"sent {total} lines in {feed_seconds:.1f} s ({total / feed_seconds:.0f}/s); "
              f"recorder RSS {base} KiB after the warm-up ({warm_up:.0f} s), at most {peak} KiB "
              f"after it; {len(samples)} samples")
        if peak > base + 4096:
            failures.append(f"memory grew: {base} KiB after the warm-up, {peak} KiB later")
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
