"""Every view over known snapshots (tests/stdlib/observer/known.py): text, JSON, Mermaid."""

import json
import time

import pytest

from stdlib.observer import fmt, views
from tests.stdlib.observer.known import CRASH, DETAIL, REGS, TABLE, TREE, P, row, system, table
from vm import Atom
from vm.lowlevel import snapshot


def test_process_table_text():
    text = views.processes_view(TABLE).text
    lines = text.splitlines()
    assert lines[0].split() == ["#", "Pid", "Name", "or", "initial", "call", "Reds", "+Reds",
                                "MsgQ", "Memory", "Status", "Current", "function"]
    assert lines[1].split() == ["1", "<0.42.0>", "kv", "12,034", "340", "2", "14.3K",
                                "waiting", "kv.loop/1"]
    assert "worker-1" in lines[2]  # a label when there is no name
    assert "jobs.hog/0" in lines[3]  # the initial call when there is neither
    assert lines[-1] == ("3 of 1,000 processes, by reductions since the last look; "
                         "+Reds over the last 1.0 s")


def test_process_table_without_a_window_has_no_delta_column():
    v = views.processes_view(table([row(1, reds=5)]))
    assert "+Reds" not in v.text
    assert v.text.splitlines()[-1] == "1 of 1 processes, by total reductions"


def test_process_table_marker_and_width():
    v = views.processes_view(TABLE, marker=1, width=40)
    lines = v.text.splitlines()
    assert lines[2].startswith(">2")
    assert all(len(x) <= 40 for x in lines)
    assert lines[1].endswith("...")


def test_process_table_json():
    data = json.loads(views.processes_view(TABLE).json())
    assert data["kind"] == "processes" and data["count"] == 1000 and data["window"] == 1.0
    first = data["rows"][0]
    assert first == {"pid": "<0.42.0>", "name": "kv", "label": None,
                     "initial_call": "kv.init/1", "current_function": "kv.loop/1",
                     "status": "waiting", "reductions": 12034, "reductions_delta": 340,
                     "message_queue_len": 2, "memory": 14600, "priority": "normal"}
    assert data["rows"][1]["label"] == "worker-1"


def test_i_view_is_erlangs_two_line_listing():
    lines = views.i_view(TABLE).text.splitlines()
    assert lines[0].split() == ["Pid", "Initial", "Call", "Memory", "Reds", "Msgs"]
    assert lines[1].split() == ["Registered", "Current", "Function"]
    assert lines[2].split() == ["<0.42.0>", "kv.init/1", "14.3K", "12034", "2"]
    assert lines[3].split() == ["kv", "kv.loop/1"]
    assert lines[5].split() == ["worker-1", "jobs.worker/1"]
    assert lines[8].split() == ["Total", "22.9K", "12949", "2"]
    assert lines[9].startswith("... 997 more processes not shown")


def test_detail_view_groups_and_cuts():
    v = views.detail_view(DETAIL)
    text = v.text
    assert text.startswith("Process <0.42.0> (kv)")
    for piece in ("status waiting (in receive)", "initial call kv.KV.init/1 "
                  "(spawned as stdlib.proc_lib._init_p/4)", "parent <0.40.0>",
                  "links [<0.40.0>]", "monitors [<0.41.0>]", "monitored by [<0.50.0>]",
                  "trap_exit True", "current function stdlib.gen_server._Server.loop/1",
                  "/x/gen_server.py:420", "message queue 25, timers 1",
                  "25 queued, the first 10 shown", "reductions 12,034"):
        assert piece in text, piece
    assert "('tick', 8)" in text and "('tick', 9)" not in text
    assert max(len(x) for x in text.splitlines()) < 140  # messages and dictionary are cut
    assert "state (sys.get_state)" not in text  # not a behaviour read: no state section


def test_detail_view_full_and_state():
    full = views.detail_view(DETAIL, full=True, state=("counter", 3))
    assert "x" * 500 in full.text and "s" * 300 in full.text
    assert "('tick', 18)" in full.text
    assert "state (sys.get_state)\n    ('counter', 3)" in full.text
    data = json.loads(full.json())
    assert data["behaviour_state"] == ["counter", 3]
    assert data["state"] == DETAIL.state  # beamlet's own state is not overwritten
    assert data["messages"][0][0] == "$gen_call" and data["messages"][0][1][0] == "<0.50.0>"
    assert data["monitors"] == ["<0.41.0>"] and data["ancestors"] == ["kv_sup"]
    assert data["stacktrace"][0] == {"function": "stdlib.gen_server._Server.loop/1",
                                     "file": "/x/gen_server.py", "line": 420}
    cut = json.loads(views.detail_view(DETAIL).json())
    assert len(cut["dictionary"]["secret"]) == fmt.TERM_LIMIT


def test_detail_view_of_a_dead_process():
    v = views.detail_view(None)
    assert v.text == "the process is not alive" and v.data == {"kind": "process",
                                                                 "alive": False}


def test_bt_view(tmp_path):
    src = tmp_path / "mod.py"
    src.write_text("def loop():\n    msg = vm.receive()\n")
    d = DETAIL.__class__(**{**{f: getattr(DETAIL, f) for f in DETAIL.__slots__},
                            "stacktrace": [("mod", "loop", 0, (str(src), 2))]})
    lines = views.bt_view(d).text.splitlines()
    assert lines == ["Stack of <0.42.0>, innermost first (waiting):",
                     f"  mod.loop/0  at {src}:2", "      msg = vm.receive()"]
    assert views.bt_view(None).text.startswith("undefined")


def test_system_view_with_rates():
    a = system()
    b = system(t=12.0, reds=300_000, received={1: 40})
    rates = snapshot.rates(a, b)
    assert rates["reductions_per_s"] == pytest.approx(100_000)
    assert rates["messages_per_s"] == pytest.approx(20)
    assert rates["utilization"] == pytest.approx(0.5)
    text = views.system_view(b, rates).text
    for piece in ("Node nonode@nohost", "processes    1,000", "registered 4",
                  "normal 3  low 1", "300,000 total, 100,000/s", "20/s delivered",
                  "7 waiting in mailboxes", "utilization 50% now, 50% since start",
                  "processes 4.2M (estimate)", "OS resident 47.7M", "over the last 2.0 s"):
        assert piece in text, piece
    data = json.loads(views.system_view(b, rates).json())
    assert data["rates"]["messages_per_s"] == pytest.approx(20)
    assert data["memory"] == {"processes": 4_400_000, "os_resident": 50_000_000}
    plain = views.system_view(b).text
    assert "/s" not in plain.split("reductions")[1].splitlines()[0]


def test_rates_refuse_two_nodes():
    a = system()
    b = a.__class__(**{**{f: getattr(a, f) for f in a.__slots__}, "node": "other@host"})
    with pytest.raises(Exception, match="different nodes"):
        snapshot.rates(a, b)


def test_regs_view():
    v = views.regs_view(REGS, current={REGS[0].pid: ("stdlib.gen_server", "loop", 3)})
    lines = v.text.splitlines()
    assert lines[0] == "** Registered procs on node nonode@nohost **"
    assert lines[1].split() == ["Name", "Pid", "Initial", "Call", "Current", "Function", "Reds",
                                "Msgs"]
    assert lines[2].split() == ["kv", "<0.42.0>", "kv.KV.init/1", "stdlib.gen_server.loop/3",
                                "12034", "2"]
    data = json.loads(v.json())
    assert data["rows"][1]["name"] == "kv_sup"
    assert data["rows"][0]["current_function"] == "stdlib.gen_server.loop/3"
    assert data["rows"][1]["current_function"] is None


def test_tree_view_text():
    lines = views.tree_view(TREE).text.splitlines()
    assert lines == [
        "kv_sup <0.40.0> supervisor one_for_one",
        "├── cache <0.41.0> worker",
        "├── kv <0.42.0> worker",
        "├── flaky (restarting) worker",
        "└── pool_sup <0.45.0> supervisor",
        "    └── 1 <0.46.0> worker",
    ]


def test_tree_view_mermaid_edges_links_and_escapes():
    m = views.tree_view(TREE).mermaid()
    lines = m.splitlines()
    assert lines[0] == "graph TD"
    assert '    p40_0(["kv_sup #60;0.40.0#62; supervisor one_for_one"]):::root' in lines
    assert '    n4["flaky (restarting) worker"]:::notrunning' in lines
    assert "    p40_0 --- p41_0" in lines and "    p45_0 --- p46_0" in lines
    # the link between two siblings is not a tree edge: dotted, once
    assert lines.count("    p41_0 -.- p42_0") == 1
    assert not any("p1_0" in x for x in lines)  # a link to a process outside the tree
    assert "<" not in m.replace("classDef", "")  # pids are escaped for Mermaid
    assert views.tree_view(TREE, direction="LR").mermaid().startswith("graph LR")


def test_tree_view_json():
    data = json.loads(views.tree_view(TREE).json())
    root = data["root"]
    assert root["pid"] == "<0.40.0>" and root["type"] == "supervisor"
    assert [c["id"] for c in root["children"]] == ["cache", "kv", "flaky", "pool_sup"]
    assert root["children"][2]["pid"] == "restarting"
    assert root["children"][3]["children"][0]["pid"] == "<0.46.0>"


def test_only_trees_and_traces_have_mermaid():
    with pytest.raises(ValueError, match="no Mermaid form"):
        views.processes_view(TABLE).mermaid()


def test_fmt_helpers():
    assert fmt.short("x" * 200, 10) == "'xxxxxx..."
    assert fmt.short("x" * 200, None) == repr("x" * 200)
    assert fmt.mfa(("kv", "loop", 1)) == "kv.loop/1" and fmt.mfa(None) == "-"
    assert [fmt.size(n) for n in (812, 4400, 12_700_000, 3 * 2**30)] == \
        ["812", "4.3K", "12.1M", "3.0G"]
    assert fmt.seconds(0.25) == "250 ms" and fmt.seconds(90) == "90.0 s" and \
        fmt.seconds(3700) == "1h01m40s"
    assert fmt.jsonable({"a": (P(1), Atom("ok")), 3: CRASH, "b": b"x", "s": {1}}) == {
        "a": ["<0.1.0>", "ok"], "3": {"crash": "ZeroDivisionError",
                                      "message": "division by zero"},
        "b": "b'x'", "s": "{1}"}


def test_class_child_ids_print_by_name():
    class Counter:
        pass

    tree = {"pid": "dead", "id": None, "type": "supervisor", "children": [
        {"pid": "restarting", "id": Counter, "type": "worker", "children": []}]}
    v = views.tree_view(tree)
    assert "└── Counter (restarting) worker" in v.text
    assert json.loads(v.json())["root"]["children"][0]["id"] == "Counter"
    assert "<class" not in v.text and "<class" not in v.mermaid()


def test_a_huge_term_costs_its_line_not_its_size():
    big = list(range(2_000_000))
    t0 = time.perf_counter()
    text = fmt.short(("state", big), 120)
    data = fmt.jsonable({"k": big}, 120)
    assert time.perf_counter() - t0 < 0.05
    assert len(text) <= 120 and text.startswith("('state', [0, 1, 2")
    assert len(data["k"]) == fmt.SHOWN_ITEMS + 1 and data["k"][-1].endswith("more")


def test_views_display_richly_in_notebooks():
    table = views.processes_view(TABLE)
    bundle = table._repr_mimebundle_()
    assert bundle["text/plain"] == table.text
    assert bundle["text/html"].startswith('<table class="beamlet-processes">')
    assert "&lt;0.42.0&gt;" in bundle["text/html"]
    tree = views.tree_view(TREE)._repr_mimebundle_()
    assert tree["text/markdown"].startswith("```mermaid\ngraph TD") and "text/html" not in tree


def test_unavailable_state_says_why():
    v = views.detail_view(DETAIL, state=views.StateUnavailable("it is busy"))
    assert "state     unavailable: it is busy" in v.text
    data = json.loads(v.json())
    assert data["behaviour_state"] is None and data["behaviour_state_unavailable"] == "it is busy"
