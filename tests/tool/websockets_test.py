#!/usr/bin/env python3
"""The tool's websocket ends against a websocket library ASP did not write (Python's
`websockets`, Debian's python3-websockets), both ways:

1. `asp record --from ws://` of a `websockets` server that sends known messages (text: ASCII,
   UTF-8, empty, one of 1 MiB; and a binary one that is not UTF-8) and closes normally: every
   message is recorded, in order, byte for byte, and the recorder says it wrote them all;
   `asp play --format json` shows the binary one as payload_base64.
2. `asp play LOG --to ws-server://` to a `websockets` client: the client receives every
   record's payload as one message, in order, text when it is UTF-8 and binary otherwise
   (a text message that is not UTF-8 would make the client drop the connection), then a
   normal close (1000).

Usage: websockets_test.py ASP WORK_DIR
"""
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys

import websockets

MESSAGES = ([f"quote {k} {k * 0.25:.2f} " + "x" * (k % 300) for k in range(20000)] +
            ["", "é ünïcode ✓ 日本", "y" * (1 << 20), b"\x00\x01 bytes \xfe\xff", "last"])


def check(condition, what, text=""):
    if not condition:
        print(f"FAILED: {what}\n{text}")
        sys.exit(1)


async def record(asp, log):
    async def send_all(ws, path=None):
        for m in MESSAGES:
            await ws.send(m)
        await ws.close(1000, "done")

    async with websockets.serve(send_all, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        recorder = await asyncio.create_subprocess_exec(
            asp, "record", "--from", f"ws://127.0.0.1:{port}/quotes", "--out", log,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(recorder.communicate(), timeout=60)
    err = err.decode()
    check(recorder.returncode == 0, f"asp record exited {recorder.returncode}", err)
    check(f"wrote {len(MESSAGES)} records" in err and "all acknowledged" in err,
          "asp record did not say it wrote every message", err)


def played_payloads(asp, log):
    """The payloads of LOG as `asp play --format json` gives them, in order: text as str, bytes
    that are not UTF-8 (payload_base64) as bytes."""
    out = subprocess.run([asp, "play", log, "--rate", "max", "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return [r["payload"] if "payload" in r else base64.b64decode(r["payload_base64"])
            for r in rows]


async def play(asp, log):
    player = await asyncio.create_subprocess_exec(
        asp, "play", log, "--rate", "max", "--format", "raw", "--to", "ws-server://127.0.0.1:0",
        "--clients", "1", "--slow-client", "block",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    said = []
    port = None
    while port is None:
        line = (await asyncio.wait_for(player.stderr.readline(), timeout=30)).decode()
        check(line != "", "asp play never said where it serves", "".join(said))
        said.append(line)
        found = re.search(r"serving on 127\.0\.0\.1:(\d+)", line)
        if found:
            port = int(found.group(1))
    received = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
        try:
            async for m in ws:
                received.append(m)
        except websockets.ConnectionClosed:
            pass
        code = ws.close_code
    _, err = await asyncio.wait_for(player.communicate(), timeout=60)
    check(player.returncode == 0, f"asp play exited {player.returncode}", err.decode())
    return received, code


def main():
    asp, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log = os.path.join(work, "quotes.asplog")

    asyncio.run(record(asp, log))
    recorded = played_payloads(asp, log)
    check(len(recorded) == len(MESSAGES), f"{len(recorded)} records, {len(MESSAGES)} sent")
    for k, (got, sent) in enumerate(zip(recorded, MESSAGES)):
        check(got == sent, f"record {k} is {got[:60]!r}, the server sent {sent[:60]!r}")

    received, code = asyncio.run(play(asp, log))
    check(len(received) == len(MESSAGES),
          f"the client received {len(received)} messages of {len(MESSAGES)}")
    for k, (got, sent) in enumerate(zip(received, MESSAGES)):
        check(got == sent, f"message {k} is {got[:60]!r}, the log holds {sent[:60]!r}")
    check(code == 1000, f"the server closed with {code}, not a normal close")
    print(f"ok: {len(MESSAGES)} messages recorded from and played to python websockets "
          f"{websockets.__version__}")


if __name__ == "__main__":
    main()
