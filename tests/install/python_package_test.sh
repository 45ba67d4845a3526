#!/usr/bin/env bash
# The Python package as Python users install it: a wheel built with `python3 -m build --wheel
# --no-isolation`, installed into a fresh virtual environment in a temporary directory, runs
# the original README's first example and python/examples/quotes.py from there, with no
# PYTHONPATH; then `pip install --no-build-isolation ./python` into an environment that sees
# the system's packages. The version is the C++ project's.
# Usage: python_package_test.sh SOURCE_DIR WORK_DIR PYTHON
set -euo pipefail
src="$1"
work="$2"
python="$3"
rm -rf "$work"
mkdir -p "$work"
unset PYTHONPATH
version="$(sed -n 's/^project(asp VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")"
failures=0
expect() {
  if [ "$2" != "$3" ]; then
    printf 'FAILED: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3"
    failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}

# The wheel (the extension built by setup.py through CMake, in python/build/).
if ! "$python" -m build --wheel --no-isolation --outdir "$work/dist" "$src/python" \
    > "$work/wheel.log" 2>&1; then
  tail -40 "$work/wheel.log"
  echo "FAILED: python3 -m build --wheel"
  exit 1
fi
wheel="$(ls "$work"/dist/*.whl)"
tag="$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
expect "the wheel is named with the project's version, for this interpreter" \
  "asp_stream_processing-$version-$tag-$tag" "$(basename "$wheel" | cut -d- -f1-4)"

# A fresh environment of its own, the wheel installed from the file (no index), used from a
# directory away from the sources.
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --no-index --quiet "$wheel"
cd "$work"
expect "both packages import from the environment, at the project's version" \
  "$version $version True True" \
  "$("$work/venv/bin/python" -c 'import sys, asp, async_stream_processing as o; print(asp.__version__, o.__version__, asp.__file__.startswith(sys.prefix), asp._engine.__file__.startswith(sys.prefix))')"

# libnats-dev is among the build's dependencies (scripts/install-deps): the wheel has asp.nats.
expect "the wheel is built with asp.nats" "True" \
  "$("$work/venv/bin/python" -c 'import asp.nats; print(asp.nats.available)')"

# The original README's first example, as its README shows it. Its first column is the real
# time; the rest (virtual time, event time, what happened) is exact.
cat > first.py <<'PY'
import asyncio
from datetime import datetime, timedelta

import async_stream_processing as asp

NAMES = ["Jane", "John", "Sarah", "Paul", "Jane"]


def format(event_time: datetime):
    return f"{event_time:%H:%M:%S.%f}"


def log(event_time: datetime, msg: str):
    print(f"{format(datetime.now())} {format(asp.now())} {format(event_time)} {msg}")


def timestamps(start: datetime, delay: timedelta):
    current_time = start
    while True:
        yield current_time
        current_time += delay


class Greeter:
    def __init__(self):
        self.greeted = set()

    def greet(self, event_time: datetime, name: str):
        if name not in self.greeted:
            log(event_time, f"Hello {name}.")
            self.greeted.add(name)
        else:
            log(event_time, f"Hello again {name}!")


def main():
    greeter = Greeter()
    start_time = datetime(2025, 1, 1)
    past_queue = zip(timestamps(start_time, timedelta(seconds=1)), NAMES)
    asyncio.run(asp.run([asp.process_stream(callback=greeter.greet, past=past_queue)], start_time))


if __name__ == "__main__":
    main()
PY
expect "the original README's first example" \
  "00:00:00.000000 00:00:00.000000 Hello Jane.
00:00:01.000000 00:00:01.000000 Hello John.
00:00:02.000000 00:00:02.000000 Hello Sarah.
00:00:03.000000 00:00:03.000000 Hello Paul.
00:00:04.000000 00:00:04.000000 Hello again Jane!" \
  "$("$work/venv/bin/python" first.py | cut -d' ' -f2-)"
expect "python/examples/quotes.py" "$(cat "$src/python/examples/golden/quotes.txt")" \
  "$("$work/venv/bin/python" "$src/python/examples/quotes.py" --manual-clock)"

# pip from the source directory, into an environment that sees the system's packages: the
# build reuses the wheel's CMake build tree.
"$python" -m venv --system-site-packages "$work/site"
if ! "$work/site/bin/python" -m pip install --no-build-isolation --quiet "$src/python" \
    > "$work/pip.log" 2>&1; then
  tail -40 "$work/pip.log"
  echo "FAILED: pip install ./python"
  exit 1
fi
expect "pip install ./python installs both packages into the environment" \
  "$version True True" \
  "$("$work/site/bin/python" -c 'import sys, asp, async_stream_processing as o; print(o.__version__, asp.__file__.startswith(sys.prefix), o.__file__.startswith(sys.prefix))')"

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
