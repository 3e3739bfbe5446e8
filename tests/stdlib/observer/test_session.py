"""The shell's own commands (v, b, f, h, l, c), Ctrl-C against a busy
evaluation, preemption of code typed at the prompt, refusals that keep the
shell process, crash reports with the failing line, and the command
registry."""

import io
import threading
import time

import pytest

import vm
from stdlib.observer import commands
from stdlib.observer.crashlog import crash_site, short_report
from stdlib.observer.shell import Shell

from .test_shell import run


@pytest.fixture
def shell():
    out = io.StringIO()
    sh = Shell(out=out)
    sh.output = out
    yield sh
    sh.close()


def test_v_b_f_h(shell):
    run(shell, "x = 40")
    run(shell, "x + 2")           # prompt 2
    run(shell, "1 / 0")           # prompt 3 fails
    assert run(shell, "v(2)") == "42\n"
    assert "gave no value" in run(shell, "v(3)")
    assert "there is no prompt" in run(shell, "v(99)")
    out = run(shell, "b()")
    assert "x = 40" in out and "vm =" not in out and "i =" not in out
    assert run(shell, "f('x')") == "['x']\n"
    assert "NameError" in run(shell, "x")
    run(shell, "y = 1; z = 2")
    assert sorted(eval(run(shell, "f()"))) == ["y", "z"]
    assert run(shell, "b()") == "no bindings\n"
    hist = run(shell, "h()")
    assert "1: x = 40" in hist and "2: x + 2" in hist and "-> 42" in hist


def test_v_counts_back_from_the_current_prompt(shell):
    run(shell, "10")  # 1
    run(shell, "20")  # 2
    assert run(shell, "v(-1)") == "20\n"  # 3: the previous prompt
    assert run(shell, "v(-3)") == "10\n"  # 4: three back is prompt 1


def test_c_loads_a_file_and_l_reloads_it_in_place(shell, tmp_path):
    mod = tmp_path / "counter_mod.py"
    mod.write_text(
        "from stdlib import gen_server\n\n"
        "class Counter(gen_server.GenServer):\n"
        "    def init(self, n):\n        return ('ok', n)\n\n"
        "    def handle_call(self, req, from_, n):\n        return ('reply', ('v1', n), n)\n\n"
        "def version():\n    return 1\n\n"
        "if __name__ == '__main__':\n    raise SystemExit('the guarded block must not run')\n")
    run(shell, f"m = c({str(mod)!r})")
    assert run(shell, "m.version()") == "1\n"
    run(shell, "ok, pid = gen_server.start(m.Counter, 5)")
    assert run(shell, "gen_server.call(pid, 'get')") == "('v1', 5)\n"
    run(shell, "old_version = m.version")
    mod.write_text(mod.read_text().replace("('v1', n)", "('v2', n)").replace(
        "return 1", "return 2"))
    assert run(shell, "l(m)").startswith("reloaded counter_mod")
    # the running server's next callback uses the new class; captured functions too
    assert run(shell, "gen_server.call(pid, 'get')") == "('v2', 5)\n"
    assert run(shell, "old_version()") == "2\n"
    assert run(shell, "isinstance(m.Counter(), m.Counter)") == "True\n"


def test_code_typed_at_the_prompt_is_preempted(shell):
    run(shell, "def spin():\n    while True:\n        pass\n")
    run(shell, "p = vm.spawn(spin)")
    # the shell process still gets turns while spin runs
    assert run(shell, "vm.sleep(0.05) or 'alive'") == "'alive'\n"
    assert run(shell, "vm.process_info(p, 'status') in ('runnable', 'running')") == "True\n"
    run(shell, "vm.exit(p, 'kill')")


def test_ctrl_c_stops_a_busy_loop_at_the_prompt_and_keeps_bindings(shell):
    run(shell, "x = 7")
    t = threading.Timer(0.3, shell.interrupt)
    t.start()
    out = run(shell, "while True:\n    pass\n")
    assert "** exception exit: killed" in out
    assert run(shell, "x") == "7\n"


def test_ctrl_c_stops_a_c_call_when_it_returns(shell):
    """time.sleep holds the node's thread: the posted kill cannot be served, so
    the interrupt lands in the evaluation as soon as the call returns."""
    first = run(shell, "vm.self()").strip()

    def interrupt():
        shell.interrupt()
        time.sleep(0.5)  # past INTERRUPT_AFTER: what _wait does on its own
        shell._force_interrupt()

    t = threading.Timer(0.2, interrupt)
    t.start()
    t0 = time.monotonic()
    out = run(shell, "import time\ntime.sleep(1.5)\n'finished'\n")
    assert "** exception exit: killed" in out and "'finished'" not in out
    assert time.monotonic() - t0 < 10
    assert run(shell, "vm.self()").strip() != first


def test_a_refused_command_keeps_the_shell_process(shell):
    run(shell, "vm.process_flag('trap_exit', True)")
    run(shell, "p = vm.spawn_link(lambda: vm.receive())")
    me = run(shell, "vm.self()")
    out = run(shell, "trace(p)")
    assert out.startswith("** refused: trace needs a limit")
    assert run(shell, "vm.self()") == me
    assert run(shell, "vm.is_process_alive(p)") == "True\n"
    assert run(shell, "kill('nobody_has_this_name')").startswith("** refused: no process")
    # an exception from the user's own code still ends the shell process
    assert "** exception error" in run(shell, "int('x')")
    assert run(shell, "vm.self()") != me


def test_crash_reports_name_the_failing_line():
    class Rec:
        report = {"label": "crash", "pid": "<0.5.0>",
                  "reason": vm.Crash("ZeroDivisionError", "division by zero",
                                     'Traceback (most recent call last):\n'
                                     '  File "/x/vm/_scheduler.py", line 628, in _run_process\n'
                                     '    result = fn()\n'
                                     '  File "/home/me/kv.py", line 12, in handle_call\n'
                                     '    return 1 / 0\n'
                                     'ZeroDivisionError: division by zero\n')}

        def getMessage(self):
            return ""

    line = short_report(Rec())
    assert line.endswith("(at /home/me/kv.py:12 in handle_call)"), line
    assert crash_site("normal") is None


def test_registry_lists_every_command_with_a_help_line():
    names = [c.name for c in commands.commands()]
    for n in ("i", "procs", "regs", "tree", "trace", "v", "b", "f", "h", "l", "c", "q", "top",
              "help"):
        assert n in names
    text = commands.help_text()
    assert "v(N) the value of prompt N" in text and "The shell:" in text


def test_a_registered_command_reaches_the_shell():
    def widgets(*, json=False, node=None):
        return "no widgets yet"

    commands.register("widgets", widgets, "widgets() the widgets", section="Widgets")
    try:
        sh = Shell(out=io.StringIO())
        try:
            assert sh.ns["widgets"] is widgets
            assert "widgets() the widgets" in commands.help_text()
        finally:
            sh.close()
    finally:
        commands._commands.pop("widgets")
