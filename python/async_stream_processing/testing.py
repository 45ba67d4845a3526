"""The original's `async_stream_processing.testing`: `timestamps` and `create_async_generator`
(the same objects as in `asp.testing`, which also has ASP's ManualClock and real_now)."""

from asp.testing import ManualClock, create_async_generator, real_now, timestamps

__all__ = ["timestamps", "create_async_generator"]
