"""The original's package name: `import async_stream_processing as asp` runs on ASP.

Its modules are the original's: this one (the names of its API), `.processor` (where the
processing functions are defined) and `.testing` (`timestamps`, `create_async_generator`);
every name is the same object as in `asp`."""

from asp import __version__ as __version__

from . import processor, testing
from .processor import call_later, now, process_stream, run, sleep, timer

__all__ = ["call_later", "now", "run", "sleep", "testing", "process_stream", "timer"]
