"""The processing functions, where the original package defines them (its `processor` module):
`from asp.processor import run, process_stream` works as `from asp import ...` does."""

from ._engine import call_later, now, sleep
from ._run import process_stream, run, timer

__all__ = ["call_later", "now", "process_stream", "run", "sleep", "timer"]
