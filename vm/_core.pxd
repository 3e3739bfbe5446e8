# Types for the compiled build of vm/_core.py (Cython's "pure Python mode":
# this file augments the .py, which stays plain Python). setup.py compiles
# _core.py with it into the extension `vm._core_c`; see _core.py's docstring.
#
# The rule: declare only what keeps the pure-Python semantics. The counters
# (budgets, reduction counts, deliveries, context switches) are C integers:
# the inputs that feed them are bounded (`reductions` and a policy's grant by
# the runtime's checks, `bump_reductions` clamps to MAX_REDUCTIONS), and 2**63
# reductions is centuries of work; every other field stays `object`. Every field stays `public` because the rest of vm/ reads and writes them;
# the records stay greenlet / plain subclasses so code that checks types,
# pickles nothing and sets no other attribute sees no difference.

cimport cython

cdef extern from "greenlet.h":
    ctypedef class greenlet.greenlet [object PyGreenlet]:
        pass

# greenlet's C API (greenlet.h), loaded on first use: switch_out, send and
# receive call it in the compiled build (see C_API in _core.py).
cdef extern from *:
    """
    static int beamlet_greenlet_api(void) {
        if (_PyGreenlet_API == NULL) {
            PyGreenlet_Import();
            if (_PyGreenlet_API == NULL) return -1;
        }
        return 0;
    }
    static PyObject *beamlet_green_switch(PyObject *g) {
        if (beamlet_greenlet_api() < 0) return NULL;
        return PyGreenlet_Switch((PyGreenlet *)g, NULL, NULL);
    }
    static PyObject *beamlet_green_current(void) {
        if (beamlet_greenlet_api() < 0) return NULL;
        return (PyObject *)PyGreenlet_GetCurrent();
    }
    """
    object green_switch "beamlet_green_switch" (greenlet g)
    object green_current "beamlet_green_current" ()

cdef bint C_API


# Cython exposes a `cdef public object` field to Python as a getset descriptor,
# which CPython (3.11+) does not specialise: Python code outside this module
# (the rest of vm/, stdlib) would read `p.state` at about a third of the speed of
# a __slots__ field. `member_slots(cls, instance, names)` replaces those
# descriptors with member descriptors on the same struct slots, which CPython
# reads and writes like __slots__ (LOAD_ATTR_SLOT). Object fields only: it finds
# each field's slot by storing a fresh object through the old descriptor and
# looking for it in the instance; typed fields (which refuse that object, or
# store its truth) keep their type-checking descriptors.
# The fields never hold NULL: nothing deletes them (a `del` would).
cdef extern from *:
    """
    #include <structmember.h>
    static PyObject *beamlet_member_slots(PyObject *cls, PyObject *instance, PyObject *names) {
        PyTypeObject *type = (PyTypeObject *)cls;
        PyObject **words = (PyObject **)instance;
        Py_ssize_t nwords = type->tp_basicsize / (Py_ssize_t)sizeof(PyObject *);
        Py_ssize_t n, i, w, found;
        PyMemberDef *defs;
        if (!PyType_Check(cls) || Py_TYPE(instance) != type || !PyTuple_Check(names)) {
            PyErr_SetString(PyExc_TypeError, "member_slots(cls, instance of cls, tuple of names)");
            return NULL;
        }
        n = PyTuple_GET_SIZE(names);
        /* The definitions and their names live as long as the type: never freed. */
        defs = (PyMemberDef *)PyMem_Calloc((size_t)n + 1, sizeof(PyMemberDef));
        if (defs == NULL) return PyErr_NoMemory();
        Py_INCREF(names);
        for (i = 0; i < n; i++) {
            PyObject *name = PyTuple_GET_ITEM(names, i), *old, *mark, *descr;
            int rc;
            old = PyObject_GetAttr(instance, name);
            if (old == NULL) return NULL;
            mark = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
            if (mark == NULL) { Py_DECREF(old); return NULL; }
            if (PyObject_SetAttr(instance, name, mark) < 0) {
                Py_DECREF(mark); Py_DECREF(old);
                if (!PyErr_ExceptionMatches(PyExc_TypeError)) return NULL;
                PyErr_Clear();  /* a typed field (a list, an int): it keeps its descriptor */
                continue;
            }
            found = -1;
            for (w = 0; w < nwords; w++) {
                if (words[w] == mark) found = found < 0 ? w : -2;
            }
            rc = PyObject_SetAttr(instance, name, old);
            Py_DECREF(old); Py_DECREF(mark);
            if (rc < 0) return NULL;
            if (found == -2) {
                PyErr_Format(PyExc_RuntimeError, "member_slots: two slots hold %R", name);
                return NULL;
            }
            if (found < 0) continue;  /* converted on the way in (a bint): keeps its descriptor */
            defs[i].name = PyUnicode_AsUTF8(name);
            if (defs[i].name == NULL) return NULL;
            defs[i].type = T_OBJECT_EX;
            defs[i].offset = found * (Py_ssize_t)sizeof(PyObject *);
            descr = PyDescr_NewMember(type, &defs[i]);
            if (descr == NULL) return NULL;
            rc = PyDict_SetItem(type->tp_dict, name, descr);
            Py_DECREF(descr);
            if (rc < 0) return NULL;
        }
        PyType_Modified(type);
        Py_RETURN_NONE;
    }
    """
    object member_slots "beamlet_member_slots" (object cls, object instance, object names)


cdef class Process(greenlet):
    cdef public object node
    cdef public object pid
    cdef public Mailbox mailbox
    cdef public Py_ssize_t received
    cdef public object state
    cdef public Py_ssize_t budget
    cdef public object grant
    cdef public Py_ssize_t reductions
    cdef public object priority
    cdef public object low_skips
    cdef public object trap_exit
    cdef public object links
    cdef public object monitors
    cdef public object monitored_by
    cdef public object dictionary
    cdef public object name
    cdef public object timers
    cdef public object undo
    cdef public object timed_out
    cdef public object exit_reason
    cdef public object entry
    cdef public object init_fn
    cdef public object parent_pid
    cdef public object max_heap
    cdef public object max_heap_kill
    cdef public object max_heap_log
    cdef public object label
    cdef public object aliases
    cdef public object ref_mark
    cdef public object token
    cdef public object is_main


cdef class Traced:
    cdef public object msg
    cdef public object token


cdef class Mailbox:
    cdef public object q
    cdef public Py_ssize_t head
    cdef public Py_ssize_t holes
    cdef public object cut
    cdef public Py_ssize_t traced

    cpdef Py_ssize_t start(self, received, mark) except? -1
    @cython.locals(q=list)
    cpdef take(self, p, Py_ssize_t i)
    @cython.locals(q=list, h=Py_ssize_t)
    cpdef popleft(self)
    cdef _advance(self, list q, Py_ssize_t h)


cdef class Core:
    cdef public object name
    cdef public object creation
    cdef public Py_ssize_t slice
    cdef public Py_ssize_t base_slice
    cdef public object sched
    cdef public object msacc
    cdef public dict procs
    cdef public dict aliases
    cdef public object rq_max
    cdef public object rq_high
    cdef public object rq
    cdef public bint special
    cdef public object hub
    cdef public object timer_heap
    cdef public object now
    cdef public Py_ssize_t context_switches
    cdef public Py_ssize_t total_reductions
    cdef public object next_ref
    cdef public object next_id
    cdef public object ins
    cdef public object slice_hooks
    cdef public object on_spawn, on_exit, on_send, on_receive
    cdef public object on_link, on_unlink, on_monitor, on_demonitor
    cdef public object on_slice_start, on_slice_end, on_long_slice
    cdef public object slice_time
    cdef public Py_ssize_t slice_mark
    cdef public double slice_t0
    cdef public double check_t
    cdef public Py_ssize_t checks
    cdef public Py_ssize_t check_n
    cdef public bint attention
    cdef public object io
    cdef public object last_poll
    cdef public object dist


cpdef fill_record(Core rt, Process p, pid, Process parent, tuple entry, is_main)
cpdef enqueue(Core rt, Process p)
cpdef charge(Process p, Py_ssize_t n)
cpdef park(Core rt, Process p, state, undo=*)
cpdef preempt(Core rt, Process p)
@cython.locals(used=Py_ssize_t)
cpdef account(Core rt, Process p)
@cython.locals(used=Py_ssize_t)
cpdef switch_out(Core rt, Process p)
cpdef switch_in(Process p, Py_ssize_t budget)
cpdef deliver(Core rt, Process target, msg, token)
@cython.locals(p=Process, node=Core, target=Process)
cpdef send(dest, msg)
@cython.locals(rt=Core, mb=Mailbox)
cpdef receive_any(Process p)
@cython.locals(node=Core, mb=Mailbox, i=Py_ssize_t, found=Py_ssize_t, armed=bint)
cpdef selective_receive(Process p, tuple patterns, timeout, mark)
@cython.locals(q=list, n=Py_ssize_t)
cpdef scan(Process p, Mailbox mb, match, Py_ssize_t i)
cpdef take(Process p, Mailbox mb, Py_ssize_t i)
cpdef adopt_token(Process p, Mailbox mb, msg)
@cython.locals(p=Process, node=Core, target=Process, mb=Mailbox, q=list, i=Py_ssize_t,
               n=Py_ssize_t, k=Py_ssize_t, armed=bint)
cpdef call_request(dest, label, request, timeout)
@cython.locals(entry=tuple, mb=dict)
cpdef bint forget_call(Core node, Process p, rid, Process target) except? -1
@cython.locals(p=Process, node=Core)
cpdef reply(tag, message)
cpdef set_grant(g)
cpdef check_charge(Process p, n)
cpdef timed_check(Core rt, Process p)
