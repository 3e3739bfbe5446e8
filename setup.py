"""Build beamlet, with its hot modules compiled when this machine can.

`vm/_core.py` (the hot core) and `vm/_heap.py` (the copy of terms) are plain
Python that Cython can compile (each with a `.pxd` declaring its types), as
gevent and msgpack ship their hot code. Here each `vm/X.py` becomes the
extension `vm.X_c`, which `vm/X.py` loads over itself when present and built
from the same source (vm/_compiled.py; not with BEAMLET_PURE_PYTHON=1). The
extensions are optional: with no Cython, no greenlet headers or no C
compiler, the build prints one line saying so and installs the pure-Python
package, which behaves the same. Everything else about the package is in
pyproject.toml.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
# The modules of vm/ compiled, each from its .py and .pxd.
COMPILED_MODULES = ("_core", "_heap", "_patterns")
# Cython names a module's C init function, and looks for its .pxd, after the
# source file's name: the compiled module gets a copy named after it.
GENERATED = os.path.join("build", "cython", "vm")
DIRECTIVES = {
    "language_level": 3,
    # Annotations are documentation in this source, not C types: only the .pxd types.
    "annotation_typing": False,
    "auto_pickle": False,
    "embedsignature": True,
}


def _skip(why: str) -> None:
    print(f"beamlet: building the compiled modules of vm/ failed, installing pure Python "
          f"instead (same behaviour, slower): {why}", file=sys.stderr)


def _loader():
    """vm/_compiled.py, loaded by path (importing vm would need its dependencies):
    the digest it checks at import is the one computed here."""
    spec = importlib.util.spec_from_file_location(
        "_beamlet_compiled", os.path.join(HERE, "vm", "_compiled.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _extension(name: str, out: str, loader) -> Extension:
    """Copy vm/<name>.py and .pxd to <out>/<name>_c.*, stamped with their digest."""
    src = os.path.join(HERE, "vm", name)
    dst = os.path.join(out, name + loader.SUFFIX)
    for ext in loader.SOURCE_EXTENSIONS:
        shutil.copyfile(src + ext, dst + ext)
    # What vm/_compiled.py checks before loading the extension: a stale build
    # (the source edited since) is not used.
    with open(dst + ".py", "a") as f:
        f.write(f'\n_BUILT_FROM = "{loader.source_digest(src)}"\n')
    return Extension(f"vm.{name}{loader.SUFFIX}",
                     [os.path.join(GENERATED, name + loader.SUFFIX + ".py")])


def compiled_modules() -> list[Extension]:
    """The extensions, cythonized; none (with one line saying why) when they cannot be."""
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
    loader = _loader()
    exts = [_extension(name, out, loader) for name in COMPILED_MODULES]
    for ext in exts:
        ext.include_dirs.append(os.path.dirname(greenlet.__file__))  # greenlet.h
    # ... and finds each .pxd as vm/X_c.pxd on its include path, in a package.
    open(os.path.join(out, "__init__.pxd"), "w").close()
    try:
        return cythonize(exts, compiler_directives=DIRECTIVES, quiet=True,
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
            _skip(f"{ext.name}: {str(e) or type(e).__name__}")


setup(ext_modules=compiled_modules(), cmdclass={"build_ext": OptionalBuildExt})
