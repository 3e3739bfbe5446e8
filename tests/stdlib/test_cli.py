"""The `beamlet` command line as a script sees it: exit codes (0 success,
1 failure, 2 usage, 130 interrupted), clean reports (no internal frames),
the rule for `beamlet run FILE`, and JSON output that is pure."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, PYTHONPATH=ROOT)
INTERNAL = ("vm/_scheduler.py", "vm/_node.py", "click/core.py", "importlib", "stdlib/runner.py",
            "vm/code.py")


def beamlet(*args, timeout=60, cwd=None):
    return subprocess.run([sys.executable, "-m", "stdlib.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=ENV, cwd=cwd or ROOT)


def prog(tmp_path, text, name="prog.py"):
    f = tmp_path / name
    f.write_text(text)
    return str(f)


def no_internal_frames(text):
    return not any(x in text for x in INTERNAL)


def test_run_success_prints_main_result(tmp_path):
    r = beamlet("run", prog(tmp_path, "def main():\n    return 41 + 1\n"))
    assert (r.returncode, r.stdout, r.stderr) == (0, "42\n", "")


def test_run_a_file_that_calls_vm_run_itself_runs_main_once(tmp_path):
    """The README's "A taste", saved as a file: its own vm.run(main) runs main
    once, in the node `beamlet run` made, and prints once."""
    src = ("import vm\n\ncount = []\n\ndef main():\n    count.append(1)\n"
           "    return ('pong', len(count))\n\nprint(vm.run(main))\n")
    r = beamlet("run", prog(tmp_path, src))
    assert (r.returncode, r.stdout) == (0, "('pong', 1)\n"), r.stderr


def test_run_guarded_main_and_args(tmp_path):
    src = ("import sys, vm\n\ndef main(a, b):\n    return int(a) + int(b)\n\n"
           "if __name__ == '__main__':\n"
           "    print('argv', sys.argv[1:], vm.run(main, *sys.argv[1:]))\n")
    r = beamlet("run", prog(tmp_path, src), "2", "3")
    assert (r.returncode, r.stdout) == (0, "argv ['2', '3'] 5\n"), r.stderr


def test_run_main_signatures(tmp_path):
    assert beamlet("run", prog(tmp_path, "def main(args):\n    return args\n"), "x", "y"
                   ).stdout == "['x', 'y']\n"
    assert beamlet("run", prog(tmp_path, "def main(a, b):\n    return b + a\n"), "x", "y"
                   ).stdout == "'yx'\n"
    assert beamlet("run", prog(tmp_path, "def main(*xs):\n    return len(xs)\n"), "1", "2",
                   "3").stdout == "3\n"
    # What the command line cannot give is a usage error that says what to change.
    r = beamlet("run", prog(tmp_path, "def main(*, k):\n    return k\n"))
    assert r.returncode == 2 and "keyword-only arguments (k)" in r.stderr, r.stderr
    assert beamlet("run", prog(tmp_path, "def main(*, k=3):\n    return k\n")).stdout == "3\n"


def test_run_plain_script_runs_inside_the_node(tmp_path):
    src = "import vm\nme = vm.self()\nvm.spawn(lambda: vm.send(me, 'hi'))\nprint(vm.receive())\n"
    r = beamlet("run", prog(tmp_path, src))
    assert (r.returncode, r.stdout) == (0, "hi\n"), r.stderr


def test_run_crash_reports_the_traceback_once_without_internal_frames(tmp_path):
    src = "def helper(x):\n    return 1 / x\n\ndef main():\n    return helper(0)\n"
    r = beamlet("run", prog(tmp_path, src))
    assert r.returncode == 1
    assert r.stderr.count("ZeroDivisionError: division by zero") == 1, r.stderr
    assert "prog.py\", line 2, in helper" in r.stderr
    assert no_internal_frames(r.stderr), r.stderr


def test_run_deadlock_is_one_message(tmp_path):
    r = beamlet("run", prog(tmp_path, "import vm\n\ndef main():\n    vm.receive()\n"))
    assert r.returncode == 1
    assert r.stderr.startswith("beamlet: deadlock: every process is waiting")
    assert "Traceback" not in r.stderr and no_internal_frames(r.stderr)


def test_run_syntax_error_shows_file_line_and_caret(tmp_path):
    r = beamlet("run", prog(tmp_path, "def main(:\n    pass\n"))
    assert r.returncode == 1
    assert 'prog.py", line 1' in r.stderr and "^" in r.stderr and "SyntaxError" in r.stderr
    assert "Traceback" not in r.stderr and no_internal_frames(r.stderr)


def test_usage_errors_exit_2(tmp_path):
    assert beamlet("run", str(tmp_path / "missing.py")).returncode == 2
    assert beamlet("run", prog(tmp_path, "def main(a, b):\n    pass\n"), "1").returncode == 2
    assert beamlet("run", prog(tmp_path, "def main():\n    pass\n"), "1").returncode == 2
    assert beamlet("demo", "--seconds", "-1").returncode == 2
    assert beamlet("shell", "--wait", "-1", "-c", "1").returncode == 2
    assert beamlet("run", "--reductions", "0", prog(tmp_path, "def main():\n    pass\n")
                   ).returncode == 2
    assert beamlet("nosuchcommand").returncode == 2


def test_shell_command_mode_statuses(tmp_path):
    ok = beamlet("shell", "-c", "1 + 1")
    assert (ok.returncode, ok.stdout) == (0, "2\n")
    bad = beamlet("shell", "-c", "1 / 0")
    assert bad.returncode == 1 and "** exception error: ZeroDivisionError" in bad.stdout


def test_shell_json_output_is_pure(tmp_path):
    """One JSON document per command on stdout; the program's prints, its
    crash report and the main-exited notice go to stderr."""
    src = ("import vm\n\ndef main():\n    print('hello from main')\n"
           "    vm.register('m', vm.self())\n"
           "    vm.receive(timeout=0.3)\n    raise RuntimeError('main gives up')\n")
    r = beamlet("shell", prog(tmp_path, src), "--json", "--wait", "0.1",
                "-c", "regs()", "-c", "print('printed') or 5", "-c", "1/0", "-c",
                "vm.sleep(0.5)")
    lines = r.stdout.splitlines()
    assert len(lines) == 4, r.stdout
    docs = [json.loads(x) for x in lines]
    assert docs[0]["kind"] == "regs" and docs[1] == 5
    assert docs[2]["kind"] == "error" and docs[2]["exception"] == "ZeroDivisionError"
    assert docs[3] is None
    assert "hello from main" in r.stderr and "printed" in r.stderr
    assert "** main <0." in r.stderr and "main gives up" in r.stderr
    assert r.returncode == 1


def _interrupt(args, ready, tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "stdlib.cli", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    deadline = time.time() + 60
    line = ""
    while time.time() < deadline and ready not in line:
        line = p.stdout.readline()
        if not line and p.poll() is not None:
            break
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    return p.returncode, err


def test_ctrl_c_exits_130_without_aborted(tmp_path):
    src = ("import vm\n\ndef main():\n    print('spinning', flush=True)\n"
           "    while True:\n        pass\n")
    code, err = _interrupt(["run", prog(tmp_path, src)], "spinning", tmp_path)
    assert code == 130 and "Aborted!" not in err and "Traceback" not in err, err
    code, err = _interrupt(["demo", "--seconds", "30"], "beamlet demo", tmp_path)
    assert code == 130 and "Aborted!" not in err and "Traceback" not in err, err
    # A script of shell commands stops at Ctrl-C, with the same status.
    code, err = _interrupt(["shell", "-c", "print('waiting', flush=True)", "-c", "vm.sleep(30)",
                            "-c", "print('not reached')"], "waiting", tmp_path)
    assert code == 130 and "Traceback" not in err and "not reached" not in err, err


def test_bench_help_lists_every_benchmark():
    from benchmarks.harness import BENCHMARKS

    r = beamlet("bench", "--help")
    text = " ".join(r.stdout.split())
    for name in BENCHMARKS:
        assert name in text
    assert "issue" not in text.lower()


def test_importing_the_cli_does_not_import_benchmarks():
    code = ("import sys, stdlib.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'benchmarks'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, env=ENV, cwd=ROOT)
    assert (r.returncode, r.stdout) == (0, "[]\n"), r.stderr


def test_top_level_help_lists_bench_as_the_command_itself_would():
    from click.testing import CliRunner

    from benchmarks.cli import bench
    from stdlib.cli import main

    lazy = main.commands["bench"]
    assert lazy.load() is bench
    for limit in (30, 45, 80):
        assert lazy.get_short_help_str(limit) == bench.get_short_help_str(limit)
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0 and "  bench      Benchmark beamlet against asyncio" in r.output


def test_bench_runs_through_the_lazy_command():
    r = beamlet("bench", "nosuch")
    assert r.returncode == 2 and "unknown benchmark 'nosuch'" in r.stderr


def test_readable_default_timeout_in_help():
    import pydoc

    from stdlib import gen_server

    text = pydoc.render_doc(gen_server.call, renderer=pydoc.plaintext)
    assert "object at 0x" not in text and "timeout=<default: 5 s>" in text


@pytest.mark.parametrize("cmd", ["run", "shell", "demo"])
def test_help_texts_name_no_issue_numbers(cmd):
    r = beamlet(cmd, "--help")
    assert r.returncode == 0 and "issue" not in r.stdout.lower()
