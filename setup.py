"""Builds the compiled part of the Python package with the project's own CMake.

setuptools has no notion of a CMake project, so the extension below is built
by running CMake on the repository (the C++ library and python/CMakeLists.txt)
and copying the module it produces next to the Python sources.
"""

import os
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    """An extension whose sources are a CMake target rather than files."""

    def __init__(self, name: str, target: str) -> None:
        super().__init__(name, sources=[])
        self.target = target


class CMakeBuild(build_ext):
    """Configures and builds the CMake target of each CMakeExtension."""

    def build_extension(self, ext: Extension) -> None:
        if not isinstance(ext, CMakeExtension):
            super().build_extension(ext)
            return
        build_dir = Path(os.environ.get("TASKMASTER_PY_BUILD_DIR", ROOT / "build" / "python"))
        build_dir.mkdir(parents=True, exist_ok=True)
        destination = Path(self.get_ext_fullpath(ext.name)).resolve()
        build_type = os.environ.get("TASKMASTER_PY_BUILD_TYPE", "Release")
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
            f"-DCMAKE_BUILD_TYPE={build_type}",
            "-DTASKMASTER_BUILD_PYTHON=ON",
            "-DTASKMASTER_BUILD_TESTS=OFF", "-DTASKMASTER_BUILD_BENCH=OFF",
            "-DTASKMASTER_BUILD_EXAMPLES=OFF", "-DTASKMASTER_BUILD_TOOLS=OFF",
            f"-DPython_EXECUTABLE={sys.executable}", f"-DPYTHON_EXECUTABLE={sys.executable}",
            f"-DTASKMASTER_PYTHON_MODULE_DIR={destination.parent}",
        ]
        subprocess.run(configure, check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", str(build_dir), "--target", ext.target, "-j", jobs],
                       check=True)
        if not destination.exists():
            raise RuntimeError(f"CMake built {ext.target} but {destination} is missing")


setup(ext_modules=[CMakeExtension("taskmaster._learner_1d", "taskmaster_python")],
      cmdclass={"build_ext": CMakeBuild})
