"""stdlib/observer/scheduling.py: the scheduling columns of procs() and top(),
msacc(), policy() and accounting(), on constructed workloads under the
virtual clock (a slice lasts its reductions in microseconds: exact figures)."""

import io
import json
import math

import pytest

import vm
import vm.scheduling as S
from stdlib import observer
from stdlib.observer import display, scheduling, top
from stdlib.observer.shell import Shell, base_namespace
from tests.vm.test_scheduling import hog, sleeper  # the same workloads as the runtime's tests
from vm import lowlevel
from vm.testing import run


def wait_all(pids):
    refs = [vm.monitor(p) for p in pids]
    for _ in refs:
        vm.receive(("DOWN", vm.ANY, "process", vm.ANY, vm.ANY))


def rows_by_pid(view):
    return {r["pid"]: r for r in view.data["rows"]}


# ----------------------------------------------------------------------
# the columns


def test_columns_show_each_process_figures_while_accounting_is_on():
    def main():
        observer.accounting(True)
        hogs = [vm.spawn(hog, 30_000) for _ in range(3)]
        nap = vm.spawn(sleeper, 4, 0.002)
        vm.sleep(0.05)  # mid-run: every hog still has work left
        view = observer.procs(10)
        return hogs, nap, view, S.process_stats()

    hogs, nap, view, stats = run(main)
    header = view.text.splitlines()[0].split()
    assert header[-7:-2] == ["Runtime", "Share", "QDelay", "QMax", "RespMax"]
    assert view.data["scheduling"]["accounting"] is True
    rows = rows_by_pid(view)
    h, s = rows[repr(hogs[0])]["scheduling"], rows[repr(nap)]["scheduling"]
    # the figures are process_stats()'s, exactly
    assert h["runtime"] == stats[hogs[0]]["runtime"] > 0
    assert h["runtime"] == pytest.approx(h["reductions"] * 1e-6)  # 1 us a reduction
    assert h["runtime"] > 100 * s["runtime"]  # a hog ran, the sleeper barely did
    # the sleeper wakes up behind hogs: its response time is up to three slices
    assert 0 < s["response_time_max"] <= 3 * (4000 + 64) * 1e-6
    assert s["queue_delay_max"] == stats[nap]["queue_delay_max"] > 0
    assert h["queue_delay_mean"] == pytest.approx(
        stats[hogs[0]]["queue_delay"] / stats[hogs[0]]["queue_waits"])
    # the first look's shares are of everything run since accounting began
    assert math.isclose(sum(r["scheduling"]["runtime"] for r in rows.values()),
                        sum(x["runtime"] for x in stats.values()), rel_tol=1e-9)
    assert view.text.splitlines()[-1].endswith("Share since accounting was switched on")
    line = next(x for x in view.text.splitlines() if repr(nap) in x)
    assert " ms" in line or " us" in line


def test_share_is_over_the_window_since_the_last_look():
    def main():
        observer.accounting(True)
        a = vm.spawn(hog, 200_000)
        b = vm.spawn(hog, 200_000)
        vm.sleep(0.02)
        observer.procs(5)
        vm.sleep(0.04)
        return a, b, observer.procs(5, "share")

    a, b, view = run(main)
    rows = rows_by_pid(view)
    sa, sb = rows[repr(a)]["scheduling"], rows[repr(b)]["scheduling"]
    # two equal hogs split the window's run time; nothing else ran in it
    assert sa["share"] == pytest.approx(0.5, abs=0.06)
    assert sa["share"] + sb["share"] == pytest.approx(1.0, abs=0.01)
    assert [r["pid"] for r in view.data["rows"][:2]] in ([repr(a), repr(b)], [repr(b), repr(a)])
    assert "Share over the last 4" in view.text.splitlines()[-1]  # ms: about the 40 slept


def test_sorting_by_each_scheduling_column():
    def main():
        observer.accounting(True)
        big = vm.spawn(hog, 200_000)
        vm.sleep(0.008)  # big runs alone for two slices
        small = vm.spawn(hog, 100_000)
        nap = vm.spawn(sleeper, 30, 0.001)
        vm.sleep(0.03)
        out = {sort: observer.procs(3, sort) for sort in scheduling.SORTS}
        out["reverse"] = observer.procs(2, "runtime", reverse=True)
        out["match"] = observer.procs(5, "runtime", match="sleeper")
        out["status"] = observer.procs(5, "runtime", status="runnable")
        return big, small, nap, out

    big, small, nap, out = run(main)
    by_runtime = [r["pid"] for r in out["runtime"].data["rows"]]
    assert by_runtime[0] == repr(big)
    for sort, field in scheduling.SORTS.items():
        figs = [r["scheduling"][field] or 0 for r in out[sort].data["rows"]]
        assert figs == sorted(figs, reverse=True), sort
        assert out[sort].data["sort"] == sort
    assert out["runtime"].text.splitlines()[-1].startswith("3 of 4 processes")
    assert "processes, by run time since accounting was switched on" in \
        out["runtime"].text.splitlines()[-1]
    assert out["response_time_max"].data["rows"][0]["pid"] in (repr(nap), repr(small))
    rev = [r["scheduling"]["runtime"] for r in out["reverse"].data["rows"]]
    assert rev == sorted(rev)
    assert [r["pid"] for r in out["match"].data["rows"]] == [repr(nap)]
    assert out["match"].data["matched"] == 1
    assert all(r["status"] == "runnable" for r in out["status"].data["rows"])


def test_off_the_columns_are_absent_with_a_hint_and_sorting_by_them_is_refused():
    def main():
        vm.spawn(hog, 10_000)
        view = observer.procs(5)
        try:
            observer.procs(5, "runtime")
        except vm.BadArg as e:
            return view, str(e)

    view, refused = run(main)
    assert "Runtime" not in view.text and "QDelay" not in view.text
    assert view.text.splitlines()[-1].endswith(
        "scheduling columns off: accounting(True) switches them on")
    assert view.data["scheduling"] == {"accounting": False, "hint": scheduling.HINT}
    assert all(r["scheduling"] is None for r in view.data["rows"])
    assert "accounting(True)" in refused


def test_json_and_html_carry_the_columns():
    def main():
        observer.accounting(True)
        vm.spawn(hog, 20_000)
        vm.sleep(0.01)
        return observer.procs(3, json=True), observer.procs(3)

    text, view = run(main)
    data = json.loads(text)
    assert data["scheduling"]["accounting"] is True
    first = data["rows"][0]["scheduling"]
    assert set(first) >= {"runtime", "share", "queue_delay_mean", "queue_delay_max",
                          "response_time_max", "slices", "preempted"}
    html = view._repr_html_()
    for title in scheduling.HEADERS:
        assert f"<th>{title}</th>" in html
    assert html.index("<th>RespMax</th>") < html.index("<th>Current function</th>")
    assert display.sched_cell("share", {"share": 0.25}) == "25.0%"


def test_process_rows_keeps_the_order_given_and_leaves_out_the_dead():
    def main():
        a, b = vm.spawn(vm.receive), vm.spawn(vm.receive)
        dead = vm.spawn(lambda: None)
        vm.sleep(0.001)
        return a, b, lowlevel.process_rows([b, dead, a, b])

    a, b, rows = run(main)
    assert [r.pid for r in rows] == [b, a]


# ----------------------------------------------------------------------
# top


def test_top_frames_show_the_columns_and_fall_back_with_a_note_when_off():
    with vm.Node() as node:
        for _ in range(2):
            node.spawn(vm.receive)
        out = io.StringIO()
        top.run_top(node, n=5, interval=0.25, frames=1, sort="runtime", out=out,
                    inp=io.StringIO())
        off = out.getvalue()
        S.accounting(True, node=node)
        out = io.StringIO()
        top.run_top(node, n=5, interval=0.25, frames=1, sort="runtime", out=out,
                    inp=io.StringIO())
        on = out.getvalue()
    assert "Runtime" not in off
    assert "sorting by runtime needs accounting: accounting(True) switches it on" in off
    lines = on.splitlines()
    assert "Runtime" in lines[1] and "RespMax" in lines[1]
    assert "by run time since accounting was switched on" in lines[-1]
    assert "Share over the last" in lines[-1]


def test_top_keys_sort_by_the_scheduling_columns():
    s = top.TopState()
    for key, sort in (("u", "share"), ("U", "runtime"), ("w", "queue_delay"),
                      ("W", "queue_delay_max"), ("e", "response_time_max")):
        assert s.handle_key(key) == "refresh" and s.sort == sort
    assert "u U w W e" in top.KEYS_LINE and "longest response" in top.HELP


# ----------------------------------------------------------------------
# msacc


def test_msacc_shows_every_state_and_shares_add_up():
    def main():
        assert "switched on now" in observer.msacc().text  # off: switched on
        vm.spawn(hog, 20_000)
        vm.sleep(0.01)
        shown = observer.msacc()
        stats = observer.msacc_stats(json=True)
        last = observer.msacc(False)
        off = observer.msacc()  # switches it on again
        observer.msacc(False)
        try:
            observer.msacc_stats()
        except vm.BadArg as e:
            refused = str(e)
        timed = observer.msacc(seconds=0.001)
        return shown, json.loads(stats), last, off, refused, timed, S.msacc_stats()

    shown, stats, last, off, refused, timed, after = run(main)
    lines = shown.text.splitlines()
    assert lines[0].startswith("Average thread real-time")
    states = [line.split()[0] for line in lines[4:]]
    assert states == list(S.STATES)
    for view in (shown, last, timed):
        rows = view.data["states"]
        assert [r["state"] for r in rows] == list(S.STATES)
        assert sum(r["share"] for r in rows) == pytest.approx(1.0, abs=1e-6)
        assert all(type(r["count"]) is int and r["seconds"] >= 0 for r in rows)
    assert sum(float(x.split()[2].rstrip("%")) for x in lines[4:]) == pytest.approx(100, abs=0.1)
    assert next(r for r in shown.data["states"] if r["state"] == "process")["seconds"] > 0
    assert stats["kind"] == "msacc" and len(stats["states"]) == len(S.STATES)
    assert "msacc is off now" in last.text
    assert "switched on now" in off.text
    assert "msacc(True)" in refused
    assert "measured for" in timed.text and after is None  # msacc(seconds=) stops it again


# ----------------------------------------------------------------------
# policy


def slices_of_a_hog(reductions=None, name="stride"):
    def main():
        if reductions is not None:
            observer.policy(name, reductions=reductions)
        observer.accounting(True)
        pid = vm.spawn(hog, 40_000)
        wait_all([pid])
        return S.process_stats()[pid]

    return run(main)


def test_policy_shows_and_switches_and_changes_the_slice():
    def main():
        shown = observer.policy()
        switched = observer.policy("stride")
        now = S.current_policy().name
        sliced = observer.policy(reductions=1000)
        kept = S.current_policy().name
        back = observer.policy("beam")
        return shown, switched, now, sliced, kept, back, S.current_policy()

    shown, switched, now, sliced, kept, back, final = run(main)
    assert shown.text.startswith("policy beam: BEAM's") and shown.data["slice"] == 4000
    assert switched.text.startswith("policy stride:") and "(was beam)" in switched.text
    assert now == "stride" and kept == "stride"
    assert sliced.data["slice"] == 1000 and "1,000 reductions" in sliced.text
    assert back.data["policy"] == "beam" and final is None
    assert shown.data["known"] == ["beam", "beam-python", "cfs", "lottery", "stride"]
    # a quarter of the slice: about four times the slices for the same work
    default, quarter = slices_of_a_hog(), slices_of_a_hog(1000)
    assert default["reductions"] == pytest.approx(quarter["reductions"], rel=0.01)
    assert 3.5 < quarter["slices"] / default["slices"] < 4.5
    beam_sliced = slices_of_a_hog(1000, "beam")
    assert beam_sliced["slices"] == pytest.approx(quarter["slices"], abs=1)


def test_stride_shares_where_beam_lets_a_high_priority_hog_go_first():
    def experiment(policy):
        def main():
            observer.policy(policy)
            observer.accounting(True)
            high = vm.spawn_opt(hog, (60_000,), priority="high")
            normal = vm.spawn(hog, 60_000)
            wait_all([high, normal])
            stats = S.process_stats()
            return stats[high], stats[normal]

        return run(main)

    high, normal = experiment("beam")
    assert normal["first_run"] >= high["exited"]  # strict priority: it waited it out
    high, normal = experiment("stride")
    assert normal["first_run"] < high["exited"]  # tickets: 3121 to 1024, both ran
    assert normal["queue_delay_max"] < 0.05


# ----------------------------------------------------------------------
# bad input and the shell


@pytest.mark.parametrize("source, says", [
    ("accounting('yes')", "accounting: on must be True or False, not 'yes'"),
    ("accounting(True, timeline=1)", "timeline must be True or False"),
    ("msacc(1)", "msacc: on must be True or False, not 1"),
    ("msacc(seconds=-1)", "seconds must be a number"),
    ("policy('fifo')", "unknown policy 'fifo'; known: beam, beam-python, cfs, lottery, stride"),
    ("policy('stride', reductions=0)", "reductions must be an int from 1 to"),
    ("policy(42)", "42 is not a scheduling policy"),
    ("procs(5, 'runtime')", "sorting by runtime needs accounting"),
    ("procs(5, 'cpu')", "or, while accounting is on, runtime, share, queue_delay"),
])
def test_bad_input_is_refused_with_a_message_not_a_traceback(source, says):
    out = io.StringIO()
    sh = Shell(out=out)
    try:
        assert sh.run_source(source) is False
        text = out.getvalue()
        assert text.startswith("** refused:") and says in text, text
        assert "Traceback" not in text
    finally:
        sh.close()


def test_the_shell_lists_binds_and_runs_the_commands():
    out = io.StringIO()
    sh = Shell(out=out)
    try:
        assert sh.run_source("help()")
        listed = out.getvalue()
        assert "Scheduling:" in listed
        for usage in ("accounting(on=True)", "msacc()", "msacc_stats()", "policy()"):
            assert usage in listed
        for source, shown in (("accounting(True)", "accounting on"), ("procs(3)", "RespMax"),
                              ("policy('stride')", "policy stride"), ("msacc(True)", "msacc on"),
                              ("help(msacc)", "msacc(seconds=S)")):
            out.seek(0)
            out.truncate()
            assert sh.run_source(source), out.getvalue()
            assert shown in out.getvalue()
    finally:
        sh.close()
    for name in ("accounting", "msacc", "msacc_stats", "policy"):
        assert name in base_namespace()  # what remote shells (--remsh) evaluate in too


def test_a_look_after_accounting_started_afresh_ignores_the_older_figures():
    def main():
        observer.accounting(True)
        a = vm.spawn(hog, 400_000)
        vm.sleep(0.02)
        observer.procs(3)
        observer.accounting(True)  # afresh: the run times start again from 0
        vm.sleep(0.03)
        return a, observer.procs(3)

    a, view = run(main)
    assert view.text.splitlines()[-1].endswith("Share since accounting was switched on")
    shares = [r["scheduling"]["share"] for r in view.data["rows"]]
    assert all(0 <= x <= 1 for x in shares) and sum(shares) == pytest.approx(1.0, abs=0.01)


def test_a_remote_shell_runs_the_commands_on_its_node():
    def main():
        from stdlib import gen_server
        from stdlib.observer import remote

        remote.allow()
        vm.spawn(hog, 50_000)
        sources = ["accounting(True)", "vm.sleep(0.01)", "procs(3, 'runtime')",
                   "policy('stride')", "msacc(seconds=0.001)", "policy('fifo')"]
        answers = [gen_server.call(remote.SERVER, (remote.EVAL, src, n, "s"), 5.0)
                   for n, src in enumerate(sources, 1)]
        return answers, S.current_policy().name

    answers, installed = run(main)
    assert answers[0][0] == "ok" and answers[0][1].startswith("accounting on")
    assert answers[2][0] == "ok" and "RespMax" in answers[2][1]
    assert installed == "stride" and "policy stride" in answers[3][1]
    assert "outside_wait" in answers[4][1]
    assert answers[5][0] == "error" and "unknown policy 'fifo'" in answers[5][1]


def test_command_mode_json_carries_the_scheduling_figures():
    out = io.StringIO()
    sh = Shell(out=out, json=True)
    try:
        for source in ("accounting(True)", "procs(3)", "msacc(seconds=0.001)", "policy()",
                       "policy('nope')"):
            sh.run_source(source)
    finally:
        sh.close()
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d["kind"] for d in docs] == ["accounting", "processes", "msacc", "policy",
                                         "refused"]
    assert docs[0]["accounting"] is True and docs[1]["scheduling"]["accounting"] is True
    assert all(isinstance(r["scheduling"], dict) for r in docs[1]["rows"])
    assert [r["state"] for r in docs[2]["states"]] == list(S.STATES)
    assert docs[3]["policy"] == "beam" and "unknown policy 'nope'" in docs[4]["message"]


def test_i_pid_adds_the_process_scheduling_figures_while_accounting_is_on():
    def main():
        busy = vm.spawn(hog, 1_000_000)
        off = observer.i(busy)
        observer.accounting(True)
        idle = vm.spawn(vm.receive)
        vm.sleep(0.02)
        return off, observer.i(busy), observer.i(idle), S.process_stats()[busy]

    off, on, idle, stats = run(main)
    assert "  sched " not in off.text and "scheduling" not in off.data
    assert on.data["scheduling"]["runtime"] == stats["runtime"] > 0
    assert on.data["scheduling"]["slices"] == stats["slices"] == stats["preempted"]
    text = on.text.splitlines()
    line = next(x for x in text if x.startswith("  sched"))
    assert f"{stats['slices']} slices: {stats['preempted']} preempted" in line
    assert "parked" in next(x for x in idle.text.splitlines() if x.startswith("  sched"))


def test_accounting_read_gives_the_rows_figures_and_whole_columns():
    def main():
        off = lowlevel.accounting_read()
        S.accounting(True)
        a, b, gone = vm.spawn(hog, 200_000), vm.spawn(vm.receive), vm.spawn(hog, 10)
        vm.sleep(0.03)
        read = lowlevel.accounting_read([a, gone], columns=("runtime", "queue_delay_max"))
        errors = []
        for bad in (lambda: lowlevel.accounting_read(columns=("cpu",)),
                    lambda: lowlevel.accounting_read(["<0.1.0>"])):
            try:
                bad()
            except vm.BadArg as e:
                errors.append(str(e))
        return a, b, gone, off, read, S.process_stats(), errors

    a, b, gone, off, read, stats, errors = run(main)
    assert off is None
    assert set(read["figures"]) == {a} and read["figures"][a]["runtime"] == stats[a]["runtime"]
    assert read["columns"]["runtime"][b] == stats[b]["runtime"]
    assert read["columns"]["queue_delay_max"][a] == stats[a]["queue_delay_max"]
    assert gone not in read["columns"]["runtime"]  # dead: the figures hold the live only
    assert read["process_time"] == pytest.approx(sum(s["runtime"] for s in stats.values()))
    assert "unknown columns ['cpu']" in errors[0] and "expected pids" in errors[1]


def test_system_names_the_policy_and_what_is_switched_on():
    def main():
        before = observer.system(window=0.01)
        observer.accounting(True)
        observer.msacc(True)
        observer.policy("stride")
        vm.spawn(hog, 10_000)
        vm.sleep(0.05)
        return before, observer.system()

    before, after = run(main)
    assert "  scheduling   policy beam, accounting off, msacc off" in before.text.splitlines()
    assert before.text.splitlines()[-1].startswith("  (rates over")
    line = next(x for x in after.text.splitlines() if x.startswith("  scheduling"))
    assert line.startswith("  scheduling   policy stride, accounting on for 50 ms")
    assert "msacc on" in line
    data = after.data["scheduling"]
    assert data["policy"] == "stride" and data["accounting"] and data["msacc"]
    assert data["process_time"] == pytest.approx(0.01, abs=0.001)  # the hog's 10,000 reductions


@pytest.mark.parametrize("name, reductions", [("stride", 1), ("cfs", 50), ("lottery", 300),
                                               ("beam", 7)])
def test_a_policy_with_the_shells_slice_keeps_the_runtimes_invariants(name, reductions):
    checker = vm.testing.InvariantChecker()

    def main():
        observer.policy(name, reductions=reductions)
        observer.accounting(True)
        pids = [vm.spawn(hog, 3_000), vm.spawn_opt(hog, (3_000,), priority="high"),
                vm.spawn(sleeper, 3, 0.001), vm.spawn_opt(hog, (2_000,), priority="low")]
        wait_all(pids)
        return [S.process_stats()[p] for p in pids]

    stats = run(main, seed=7, instruments=[checker])
    assert checker.violations == [] and checker.slices > 0
    for s in stats:  # every process ran to its end, in slices of the granted length
        assert s["exited"] is not None
        if s["slices"] > 1:
            assert s["reductions"] / s["slices"] <= reductions + 64
