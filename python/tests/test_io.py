"""Live sockets read in C++, on loopback: every message arrives once, in order, due at its
arrival on the run's (manual) clock."""

import asyncio
import os
import socket
from datetime import timedelta

import pytest

import asp
from conftest import NOON, UTC


def run_with(server_factory, make_work, clock, start=NOON):
    """Starts an asyncio server on loopback, then runs the work it makes from the port."""
    async def main():
        server, port = await server_factory()
        try:
            await asp.run(make_work(port), start, clock=clock)
        finally:
            server.close()
            await server.wait_closed()
    asyncio.run(main())


def tcp_server(payload: bytes):
    async def start():
        async def serve(reader, writer):
            writer.write(payload)
            await writer.drain()
            writer.close()
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        return server, server.sockets[0].getsockname()[1]
    return start


def test_tcp_lines_arrive_in_order_and_the_stream_ends_with_the_connection(clock):
    seen = []
    run_with(tcp_server(b"alpha\nbeta\r\ngamma\n"),
             lambda port: [asp.process_stream(lambda t, v: seen.append((t, asp.now(), v)),
                                              future=asp.io.tcp("127.0.0.1", port),
                                              on_live_start=lambda: seen.append("live"))],
             clock)
    assert seen == ["live", (NOON, NOON, "alpha"), (NOON, NOON, "beta"), (NOON, NOON, "gamma")]


def test_tcp_length_prefixed_frames_as_bytes(clock):
    frames = [b"\x00\x01", b"", b"xyz"]
    payload = b"".join(len(f).to_bytes(4, "big") + f for f in frames)
    seen = []
    run_with(tcp_server(payload),
             lambda port: [asp.process_stream(lambda t, v: seen.append(v),
                                              future=asp.io.tcp("127.0.0.1", port,
                                                                framing="length_prefixed",
                                                                as_bytes=True))],
             clock)
    assert seen == frames


def test_history_then_a_tcp_feed_in_one_stream(clock):
    seen = []
    past = [(NOON - timedelta(seconds=2), "old1"), (NOON - timedelta(seconds=1), "old2")]
    run_with(tcp_server(b"new1\nnew2\n"),
             lambda port: [asp.process_stream(lambda t, v: seen.append((asp.now(), v)), past,
                                              asp.io.tcp("127.0.0.1", port))],
             clock, start=None)
    assert seen == [(NOON - timedelta(seconds=2), "old1"), (NOON - timedelta(seconds=1), "old2"),
                    (NOON, "new1"), (NOON, "new2")]


def test_a_refused_connection_fails_the_run_naming_the_source(clock):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]  # bound, not listening: connections are refused
    try:
        with pytest.raises(ValueError, match=f"tcp source '127.0.0.1:{port}'.*cannot connect"):
            asyncio.run(asp.run([asp.process_stream(print, future=asp.io.tcp("127.0.0.1", port),
                                                    name="feed")], clock=clock))
    finally:
        probe.close()


def test_udp_datagrams_until_closed(clock):
    source = asp.io.udp(0)
    seen = []

    def on_datagram(t, v):
        seen.append((t, v))
        if v == "3":
            source.close()

    async def send():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for k in "123":
                s.sendto(k.encode(), ("127.0.0.1", source.port))

    asyncio.run(asp.run([asp.process_stream(on_datagram, future=source), send()], NOON,
                        clock=clock))
    assert seen == [(NOON, "1"), (NOON, "2"), (NOON, "3")]
    assert source.port != 0


def threads():
    return len(os.listdir("/proc/self/task"))


def test_the_sources_share_one_io_thread_that_ends_with_the_last(clock):
    """Three sources read by two runs at once: one I/O thread more while they are open, each
    datagram to its own stream; none once the runs are over."""
    before = threads()
    sources = [asp.io.udp(0) for _ in range(3)]
    seen = []
    during = []

    def on_datagram(name):
        def on(t, v):
            seen.append((name, v))
            if len(seen) == 3:
                during.append(threads())
                for s in sources:
                    s.close()
        return on

    async def send():
        # Both runs have opened their sources when they first wait, before this task runs.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for k, source in enumerate(sources):
                s.sendto(str(k).encode(), ("127.0.0.1", source.port))

    async def main():
        await asyncio.gather(
            asp.run([asp.process_stream(on_datagram("a"), future=sources[0]),
                     asp.process_stream(on_datagram("b"), future=sources[1])], NOON,
                    clock=clock),
            asp.run([asp.process_stream(on_datagram("c"), future=sources[2])], NOON,
                    clock=asp.testing.ManualClock(NOON)),
            send())

    asyncio.run(main())
    assert sorted(seen) == [("a", "0"), ("b", "1"), ("c", "2")]
    assert during == [before + 1]
    assert threads() == before


def test_a_live_source_is_read_once(clock):
    source = asp.io.udp(0)

    async def stop():
        source.close()

    asyncio.run(asp.run([asp.process_stream(print, future=source), stop()], clock=clock))
    with pytest.raises(ValueError, match="has been read by a stream already"):
        asyncio.run(asp.run([asp.process_stream(print, future=source)], clock=clock))


def test_a_websocket_feed_served_by_asp_play(tmp_path, clock):
    import os
    import subprocess
    from pathlib import Path
    tool = os.environ.get("ASP_TOOL")
    if not tool:
        pytest.skip("the asp tool is not built (ASP_BUILD_TOOL=OFF)")
    quotes = Path(__file__).resolve().parents[2] / "examples" / "data" / "acme_quotes.csv"
    log = tmp_path / "quotes.asplog"
    subprocess.run([tool, "convert", str(quotes), str(log)], check=True, capture_output=True)
    expected = subprocess.run([tool, "play", str(log), "--format", "json", "--quiet"], check=True,
                              capture_output=True, text=True).stdout.splitlines()
    player = subprocess.Popen([tool, "play", str(log), "--to", "ws-server://127.0.0.1:0",
                               "--clients", "1", "--format", "json"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = int(player.stderr.readline().rstrip().rsplit(":", 1)[1])
        seen = []
        asyncio.run(asp.run([asp.process_stream(lambda t, v: seen.append(v),
                                                future=asp.io.websocket(f"ws://127.0.0.1:{port}/"))],
                            NOON, clock=clock))
        assert player.wait() == 0
        assert seen == expected and len(seen) == 20
    finally:
        if player.poll() is None:
            player.kill()
            player.wait()
        player.stderr.close()
