"""Every import form a program of the original may use works, in `asp` as in
`async_stream_processing`: each form runs first thing in a fresh interpreter, then the names it
brought in are checked to be the engine's."""

import subprocess
import sys

import pytest

PROCESSING = ["run", "process_stream", "sleep", "now", "call_later", "timer"]
TESTING = ["timestamps", "create_async_generator"]


def forms(pkg):
    """(import statement, names it must bind) for package `pkg`."""
    return [
        (f"import {pkg}", [pkg]),
        (f"import {pkg} as asp_alias", ["asp_alias"]),
        (f"import {pkg}.testing", [f"{pkg}.testing.{n}" for n in TESTING]),
        (f"import {pkg}.processor", [f"{pkg}.processor.{n}" for n in PROCESSING]),
        (f"import {pkg}.testing as t", [f"t.{n}" for n in TESTING]),
        (f"import {pkg}.processor as p", [f"p.{n}" for n in PROCESSING]),
        (f"from {pkg} import testing", [f"testing.{n}" for n in TESTING]),
        (f"from {pkg} import processor", [f"processor.{n}" for n in PROCESSING]),
        (f"from {pkg} import " + ", ".join(PROCESSING + ["testing"]), PROCESSING + ["testing"]),
        (f"from {pkg} import *", PROCESSING + ["testing"]),
        (f"from {pkg}.testing import " + ", ".join(TESTING), TESTING),
        (f"from {pkg}.testing import *", TESTING),
        (f"from {pkg}.processor import " + ", ".join(PROCESSING), PROCESSING),
        (f"from {pkg}.processor import *", PROCESSING),
    ]


CHECK = """
import asp as _engine_package
import asp.processor as _engine_processor
import asp.testing as _engine_testing
for _name in {names!r}:
    _value = eval(_name)
    _leaf = _name.rsplit(".", 1)[-1]
    if _leaf in {processing!r}:
        assert _value is getattr(_engine_processor, _leaf), _name
    elif _leaf in {testing!r}:
        assert _value is getattr(_engine_testing, _leaf), _name
print("ok")
"""


@pytest.mark.parametrize("pkg", ["asp", "async_stream_processing"])
def test_every_import_form_works_in_a_fresh_interpreter(pkg):
    for statement, names in forms(pkg):
        program = statement + "\n" + CHECK.format(names=names, processing=PROCESSING,
                                                    testing=TESTING)
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0 and done.stdout == "ok\n", (statement, done.stderr)


def test_the_original_programs_first_lines_run():
    program = """
import asyncio
from datetime import datetime, timedelta
from async_stream_processing import process_stream, run, now
from async_stream_processing.testing import timestamps, create_async_generator

seen = []
start = datetime(2025, 1, 1, 9, 30)
history = list(zip(timestamps(start, timedelta(seconds=1)), "abc"))
asyncio.run(run([process_stream(lambda t, v: seen.append((v, now())), history)], start))
assert seen == [("a", start), ("b", start + timedelta(seconds=1)),
                ("c", start + timedelta(seconds=2))], seen
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def test_every_public_name_says_what_it_does():
    import asp
    import asp.data
    import asp.io
    import asp.testing
    modules = [asp, asp.data, asp.io, asp.testing, asp.processor]
    undocumented = [f"{m.__name__}.{name}" for m in modules for name in m.__all__
                    if not (getattr(m, name).__doc__ or "").strip()]
    assert undocumented == []
    assert "past" in asp.process_stream.__doc__ and "Errors" in asp.process_stream.__doc__
