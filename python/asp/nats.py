"""NATS JetStream from Python (asp::nats): a subject as a past-then-live source, and a
publisher.

    trades = asp.nats.subject("nats://127.0.0.1:4222", "TRADES", "trades.>", start=t0)
    await asp.run([asp.process_stream(on_trade, trades.past, trades.live)])

The history from `start` is the stream's past, replayed as fast as the machine allows; the
messages after it come live, on the real clock, with no gap and no duplicate at the seam. Each
event is an `asp.nats.Message`; its time is the message's Asp-Time header (what ASP's
publishers and `asp play --to nats://` write), or with `times="server"` the time the server
stored it. Errors name the stream, the subject, the servers and the message's sequence.
"""

from datetime import datetime
from typing import Iterable, Mapping, NamedTuple, Optional, Tuple, Union

from . import _engine

__all__ = ["Message", "Publisher", "Subject", "add_stream", "available", "subject"]

#: Whether this build has asp.nats (it needs libnats-dev when the package is built).
available: bool = bool(_engine.has_nats)


class Message(NamedTuple):
    """A JetStream message as a stream's callback receives it."""

    #: The payload: str (UTF-8, invalid bytes replaced), or bytes with `as_bytes=True`.
    value: Union[str, bytes]
    #: The subject it was published on.
    subject: str
    #: Its stream sequence number.
    sequence: int
    #: When the server stored it, as a datetime of the run's kind.
    stored: datetime
    #: Its headers but Asp-Time, as (name, value) pairs, with `keep_headers=True`; else ().
    headers: Tuple[Tuple[str, str], ...]


if available:
    _engine.nats_set_message_type(Message)
    Subject = _engine.NatsSubject
else:  # pragma: no cover - a build without libnats
    Subject = object  # type: ignore[misc,assignment]


def _need() -> None:
    if not available:
        raise RuntimeError("asp.nats: this build of asp has no NATS support "
                           "(build it with libnats-dev installed)")


def subject(servers: str, stream: str, subject: str = ">", *,
            start: Union[datetime, int, str, None] = None, times: str = "header",
            start_tolerance: float = 0.0, caught_up_pending: int = 0,
            stall_timeout: float = 60.0, follow_live: bool = True,
            live_capacity: int = 65536, keep_headers: bool = False,
            as_bytes: bool = False) -> "_engine.NatsSubject":
    """A JetStream subject of `stream` (a filter: wildcards allowed) on `servers`
    (comma-separated nats:// URLs): pass `.past` and `.live` to one process_stream.

    `start`: where the history starts — a datetime (the first message whose time is at or
    after it, found by binary search), a stream sequence number, "new" (no history), or None
    (the stream's first message). `start_tolerance` (seconds): for streams that several
    unsynchronised producers write, how much earlier a message may be than one stored before
    it. `caught_up_pending`: the past ends once at most this many messages are pending.
    `stall_timeout` (seconds): replay fails when no message comes for this long while history
    is pending. `follow_live=False` ends the stream with the history (a backtest).
    `live_capacity`: live messages held for the run at most. `keep_headers` fills
    Message.headers.

    Connects at the call (ConnectionError naming the servers when none answers); the
    subscription is made when the stream starts. A failure while reading (a message without a
    readable time, a stall) fails the run with a ValueError naming the stream, the subject and
    the sequence.
    """
    _need()
    return _engine.nats_subject(servers, stream, subject, start=start, times=times,
                                start_tolerance=start_tolerance,
                                caught_up_pending=caught_up_pending,
                                stall_timeout=stall_timeout, follow_live=follow_live,
                                live_capacity=live_capacity, keep_headers=keep_headers,
                                as_bytes=as_bytes)


class Publisher:
    """Publishes str or bytes values to JetStream, each with its event time (the run's virtual
    time unless given) in the Asp-Time header and, with `message_ids`, the id "<name>-<n>" by
    which JetStream stores a repeat once: a deterministic replay that publishes the same
    results again within the stream's duplicate window stores each only once.

    Publishing is asynchronous: at most `max_in_flight` messages wait for their
    acknowledgement. A message not stored for a passing reason (a leader election, a lost
    connection) is sent again with its id, at most `max_attempts` times in all and for at most
    `retry_for` seconds; a refusal for good (no stream for the subject) or one still not stored
    after its retries fails the run with a ValueError naming the publisher, the message id and
    the subject. `flush()` waits for every acknowledgement (at most `flush_timeout` seconds)
    and raises that error too. A publisher belongs to the run that publishes first with it.
    """

    def __init__(self, servers: str, subject: str, *, name: str = "publisher",
                 max_in_flight: int = 4096, message_ids: bool = True,
                 flush_timeout: float = 30.0, max_attempts: int = 60,
                 retry_for: float = 60.0) -> None:
        _need()
        self._native = _engine.NatsPublisher(servers, subject, name=name,
                                             max_in_flight=max_in_flight,
                                             message_ids=message_ids,
                                             flush_timeout=flush_timeout,
                                             max_attempts=max_attempts, retry_for=retry_for)

    def publish(self, value: Union[str, bytes], *, subject: Optional[str] = None,
                time: Optional[datetime] = None,
                headers: Union[Mapping[str, str], Iterable[Tuple[str, str]], None] = None
                ) -> None:
        """Publishes `value` (str as UTF-8, or bytes) to the publisher's subject, or to
        `subject`, at `time` (default: asp.now()), with `headers` besides Asp-Time and the
        message id. Call it from code that a run runs."""
        self._native.publish(value, subject=subject, time=time, headers=headers)

    def flush(self) -> None:
        """Waits until every message published is acknowledged; raises ValueError for the
        first that failed, or when they are not all acknowledged within flush_timeout."""
        self._native.flush()

    @property
    def published(self) -> int:
        """Messages published so far."""
        return self._native.published

    @property
    def failed(self) -> int:
        """Messages JetStream refused for good."""
        return self._native.failed

    @property
    def resent(self) -> int:
        """Sends of messages again after a passing failure."""
        return self._native.resent


def add_stream(servers: str, name: str, subjects: Iterable[str], *,
               allow_direct: bool = True) -> None:
    """Creates the JetStream stream `name` over `subjects` (or checks that one of that name
    exists, leaving its configuration as it is)."""
    _need()
    _engine.nats_add_stream(servers, name, list(subjects), allow_direct=allow_direct)
