"""Build beamlet, with its hot core compiled when this machine can.

`vm/_core.py` is plain Python that Cython can compile (with `vm/_core.pxd`
declaring its types), as gevent and msgpack ship their hot code. Here it
becomes the extension `vm._core_c`, which `vm/_core.py` loads over itself
when present (unless BEAMLET_PURE_PYTHON=1). The extension is optional: with
no Cython, no greenlet headers or no C compiler, the build prints one line
saying so and installs the pure-Python package, which behaves the same.
Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
# Cython names a module's C init function, and looks for its .pxd, after the
# source file's name: the compiled module gets a copy named after it.
GENERATED = os.path.join("build", "cython", "vm")
SOURCES = {"_core.py": "_core_c.py", "_core.pxd": "_core_c.pxd"}
DIRECTIVES = {
    "language_level": 3,
    # Annotations are documentation in this source, not C types: only the .pxd types.
    "annotation_typing": False,
    "auto_pickle": False,
    "embedsignature": True,
}


def _skip(why: str) -> None:
    print(f"beamlet: building the compiled core (vm._core_c) failed, installing pure "
          f"Python instead (same behaviour, slower): {why}", file=sys.stderr)


def compiled_core() -> list[Extension]:
    """The extension, cythonized; none (with one line saying why) when it cannot be."""
    if sys.implementation.name != "cpython" or os.environ.get("BEAMLET_PURE_PYTHON"):
        return []
    try:
        import greenlet
        from Cython.Build import cythonize
    except ImportError as e:
        _skip(f"{e.name} is not installed")
        return []
    out = os.path.join(HERE, GENERATED)
    os.makedirs(out, exist_ok=True)
    digest = hashlib.sha256()
    for src, dst in SOURCES.items():
        shutil.copyfile(os.path.join(HERE, "vm", src), os.path.join(out, dst))
        with open(os.path.join(HERE, "vm", src), "rb") as f:
            digest.update(f.read())
    # What vm/_core.py checks before loading the extension (see its end): a stale
    # build (the source edited since) is not used.
    with open(os.path.join(out, "_core_c.py"), "a") as f:
        f.write(f'\n_BUILT_FROM = "{digest.hexdigest()}"\n')
    # ... and finds that .pxd as vm/_core_c.pxd on its include path, in a package.
    open(os.path.join(out, "__init__.pxd"), "w").close()
    ext = Extension("vm._core_c", [os.path.join(GENERATED, "_core_c.py")],
                    include_dirs=[os.path.dirname(greenlet.__file__)])
    try:
        return cythonize([ext], compiler_directives=DIRECTIVES, quiet=True,
                         include_path=[os.path.dirname(out)])
    except Exception as e:  # a Cython error: the pure package still works
        _skip(f"Cython: {e}")
        return []


class OptionalBuildExt(build_ext):
    """build_ext that falls back to pure Python instead of failing the install."""

    def run(self):
        try:
            super().run()
        except Exception as e:  # no compiler at all (distutils' CCompilerError and kin)
            _skip(str(e) or type(e).__name__)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:  # the compiler failed on this extension
            _skip(str(e) or type(e).__name__)


setup(ext_modules=compiled_core(), cmdclass={"build_ext": OptionalBuildExt})
