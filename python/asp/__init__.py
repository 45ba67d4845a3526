"""ASP: Async Stream Processing on a virtual clock.

The original's API, name for name, on ASP's C++ engine: replay timestamped history as fast as
the machine allows with every clock reading consistent with the event times, then go live in
the same run. See README.md ("Python") and python-api documentation in docs/python.md.
"""

from . import data, io, nats, processor, testing
from ._engine import __version__ as __version__
from ._engine import call_later, now, sleep
from ._run import process_stream, run, timer

__all__ = ["call_later", "now", "run", "sleep", "testing", "process_stream", "timer"]
