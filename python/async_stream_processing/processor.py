"""The original's `async_stream_processing.processor`: `run`, `process_stream`, `sleep`, `now`,
`call_later` and `timer`, on ASP's engine (the same objects as in `asp.processor`)."""

from asp.processor import call_later, now, process_stream, run, sleep, timer

__all__ = ["call_later", "now", "process_stream", "run", "sleep", "timer"]
