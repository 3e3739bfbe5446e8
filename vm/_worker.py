"""The worker side of `vm.to_process`: a loop in a separate OS process.

What this module owns: reading a job (a function named by module and
qualified name, its arguments, and where the caller's main file is), running
it, and writing back its result or its exception. It is started as a script
(`python .../vm/_worker.py REQ_FD RESP_FD`), not as part of the `vm` package,
so a worker starts in the time Python takes to start; the package is
imported only if a job's arguments or result hold beamlet terms.

Frames on both pipes are a 4-byte big-endian length and a pickle. A worker
runs jobs one after another (module-level state persists between them, as
in a `multiprocessing` pool) and exits when its parent closes the request
pipe or dies (it checks its parent every half second), or when it is killed
(`vm.to_process` kills a worker whose caller died or timed out, with its
whole process group).

What it refuses: being a node. Process functions (`vm.send`, `vm.receive`)
do not work here; the job is plain Python.
"""

import os
import pickle
import struct
import sys
import threading
import time
import traceback

_HEADER = struct.Struct(">I")
#: Set while a worker runs the caller's main file (see vm/_node.py).
LOADING = "BEAMLET_WORKER_LOADING_MAIN"


def _read_exact(fd, n):
    chunks = []
    while n:
        b = os.read(fd, n)
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def _write_frame(fd, payload):
    data = _HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _module(module_name, main_path):
    """The module `module_name`, loading the caller's main file if it is the
    caller's `__main__` or not importable by name (as multiprocessing does: as
    `__mp_main__`, so a `if __name__ == "__main__":` block does not run again)."""
    import importlib
    import importlib.util

    module = _loaded.get(module_name)
    if module is not None:
        return module
    if module_name != "__main__":
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if not main_path:
                raise
    if module is None:
        if not main_path:
            raise ImportError(f"cannot find the caller's {module_name} module (no file)")
        spec = importlib.util.spec_from_file_location("__mp_main__", main_path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the caller's {module_name} module from {main_path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules["__mp_main__"] = module
        # Running the file's top level must not start a node again (a worker per
        # worker, without end): vm.run refuses while this is set.
        os.environ[LOADING] = main_path
        try:
            spec.loader.exec_module(module)
        finally:
            del os.environ[LOADING]
        # Arguments may name the caller's functions as `__main__.f`.
        sys.modules[module_name] = module
    _loaded[module_name] = module
    return module


_loaded: dict = {}


def _resolve(module_name, qualname, main_path):
    obj = _module(module_name, main_path)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _watch_parent(parent):
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def serve(req_fd, resp_fd):
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    while True:
        header = _read_exact(req_fd, _HEADER.size)
        if header is None:
            return
        body = _read_exact(req_fd, _HEADER.unpack(header)[0])
        if body is None:
            return
        try:
            module_name, qualname, main_path, arguments = pickle.loads(body)
            fn = _resolve(module_name, qualname, main_path)
            args, kwargs = pickle.loads(arguments)  # after the modules they may name
            outcome: tuple = ("ok", fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - every failure goes back to the caller
            text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            outcome = ("error", _portable(e), type(e).__qualname__, str(e), text)
        try:
            payload = pickle.dumps(outcome)
        except Exception as e:  # noqa: BLE001 - a result that cannot travel
            payload = pickle.dumps(("error", None, type(e).__qualname__,
                                    f"the result cannot be sent back: {e}", ""))
        _write_frame(resp_fd, payload)


def _portable(exc):
    """The exception itself if it survives pickling, else None (its text travels)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001
        return None
    return exc


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
