"""Python twins of the persistent_term scenarios in erlang/scenarios_persistent_term.erl.

Every public function is a scenario with the same name as its Erlang twin
and must log the same trace (golden/persistent_term/<name>.trace). OTP
keeps terms of its own in the store, so both sides log counts as
differences and listings filtered to the scenario's keys.
"""
from __future__ import annotations

from stdlib import persistent_term as pt

from . import trace as T


def _count():
    return pt.info()["count"]


def _mine():
    return T.sorted_terms([kv for kv in pt.get()
                           if type(kv[0]) is tuple and len(kv[0]) == 2 and kv[0][0] == "scen"])


def pt_put_get_erase():
    T.log(("put", pt.put(("scen", "k"), ("v", [1, 2]))))
    T.log(("get", pt.get(("scen", "k"))))
    T.log(("default", pt.get(("scen", "missing"), "fallback")))
    T.log(("missing", T.attempt(pt.get, ("scen", "missing"))))
    T.log(("erase", pt.erase(("scen", "k")), pt.erase(("scen", "k"))))
    T.log(("gone", pt.get(("scen", "k"), "gone")))


def pt_exact_keys():
    before = _count()
    pt.put(("scen", 1), "int")
    pt.put(("scen", 1.0), "float")
    pt.put(("scen", True), "atom")
    T.log(("gets", pt.get(("scen", 1)), pt.get(("scen", 1.0)), pt.get(("scen", True))))
    T.log(("count", _count() - before))


def pt_overwrite_and_list():
    before = _count()
    pt.put(("scen", "a"), 1)
    pt.put(("scen", "a"), 2)
    pt.put(("scen", "a"), 2)
    pt.put(("scen", "b"), {"x": ["y"]})
    T.log(("get", pt.get(("scen", "a")), pt.get(("scen", "b"))))
    T.log(("listed", _mine()))
    T.log(("count", _count() - before))
    pt.erase(("scen", "a"))
    T.log(("after_erase", _mine(), _count() - before))
