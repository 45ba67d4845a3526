"""asp.run: the engine's loop, nested in the running asyncio loop."""

import asyncio
import inspect
import weakref
from datetime import datetime, timedelta
from typing import (Any, AsyncIterable, Awaitable, Callable, Iterable, List, Optional,
                    Tuple, Union)

from . import _engine

#: What a stream's past may be: (time, value) pairs, or a source read in C++ (asp.data).
Past = Union[Iterable[Tuple[datetime, Any]], _engine.NativeSource, None]
#: What a stream's future may be: an async iterable of (time, value) pairs, or a live source
#: read in C++ (asp.io, asp.nats).
Future = Union[AsyncIterable[Tuple[datetime, Any]], _engine.LiveSource, _engine.NatsLive, None]


def process_stream(callback: Callable[..., Any], past: Past = (), future: Future = None,
                   on_start: Optional[Callable[[], Any]] = None,
                   on_live_start: Optional[Callable[[], Any]] = None,
                   unpack_args: bool = False, unpack_kwargs: bool = False, *,
                   name: Optional[str] = None, out_of_order: str = "fail") -> _engine.Work:
    """Describes a stream: callback(event_time, value) for each event of `past` (an iterable of
    (datetime, value) pairs, or a source from asp.data), then of `future` (an async iterable of
    such pairs). An `async def` callback is awaited before the stream's next event.

    `on_start()` runs before the first event, `on_live_start()` once the past is exhausted.
    With `unpack_args` the callback receives callback(event_time, *value), with
    `unpack_kwargs` callback(event_time, **value). `name` appears in errors (default: the
    callback's name); `out_of_order` is what an event earlier than its predecessor does:
    'fail' (ValueError from run), 'clamp' (delivered at the previous time) or 'skip'.

    Returns the stream as work for asp.run, or to await from a coroutine of the run. Errors
    surface from asp.run: an exception of the callback, with a note naming the stream, the
    event and the virtual time; ValueError for an event out of order (with 'fail') or a
    malformed (time, value) pair.
    """
    return _engine.process_stream(callback, None if past is None else past, future, on_start,
                                  on_live_start, unpack_args, unpack_kwargs, name=name,
                                  out_of_order=out_of_order)


def _takes_time(callback: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(None)
        return True
    except TypeError:
        return False


def timer(step: timedelta, callback: Callable[..., Any], start_time: datetime,
          end_time: Union[datetime, timedelta, None] = None) -> _engine.Work:
    """Calls callback(tick_time) — or callback() when it takes no argument — at start_time +
    step, start_time + 2·step, ...; stops after the first tick at or after end_time (a
    timedelta counts from start_time), or never without one. An `async def` callback is
    awaited before the next tick."""
    return _engine.timer(step, callback, start_time, end_time, _takes_time(callback))


class Task(asyncio.Future):  # type: ignore[type-arg]
    """What asyncio.create_task, ensure_future and gather make inside a run, from asp work
    (process_stream(...), timer(...)) or from a coroutine that code of the run creates: the
    work runs as a task of the run, on the virtual clock, and this future completes with its
    value or exception (with a note naming the task and the virtual time). A coroutine of the
    run that awaits it, or a gather of such tasks, resumes at the virtual time it completed.
    cancel() stops the work before its next step. The run waits for its tasks to finish."""

    def __init__(self, loop: asyncio.AbstractEventLoop, coro: Any, name: str) -> None:
        super().__init__(loop=loop)
        self._asp_coro = coro
        self._asp_name = name
        self._asp_done_ns: Optional[int] = None
        self._asp_control: Optional[_engine.TaskControl] = None

    def get_coro(self) -> Any:
        return self._asp_coro

    def get_name(self) -> str:
        return self._asp_name

    def set_name(self, value: object) -> None:
        self._asp_name = str(value)

    def cancel(self, msg: Any = None) -> bool:
        if not super().cancel(msg=msg):
            return False
        if self._asp_control is not None:
            self._asp_control.cancel()
        return True

    def __repr__(self) -> str:
        state = "pending" if not self.done() else "cancelled" if self.cancelled() else "done"
        return f"<asp Task {self._asp_name!r} {state}>"


_engine.set_task_type(Task)

# The task factory of each asyncio loop that has runs active: how many, and the factory it
# replaced (restored when the last run ends).
_factories: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, List[Any]]" = (
    weakref.WeakKeyDictionary())


def _task_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
    if _engine.wants_task(coro):
        name = getattr(coro, "__qualname__", None) or getattr(coro, "name", None) or repr(coro)
        task = Task(loop, coro, str(name))
        task._asp_control = _engine.spawn_task(coro, task, task.get_name())
        return task
    entry = _factories.get(loop)
    previous = entry[1] if entry is not None else None
    if previous is not None:
        return previous(loop, coro, **kwargs)
    return asyncio.Task(coro, loop=loop, **kwargs)


def _install_task_factory(loop: asyncio.AbstractEventLoop) -> None:
    entry = _factories.get(loop)
    if entry is None:
        _factories[loop] = [1, loop.get_task_factory()]
        loop.set_task_factory(_task_factory)
    else:
        entry[0] += 1


def _remove_task_factory(loop: asyncio.AbstractEventLoop) -> None:
    entry = _factories[loop]
    entry[0] -= 1
    if entry[0] == 0:
        del _factories[loop]
        if loop.get_task_factory() is _task_factory:  # type: ignore[comparison-overlap]
            loop.set_task_factory(entry[1])


# How many turns asyncio gets at most while a run settles, when its loop does not show its
# queue of callbacks (CPython's loops do: `_ready`).
_SETTLE_TURNS = 64


async def _settle(aloop: asyncio.AbstractEventLoop) -> None:
    """Lets asyncio run the callbacks a task's end scheduled (and those they schedule) before
    the run's clock moves on."""
    ready = getattr(aloop, "_ready", None)
    for _ in range(_SETTLE_TURNS):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            return


async def run(coroutines: Iterable[Awaitable[Any]], start_time: Optional[datetime] = None, *,
              clock: Optional["_engine.ManualClock"] = None,
              rate: Optional[float] = None) -> None:
    """Runs the coroutines (and streams, timers) on the virtual clock until all are done.

    Awaited inside a running asyncio loop: `asyncio.run(asp.run([...], start_time))`. The
    virtual clock starts at `start_time` — without one, at the earlier of the real time and the
    first past event — and `asp.now()` returns datetimes of the same kind (naive local, or
    aware in start_time's zone). Work due before the real clock runs at once, in time order;
    once everything due is done, the run waits in asyncio (other asyncio work runs meanwhile)
    until the next deadline or live input.

    `clock`: an asp.testing.ManualClock, to run live behaviour deterministically in zero real
    time. `rate`: replay at `rate` times the original speed instead of as fast as possible.

    An exception in a callback or coroutine propagates out of the run with a note naming the
    stream or task and the virtual time; cancelling the awaiting task stops the run.
    """
    engine = _engine.Engine(clock)
    start_ns = engine.set_start(start_time)
    if rate is not None:
        engine.set_rate(rate)
    aloop = asyncio.get_running_loop()
    waiter: Optional[asyncio.Future[None]] = None

    def wake() -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    engine.enter()
    fd = engine.wake_handle()
    aloop.add_reader(fd, wake)
    _install_task_factory(aloop)
    try:
        for work in coroutines:
            engine.start(work)
        while engine.poll(start_ns):
            if engine.settling:
                await _settle(aloop)
                engine.end_settle()
                continue
            deadline = engine.next_deadline()
            if deadline is not None and engine.manual and engine.in_flight == 0:
                # A manual clock does not wait for a deadline: it moves to it.
                engine.skip_to(deadline)
                continue
            timeout = None
            if deadline is not None:
                timeout = (deadline - engine.real_now_ns()) / 1e9
                if timeout <= 0:
                    # Due already: let asyncio take its turn, then go on.
                    await asyncio.sleep(0)
                    continue
            waiter = aloop.create_future()
            handle = aloop.call_later(timeout, wake) if timeout is not None else None
            try:
                await waiter
            finally:
                waiter = None
                if handle is not None:
                    handle.cancel()
    finally:
        _remove_task_factory(aloop)
        aloop.remove_reader(fd)
        engine.leave()
        engine.close()
