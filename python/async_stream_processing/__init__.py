"""The original's package name: `import async_stream_processing as asp` runs on ASP."""

from asp import call_later, now, process_stream, run, sleep, testing, timer

__all__ = ["call_later", "now", "run", "sleep", "testing", "process_stream", "timer"]
