"""asp.nats against a real nats-server on loopback: publishing from a run, the history from
each kind of start, the seam into live messages, and the errors."""

import asyncio
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta

import pytest

import asp
from conftest import UTC, run

pytestmark = pytest.mark.skipif(not asp.nats.available, reason="built without asp::nats")

S = timedelta(seconds=1)
T0 = datetime(2020, 3, 2, 9, 30, tzinfo=UTC)


_reserved = []  # lock files held until the process exits
_next_port = []


def free_port():
    """A loopback port nothing listens on, that no other test process takes meanwhile: below
    the kernel's ephemeral range (no outgoing connection gets it) and reserved by an exclusive
    lock on a file named after it, as the C++ tests' free_port does (tests/http_client.hpp)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    first = 10000
    folder = os.path.join(tempfile.gettempdir(), "asp-test-ports")
    os.makedirs(folder, exist_ok=True)
    if not _next_port:
        _next_port.append(first + os.getpid() * 7919 % (low - first))
    for _ in range(low - first):
        port = _next_port[0]
        _next_port[0] = port + 1 if port + 1 < low else first
        try:
            lock = open(os.path.join(folder, str(port)), "a")
        except OSError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()  # another test process holds it
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                lock.close()
                continue
        _reserved.append(lock)
        return port
    raise RuntimeError(f"no free loopback port below {low}")


@pytest.fixture
def nats_url(tmp_path):
    """A nats-server with JetStream on free loopback ports, ready once its health check says
    so, stopped by its process id."""
    program = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port, monitor = free_port(), free_port()
    conf = tmp_path / "server.conf"
    conf.write_text(f'listen: 127.0.0.1:{port}\nhttp: 127.0.0.1:{monitor}\n'
                    f'jetstream {{ store_dir: "{tmp_path / "store"}" }}\n')
    # setpriv (util-linux) makes the server die with the test process, whatever ends it,
    # without running Python code between fork and exec.
    server = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", program, "-c", str(conf), "-l",
                               str(tmp_path / "server.log")],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                url = f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if b'"ok"' in answer.read():
                        break
            except OSError:
                pass
            assert server.poll() is None, "nats-server exited"
            assert time.monotonic() < deadline, "nats-server did not become ready"
            time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


def publish_history(url, subject, values, *, stream="TRADES", subjects=("trades.>",),
                    allow_direct=True, clock=None):
    """Publishes values[k] at T0 + (k+1) s from a run, as a recorder of the past would."""
    asp.nats.add_stream(url, stream, subjects, allow_direct=allow_direct)
    publisher = asp.nats.Publisher(url, subject, name="history")

    def each(t, v):
        publisher.publish(v)

    run([asp.process_stream(each, [(T0 + (k + 1) * S, v) for k, v in enumerate(values)],
                            on_live_start=publisher.flush)], T0, clock=clock)
    assert (publisher.published, publisher.failed) == (len(values), 0)


def read_history(url, clock, **options):
    seen = []
    trades = asp.nats.subject(url, "TRADES", "trades.>", follow_live=False, **options)
    run([asp.process_stream(lambda t, m: seen.append((t - T0, m)), trades.past, trades.live)],
        T0, clock=clock)
    return seen


@pytest.mark.parametrize("allow_direct", [True, False])
def test_history_from_each_kind_of_start(nats_url, clock, allow_direct):
    publish_history(nats_url, "trades.x", [f"p{k}" for k in range(1, 7)],
                    allow_direct=allow_direct, clock=clock)

    everything = read_history(nats_url, clock)
    assert [(at, m.value, m.subject, m.sequence) for at, m in everything] == [
        (k * S, f"p{k}", "trades.x", k) for k in range(1, 7)]
    assert all(m.headers == () for _, m in everything)

    from_time = read_history(nats_url, clock, start=T0 + 3.5 * S)
    assert [(at, m.value) for at, m in from_time] == [(4 * S, "p4"), (5 * S, "p5"), (6 * S, "p6")]

    from_sequence = read_history(nats_url, clock, start=5)
    assert [m.sequence for _, m in from_sequence] == [5, 6]

    assert read_history(nats_url, clock, start="new") == []


def test_subjects_headers_and_bytes(nats_url, clock):
    asp.nats.add_stream(nats_url, "TRADES", ["trades.>"])
    publisher = asp.nats.Publisher(nats_url, "trades.AAPL", message_ids=False)

    def each(t, v):
        publisher.publish(v, subject=f"trades.{v}", headers={"Venue": "XNAS"})

    run([asp.process_stream(each, [(T0 + S, "AAPL"), (T0 + 2 * S, "MSFT")],
                            on_live_start=publisher.flush)], T0, clock=clock)

    seen = read_history(nats_url, clock, keep_headers=True, as_bytes=True)
    assert [(at, m.value, m.subject, m.headers) for at, m in seen] == [
        (1 * S, b"AAPL", "trades.AAPL", (("Venue", "XNAS"),)),
        (2 * S, b"MSFT", "trades.MSFT", (("Venue", "XNAS"),))]


def test_the_past_then_live_messages_with_no_gap_or_duplicate(nats_url):
    publish_history(nats_url, "trades.x", ["h1", "h2", "h3"])
    trades = asp.nats.subject(nats_url, "TRADES", "trades.x")
    publisher = asp.nats.Publisher(nats_url, "trades.x", name="live")
    seen = []

    def on_live_start():
        seen.append("live")
        for v in ("l1", "l2"):
            publisher.publish(v)

    def on(t, m):
        seen.append((m.value, m.sequence))
        if m.value == "l2":
            trades.close()

    asyncio.run(asyncio.wait_for(
        asp.run([asp.process_stream(on, trades.past, trades.live, on_live_start=on_live_start)]),
        timeout=60))
    assert seen == [("h1", 1), ("h2", 2), ("h3", 3), "live", ("l1", 4), ("l2", 5)]
    assert trades.start_sequence == 1 and trades.repeats_dropped == 0


def test_a_stream_started_by_gather_in_a_coroutine(nats_url, clock):
    publish_history(nats_url, "trades.x", ["a", "b"], clock=clock)
    seen = []

    async def main():
        trades = asp.nats.subject(nats_url, "TRADES", "trades.x", follow_live=False)
        await asyncio.gather(asp.process_stream(lambda t, m: seen.append((t - T0, m.value)),
                                                trades.past, trades.live))
        seen.append(("after", asp.now() - T0))

    run([main()], T0, clock=clock)
    assert seen == [(1 * S, "a"), (2 * S, "b"), ("after", 2 * S)]


def test_errors_name_what_and_where(nats_url):
    closed = f"nats://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectionError, match=closed):
        asp.nats.subject(closed, "TRADES")
    with pytest.raises(ValueError, match="times must be 'header' or 'server'"):
        asp.nats.subject(nats_url, "TRADES", times="wall")
    with pytest.raises(ValueError, match="start sequence"):
        asp.nats.subject(nats_url, "TRADES", start=0)
    with pytest.raises(ValueError, match="start must be"):
        asp.nats.subject(nats_url, "TRADES", start="later")
    publisher = asp.nats.Publisher(nats_url, "trades.x")
    with pytest.raises(RuntimeError, match="needs a running ASP engine"):
        publisher.publish("x")
    with pytest.raises(TypeError, match="str or bytes"):
        run([asp.process_stream(lambda t, v: publisher.publish(v), [(T0, 5)])], T0)


def test_a_publish_to_a_subject_without_a_stream_fails_the_run(nats_url, clock):
    publisher = asp.nats.Publisher(nats_url, "nowhere.x", name="lost")

    def each(t, v):
        publisher.publish(v)

    with pytest.raises(ValueError, match="publisher 'lost' .*the message lost-1 to nowhere.x was not"):
        run([asp.process_stream(each, [(T0, "a")], on_live_start=publisher.flush)], T0,
            clock=clock)
