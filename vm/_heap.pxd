# Types for the compiled build of vm/_heap.py (Cython's "pure Python mode":
# this file augments the .py, which stays plain Python). setup.py compiles
# _heap.py with it into the extension `vm._heap_c`; see vm/_compiled.py.
#
# Only the fast paths are typed: the walk (`_copy`, `_c`, `_nested`) and the
# loops over tuples, lists and dicts become C functions calling each other
# without going through Python. Everything else stays a Python-visible
# function, and the tables (`_SCALARS`, `_COPIERS`, `_REGISTERED`, ...) stay
# module-level Python objects: other modules import them, and
# register_term_type mutates them, so the compiled functions must read the
# very objects those see (a `cdef` global of its own would be a second, hidden
# copy; `_scalar_types` below is the same set under a C name).

cimport cython

# Compiled, the walk recurses as C calls, which CPython does not count; these
# count each level against the recursion limit (`_nested` in _heap.py). The
# first returns non-zero (1, not -1) with RecursionError set: `except *`
# checks for the error after each call.
cdef extern from "Python.h":
    int _enter_recursive_call "Py_EnterRecursiveCall"(const char *where) except *
    void _leave_recursive_call "Py_LeaveRecursiveCall"()

# COMPILED and _SCALARS as the compiled functions read them: C globals, where
# reading a module global is a dict lookup each time. `_scalar_types` holds the
# very set `_SCALARS` names (mutated in place, never replaced): one table.
cdef bint _in_c
cdef set _scalar_types

cdef object _copy(object x, object t)
cdef object _c(object x)
cdef bint _shared_type(object t) except -1
cdef object _nested(object x, object t)
@cython.locals(i=Py_ssize_t)
cdef object _copy_tuple(tuple x)
cdef object _copy_list(list x)
@cython.locals(out=dict)
cdef object _copy_dict(dict x)
