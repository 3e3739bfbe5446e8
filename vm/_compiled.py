"""Loading a module's compiled twin over it: one rule for every compiled module.

Some modules of `vm/` (listed in `setup.py`, `COMPILED_MODULES`) are plain
Python that Cython can compile, with a `.pxd` beside them declaring C types.
`pip install` builds each `vm/X.py` into the extension `vm.X_c` where a C
compiler and Cython are there. The last lines of `vm/X.py` call
`load_compiled(globals())`, which replaces every name of the pure module
with the compiled module's object, so the rest of the program imports
`vm.X` and runs whichever build is there, and every table (a module-level
dict or set that functions read and `register_*` calls mutate) exists once.

The compiled module is used only when it was built from the source beside
it: `setup.py` appends `_BUILT_FROM = "<source_digest(...)>"` to the copy
it compiles, and an extension built from an older `.py` or `.pxd` (an
editable install, then an edit) is stale: loading it would run old code,
so this warns and keeps the pure module. `BEAMLET_PURE_PYTHON=1` in the
environment keeps every pure module.

This file imports nothing from `vm`: `setup.py` loads it by path to compute
the same digest.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import warnings

SUFFIX = "_c"  # vm/X.py compiles to the extension vm.X_c
SOURCE_EXTENSIONS = (".py", ".pxd")  # what a build is made from, in digest order


def source_digest(base: str) -> str | None:
    """The SHA-256 of `base`.py and `base`.pxd (`base`: a path without its
    extension), or None when one of them is missing (then nothing is trusted)."""
    h = hashlib.sha256()
    for ext in SOURCE_EXTENSIONS:
        try:
            with open(base + ext, "rb") as f:
                h.update(f.read())
        except OSError:
            return None
    return h.hexdigest()


def load_compiled(namespace: dict) -> bool:
    """Replace the names of the pure module whose globals are `namespace` with
    those of its compiled twin, when that exists, is fresh, and pure Python is
    not forced. Returns whether it did."""
    if os.environ.get("BEAMLET_PURE_PYTHON"):
        return False
    name = namespace["__name__"]
    try:
        compiled = importlib.import_module(name + SUFFIX)
    except ImportError:  # not built (no compiler, no Cython): the source runs
        return False
    source = os.path.splitext(namespace["__file__"])[0]
    if getattr(compiled, "_BUILT_FROM", None) != source_digest(source):
        py, pxd = (name.replace(".", "/") + ext for ext in SOURCE_EXTENSIONS)
        warnings.warn(
            f"{compiled.__file__} was built from another version of {py} or {pxd}: "
            f"running the pure-Python {name} instead. Rebuild it with `pip install -e .` "
            "(or `python setup.py build_ext --inplace`).",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    # Every name, private ones too (`from m import *` would copy only the public
    # ones): other modules import tables such as vm._heap._SCALARS, and
    # the compiled functions read and mutate the compiled module's own.
    namespace.update({k: v for k, v in vars(compiled).items()
                      if not (k.startswith("__") and k.endswith("__")) and k != "_BUILT_FROM"})
    return True
