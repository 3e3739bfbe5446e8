"""The shell: evaluations in a shell process, crashes, a fresh process, persistent
variables, FILE, command mode with JSON, and a pipe."""

import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import vm
from stdlib.observer.crashlog import short_report
from stdlib.observer.shell import Shell, compile_input, needs_more, run_shell

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


@pytest.fixture
def shell():
    out = io.StringIO()
    sh = Shell(out=out)
    sh.output = out
    yield sh
    sh.close()


def run(sh, source):
    """Evaluate and return what the shell printed for it."""
    sh.output.seek(0)
    sh.output.truncate()
    sh.run_source(source)
    return sh.output.getvalue()


def test_expressions_run_in_a_shell_process(shell):
    assert run(shell, "1 + 1") == "2\n"
    pid_text = run(shell, "vm.self()").strip()
    assert pid_text.startswith("<0.") and pid_text == repr(shell.current_pid())
    assert run(shell, "vm.process_info(vm.self(), 'label')") == "'shell'\n"
    assert run(shell, "vm.self()").strip() == pid_text  # the same process, evaluation after
    assert run(shell, "x = 41") == ""
    assert run(shell, "x + 1") == "42\n" and run(shell, "_") == "42\n"


def test_a_crash_prints_the_reason_and_the_next_process_is_fresh(shell):
    first = run(shell, "vm.self()").strip()
    run(shell, "kept = 'before'")
    out = run(shell, "1 / 0")
    assert "ZeroDivisionError: division by zero" in out
    assert 'File "<shell#' in out and "1 / 0" in out  # the user's source is shown
    assert "** exception error: ZeroDivisionError: division by zero" in out
    assert f"the shell process {first} exited" in out
    second = run(shell, "vm.self()").strip()
    assert second != first
    assert run(shell, "kept") == "'before'\n"  # variables survive the crash


def test_exit_reasons_and_syntax_errors(shell):
    first = run(shell, "vm.self()").strip()
    out = run(shell, "f(")
    assert "SyntaxError" in out
    assert run(shell, "vm.self()").strip() == first  # a parse error kills nothing
    out = run(shell, "vm.exit(('shutdown', 'bye'))")
    assert "** exception exit: ('shutdown', 'bye')" in out
    out = run(shell, "exit('gone')")
    assert "** exception exit: gone" in out


def test_receive_and_flush_use_the_shell_mailbox(shell):
    run(shell, "me = vm.self()")
    run(shell, "vm.send(me, 'one'); vm.send(me, ('two', 2))")
    assert run(shell, "vm.receive()") == "'one'\n"
    assert run(shell, "flush()") == ""
    # flush prints through the process's stdout; the result itself is None
    run(shell, "vm.send(me, 3)")
    assert run(shell, "vm.receive(timeout=0)") == "3\n"
    assert run(shell, "vm.receive(timeout=0)") == "vm.TIMEOUT\n"


def test_messages_wait_between_evaluations(shell):
    run(shell, "me = vm.self()")
    run(shell, "p = vm.spawn(lambda: [vm.sleep(0.05), vm.send(me, 'late')])")
    time.sleep(0.3)
    assert run(shell, "vm.process_info(me, 'message_queue_len')") == "1\n"
    assert run(shell, "vm.receive()") == "'late'\n"


def test_a_linked_crash_between_evaluations_is_reported_at_once(shell):
    first = run(shell, "vm.self()").strip()
    run(shell, "vm.spawn_link(lambda: [vm.sleep(0.05), 1 / 0])")
    deadline = time.time() + 5
    while "exception exit" not in shell.output.getvalue() and time.time() < deadline:
        time.sleep(0.02)
    out = shell.output.getvalue()
    assert "** exception exit: ZeroDivisionError: division by zero" in out
    assert f"the shell process {first} got an exit signal" in out
    assert run(shell, "vm.self()").strip() != first


def test_trapping_exits_in_the_shell(shell):
    run(shell, "vm.process_flag('trap_exit', True)")
    first = run(shell, "vm.self()").strip()
    run(shell, "p = vm.spawn_link(lambda: vm.exit('boom'))")
    out = run(shell, "vm.receive(timeout=1)")
    assert out.startswith("('EXIT', <0.") and "'boom')" in out
    assert run(shell, "vm.self()").strip() == first


def test_interrupting_a_blocked_evaluation_kills_the_shell_process(shell):
    first = run(shell, "vm.self()").strip()
    t = threading.Timer(0.2, shell.interrupt)
    t.start()
    out = run(shell, "vm.receive()")  # would wait forever
    t.join()
    assert "** exception exit: killed" in out
    assert run(shell, "vm.self()").strip() != first


def test_views_print_as_text_and_help(shell):
    out = run(shell, "i()")
    assert out.startswith("Pid ") and "shell" in out
    assert run(shell, "help()").startswith("Shell commands")
    assert run(shell, "help(top)").startswith("top() a live")
    assert "pid(" in run(shell, "help('pid')")
    assert "Help on" in run(shell, "help(len)") or "len(" in run(shell, "help(len)")
    assert run(shell, "top") .startswith("<bound method")
    assert run(shell, "top()").startswith("beamlet top")  # not a terminal: one plain frame


def test_json_mode():
    out = io.StringIO()
    sh = Shell(json=True, out=out)
    try:
        sh.run_source("procs(3)")
        sh.run_source("{'a': (1, vm.self())}")
        sh.run_source("top(n=2, interval=0.25)")  # the live view's table, over one interval
        lines = out.getvalue().splitlines()
    finally:
        sh.close()
    assert json.loads(lines[0])["kind"] == "processes"
    assert json.loads(lines[2])["window"] == pytest.approx(0.25, abs=0.2)
    assert json.loads(lines[1])["a"][0] == 1 and json.loads(lines[1])["a"][1].startswith("<0.")


def test_q_leaves(shell):
    run(shell, "q()")
    assert shell.quitting


def test_compile_and_needs_more():
    body, expr = compile_input("x = 1\nx + 1\n", "<t>")
    assert body is not None and expr is not None
    assert compile_input("x = 1", "<t>")[1] is None
    assert needs_more("def f():\n    return 1\n")
    assert not needs_more("def f():\n    return 1\n\n")
    assert needs_more("x = [1,\n") and not needs_more("x = 1\n")


def test_short_reports():
    import logging

    rec = logging.LogRecord("beamlet.process", logging.ERROR, "f", 1, "Error in process", (),
                            None)
    rec.report = {"label": "crash", "pid": vm.Pid("nonode@nohost", 5, 0, 1),
                  "reason": vm.Crash("ValueError", "bad")}
    assert short_report(rec) == ("=ERROR REPORT== Error in process <0.5.0> with exit value: "
                                 "ValueError: bad")
    rec.report = {"label": "progress"}
    assert short_report(rec) is None
    rec.report = {"label": "supervisor_report", "supervisor": "sup",
                  "errorContext": "child_terminated", "reason": "boom",
                  "offender": {"id": "w1"}}
    assert short_report(rec) == ("=SUPERVISOR REPORT== 'sup' child_terminated: child 'w1', "
                                 "reason boom")


APP = '''
import vm

def worker():
    while True:
        m, s = vm.receive()
        vm.send(s, ("echo", m))

def main():
    vm.register("echo", vm.spawn(worker))
    vm.receive()
'''


def test_command_mode_with_a_file_and_json(tmp_path, capsys):
    f = tmp_path / "echo_app.py"
    f.write_text(APP)
    status = run_shell(str(f), commands=["regs()", "vm.send('echo', (1, vm.self())) and None",
                                         "vm.receive(timeout=1)"], json=True, wait=0.2)
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert len(out) == 3  # one JSON document per command, nothing else
    regs = json.loads(out[0])
    assert [r["name"] for r in regs["rows"]] == ["echo"]
    assert json.loads(out[1]) is None
    assert json.loads(out[2]) == ["echo", 1]


def test_command_mode_status_is_1_after_a_crash(capsys):
    assert run_shell(None, commands=["1 / 0"]) == 1
    assert "** exception error" in capsys.readouterr().out


def test_file_main_exit_is_reported(tmp_path):
    f = tmp_path / "short_app.py"
    f.write_text("import vm\n\ndef main():\n    vm.sleep(0.05)\n    return 7\n")
    out = io.StringIO()
    sh = Shell(out=out)
    try:
        stem, pid = sh.start_file(str(f))
        assert stem == "short_app" and sh.ns["main_pid"] == pid
        deadline = time.time() + 5
        while "exited" not in out.getvalue() and time.time() < deadline:
            time.sleep(0.02)
    finally:
        sh.close()
    assert f"** main {pid!r} exited: normal" in out.getvalue()


def test_piped_session_end_to_end():
    session = textwrap.dedent('''\
        me = vm.self()
        me
        def echo():
            while True:
                m, s = vm.receive()
                vm.send(s, m)

        p = vm.spawn_link(echo)
        vm.send(p, ("hi", me)) and None
        vm.receive(timeout=1)
        kill(p)
        vm.self() == me
        ''')
    r = subprocess.run([sys.executable, "-m", "stdlib.cli", "shell"], input=session,
                       capture_output=True, text=True, cwd=ROOT, timeout=60,
                       env={**os.environ, "PYTHONPATH": ROOT})
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stderr
    assert lines[0].startswith("<0.")
    assert lines[1] == "'hi'"
    # p is linked to the shell process: killing p kills it too (reason killed), at once
    assert lines[2] == "** exception exit: killed"
    assert lines[-1] == "False"  # so the last expression ran in a fresh shell process
