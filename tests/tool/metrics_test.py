#!/usr/bin/env python3
"""`--metrics` of `asp record` and `asp play`, scraped with a plain HTTP client as Prometheus
would. A recorder of a loopback TCP feed that sent 100 known lines shows exactly those: the
stream's events, the log's records written and acknowledged (--fsync every), the bytes and the
one connection of its input, its live lag histogram's count. A player waiting for its first
client has no run yet: its endpoint says so (503). A bad address is refused with a usage error.

Usage: metrics_test.py ASP WORK_DIR
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

LINES = [f"quote {k} {k * 0.25:.2f}\n".encode() for k in range(100)]


def check(condition, what, text=""):
    if not condition:
        print(f"FAILED: {what}\n{text}")
        sys.exit(1)


def metrics_address(process):
    """The address the command prints on stderr: 'metrics on http://HOST:PORT/metrics'."""
    for line in process.stderr:
        found = re.search(r"metrics on (http://[\d.]+:\d+/metrics)", line)
        if found:
            return found.group(1)
    check(False, "the command never said where its metrics are")


def scrape(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers.get("Content-Type"), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read().decode()


def sample(text, line_start):
    """The value of the sample whose line starts with `line_start` (name and labels)."""
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split(" ")[-1])
    check(False, f"no sample {line_start}", text)


def record(asp, work):
    feed = socket.socket()
    feed.bind(("127.0.0.1", 0))
    feed.listen(1)
    port = feed.getsockname()[1]
    log = os.path.join(work, "feed.asplog")
    began = time.time()
    recorder = subprocess.Popen(
        [asp, "record", "--from", f"tcp://127.0.0.1:{port}", "--out", log, "--fsync", "every",
         "--metrics", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = metrics_address(recorder)
    connection, _ = feed.accept()
    connection.sendall(b"".join(LINES))

    # Until every line is recorded (the feed is live: it takes what the network takes).
    deadline = time.monotonic() + 60
    while True:
        status, kind, text = scrape(url)
        check(status == 200, f"a scrape during the recording answered {status}", text)
        if sample(text, 'asp_stream_events_total{stream="tcp"}') == len(LINES):
            break
        check(time.monotonic() < deadline, "the recorder did not take the 100 lines", text)
        time.sleep(0.05)
    check(kind == "text/plain; version=0.0.4; charset=utf-8", f"Content-Type {kind}")
    source = f'{{source="tcp://127.0.0.1:{port}"}}'
    exact = {
        f'asp_log_records_written_total{{log="{log}"}}': 100,
        f'asp_log_records_acknowledged_total{{log="{log}"}}': 100,
        f"asp_source_received_bytes_total{source}": sum(len(line) for line in LINES),
        f"asp_source_connections_total{source}": 1,
        'asp_stream_live_lag_seconds_count{stream="tcp"}': 100,
        'asp_stream_live_lag_seconds_bucket{stream="tcp",le="+Inf"}': 100,
        "asp_loop_live": 1,
    }
    for name, value in exact.items():
        check(sample(text, name) == value, f"{name} is {sample(text, name)}, not {value}", text)
    synced = sample(text, f'asp_log_last_sync_timestamp_seconds{{log="{log}"}}')
    check(began <= synced <= time.time(), f"the last fsync at {synced} is not during the run", text)
    status, _, text = scrape(url.replace("/metrics", "/"))
    check(status == 404, f"/ answered {status}", text)

    connection.close()
    feed.close()
    check(recorder.wait(timeout=60) == 0, "asp record failed")
    try:
        scrape(url)
        check(False, "the metrics endpoint outlived asp record")
    except urllib.error.URLError:
        pass
    return log


def play(asp, log):
    player = subprocess.Popen(
        [asp, "play", log, "--to", "tcp-server://127.0.0.1:0", "--clients", "1", "--format", "raw",
         "--metrics", ":0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = metrics_address(player)
    serving = None
    for line in player.stderr:
        serving = re.search(r"serving on 127\.0\.0\.1:(\d+)", line)
        if serving:
            break
    check(serving is not None, "asp play did not say where it serves (after its metrics)")
    # Still waiting for its client: no run yet, and the endpoint says so.
    status, _, text = scrape(url)
    check(status == 503 and "no run is active" in text, f"before the run: {status} {text}")
    with socket.create_connection(("127.0.0.1", int(serving.group(1)))) as client:
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    check(received == b"".join(LINES), "the client did not get the recorded lines back",
          repr(received[:200]))
    check(player.wait(timeout=60) == 0, "asp play failed")


def refused(asp, log):
    result = subprocess.run([asp, "play", log, "--metrics", "nowhere", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    check(result.returncode == 2 and "--metrics: expected HOST:PORT" in result.stderr,
          f"--metrics nowhere: {result.returncode} {result.stderr}")


def main():
    asp, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log = record(asp, work)
    play(asp, log)
    refused(asp, log)
    print("metrics: ok")


if __name__ == "__main__":
    main()
