"""top: the key handling (pure), the frame, and the plain mode a pipe gets."""

import io

import vm
from stdlib.observer import top
from stdlib.observer.top import TopState, frame
from tests.stdlib.observer.known import TABLE, P


def state(**kw):
    s = TopState(**kw)
    s.take(TABLE)
    return s


def test_sort_keys():
    s = state()
    for key, sort in top.SORT_KEYS.items():
        assert s.handle_key(key) == "refresh"
        assert s.sort == sort
    assert s.message.startswith("sorted by")


def test_cursor_digits_and_open():
    s = state()
    s.handle_key("down")
    s.handle_key("down")
    s.handle_key("down")  # stays on the last row
    assert s.cursor == 2 and s.selected() == P(44)
    s.handle_key("up")
    assert s.handle_key("enter") == ("open", P(43))
    assert s.mode == "detail" and s.selected() == P(43)
    assert s.handle_key("r") is None  # sorting is for the table
    assert s.handle_key("b") == "refresh" and s.mode == "table"
    s.handle_key("3")
    assert s.handle_key("enter") == ("open", P(44))
    s.handle_key("esc")
    s.handle_key("9")
    assert s.handle_key("enter") is None and s.message == "no row 9"


def test_pause_interval_help_quit():
    s = state(interval=1.0)
    s.handle_key(" ")
    assert s.paused and s.message == "paused"
    s.handle_key(" ")
    assert not s.paused
    s.handle_key("+")
    assert s.interval == 2.0
    for _ in range(10):
        s.handle_key("-")
    assert s.interval == top.MIN_INTERVAL
    for _ in range(10):
        s.handle_key("+")
    assert s.interval == top.MAX_INTERVAL
    s.handle_key("h")
    assert s.mode == "help"
    s.handle_key("b")
    assert s.handle_key("q") == "quit" and s.done


def test_filter_typing():
    s = state()
    s.handle_key("/")
    for ch in "kv":
        s.handle_key(ch)
    s.handle_key("x")
    s.handle_key("backspace")
    assert s.typing_filter == "kv"
    assert s.handle_key("enter") == "refresh"
    assert s.filter == "kv" and s.typing_filter is None
    s.handle_key("/")
    assert s.handle_key("enter") == "refresh" and s.filter is None
    s.handle_key("/")
    s.handle_key("z")
    s.handle_key("esc")
    assert s.filter is None and s.typing_filter is None


def test_kill_needs_the_switch_and_a_yes():
    s = state()
    assert s.handle_key("K") is None
    assert "allow_destructive=True" in s.message
    s = state(allow_destructive=True)
    s.handle_key("down")
    assert s.handle_key("K") is None and s.message == "kill <0.43.0>? y/n"
    assert s.handle_key("n") is None and s.message == "not killed"
    s.handle_key("K")
    assert s.handle_key("y") == ("kill", P(43))
    s.handle_key("K")
    s.allow_destructive = False  # checked again when the key acts
    assert s.handle_key("y") is None and "allow_destructive" in s.message


def test_decode_keys():
    assert top._decode("r\x1b[A\x1b[B\r q\x7f\x1b") == ["r", "up", "down", "enter", " ", "q",
                                                         "backspace", "esc"]
    assert top._decode("\x1b[5~x") == ["x"]  # unknown sequences are skipped


def stats(reds, wall, uptime, idle):
    return {"node": "nonode@nohost", "run_queue": {"normal": 2, "high": 0, "max": 0, "low": 0},
            "reductions": reds, "_wall": wall, "uptime": uptime, "idle_time": idle,
            "utilization": 0.5, "processes": 1000}


def test_frame_table_detail_help():
    s = state()
    a, b = stats(1000, 1.0, 1.0, 0.5), stats(3000, 2.0, 2.0, 0.75)
    lines = frame(s, TABLE, b, a, width=200)
    assert lines[0].startswith("beamlet top - nonode@nohost  uptime 2.0 s  procs 1,000  runq 2"
                               "  reds 2,000/s  util 75%")
    assert lines[1].split()[:2] == ["#", "Pid"]
    assert lines[2].startswith(">1") and lines[-1].startswith(top.KEYS_LINE)
    assert frame(s, TABLE, b, a, cursor=False)[2].startswith(" 1")
    s.handle_key("h")
    assert "top: a live process table." in frame(s, TABLE, b)
    s.handle_key("b")
    s.handle_key("/")
    s.handle_key("k")
    assert frame(s, TABLE, b)[-1] == "filter: k_"
    s.handle_key("esc")
    s.handle_key("enter")
    assert "is not alive any more" in frame(s, TABLE, b, detail=None)[1]
    s.paused = True
    assert "PAUSED" in top.header(s, b, a)


def test_plain_mode_prints_frames_in_a_pipe():
    with vm.Node() as node:
        def idle():
            vm.receive()

        for _ in range(3):
            node.spawn(idle)
        out = io.StringIO()
        top.run_top(node, n=5, interval=0.25, frames=2, out=out, inp=io.StringIO())
        text = out.getvalue()
    blocks = text.strip().split("\n\n")
    assert len(blocks) == 2
    for b in blocks:
        lines = b.splitlines()
        assert lines[0].startswith("beamlet top - nonode@nohost") and "procs 3" in lines[0]
        assert "+Reds" in lines[1] and len([x for x in lines if "<0." in x]) == 3
        assert "\x1b" not in b  # no escape codes in a pipe
        assert top.KEYS_LINE not in b  # no key works in a pipe: no key legend


def test_ctrl_c_quits_top_quietly(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(top, "_plain", interrupted)
    with vm.Node() as node:
        assert top.run_top(node, frames=1, out=io.StringIO(), inp=io.StringIO()) is None
