"""Live sources read in C++ (asp::asio): pass them as process_stream's `future`.

    feed = asp.io.tcp("127.0.0.1", 9000)
    await asp.run([asp.process_stream(on_quote, past=history, future=feed)])

Each source runs in a thread of its own that reads the socket natively and hands every message
to the run, where it is due at its arrival (the run's real clock when it came in). Messages
arrive as str (UTF-8; invalid bytes replaced), or bytes with `as_bytes=True`. A source opens
when its stream starts, ends when the peer closes (TCP, websocket) or on `close()`, and a
failure (a refused connection, a frame too long) fails the run with the source's name.
"""

from . import _engine

__all__ = ["tcp", "udp", "websocket"]


def tcp(host: str, port: int, *, framing: str = "lines", reconnect: bool = False,
        as_bytes: bool = False) -> _engine.LiveSource:
    """A TCP client: one message per line (`framing="lines"`), or per frame with a 4-byte
    big-endian length before it (`"length_prefixed"`). With `reconnect`, a lost or refused
    connection is retried with capped exponential back-off instead of failing the run."""
    return _engine.io_tcp(host, port, framing=framing, reconnect=reconnect, as_bytes=as_bytes)


def udp(port: int, *, address: str = "127.0.0.1", as_bytes: bool = False) -> _engine.LiveSource:
    """Datagrams received on ADDRESS:PORT, one message each. Port 0 lets the system choose:
    read `.port` once the stream has started."""
    return _engine.io_udp(port, address=address, as_bytes=as_bytes)


def websocket(url: str, *, reconnect: bool = False, as_bytes: bool = False) -> _engine.LiveSource:
    """A websocket client of ws://HOST[:PORT][/PATH] or wss://... (TLS, the server's
    certificate verified), one message each."""
    return _engine.io_websocket(url, reconnect=reconnect, as_bytes=as_bytes)
