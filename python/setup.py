"""Builds the extension asp._engine with the repository's CMake project (Release, only what the
Python package needs) and packages it with the pure-Python modules. Metadata is in
pyproject.toml; the version is the C++ project's, read from CMakeLists.txt."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def cmake_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(asp VERSION ([0-9]+\.[0-9]+\.[0-9]+)", text)
    if match is None:
        raise RuntimeError(f"no 'project(asp VERSION x.y.z' in {ROOT / 'CMakeLists.txt'}")
    return match.group(1)


def nats_option() -> str:
    """asp.nats is built when libnats-dev is installed (pkg-config finds libnats), unless the
    environment says ASP_BUILD_NATS=OFF."""
    wanted = os.environ.get("ASP_BUILD_NATS", "").upper()
    if wanted in ("OFF", "0", "NO", "FALSE"):
        return "OFF"
    try:
        found = subprocess.run(["pkg-config", "--exists", "libnats"]).returncode == 0
    except FileNotFoundError:
        found = False
    return "ON" if found else "OFF"


class CMakeBuild(build_ext):
    """Configures and builds the CMake target asp_python, then copies the module it makes to
    where setuptools expects the extension."""

    def build_extension(self, ext: Extension) -> None:
        build_dir = Path(self.build_temp).resolve() / "cmake"
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.run(
            ["cmake", "-S", str(ROOT), "-B", str(build_dir), *generator,
             "-DCMAKE_BUILD_TYPE=Release",
             "-DASP_BUILD_PYTHON=ON",
             "-DASP_BUILD_TESTS=OFF", "-DASP_BUILD_EXAMPLES=OFF", "-DASP_BUILD_BENCHMARKS=OFF",
             "-DASP_BUILD_TOOL=OFF", f"-DASP_BUILD_NATS={nats_option()}",
             f"-DPython_EXECUTABLE={sys.executable}"],
            check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "asp_python",
                        "--parallel", jobs], check=True)
        built = sorted((build_dir / "python" / "asp").glob("_engine*.so"))
        if not built:
            raise RuntimeError(f"the CMake build made no _engine module in {build_dir}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)


setup(
    version=cmake_version(),
    ext_modules=[Extension("asp._engine", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
