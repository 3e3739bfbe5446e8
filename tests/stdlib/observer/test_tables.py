"""The observer's tables() view and the tables line of i(pid)."""

import json

import vm
from stdlib import ets
from stdlib.observer import helpers
from vm.testing import run


def test_tables_lists_every_table_with_owner_type_size_and_memory():
    def main():
        empty = helpers.tables()
        named = ets.new("sessions", named_table=True, access="public")
        ets.insert(named, [(k, "x" * 50) for k in range(100)])
        me = vm.self()

        def other():
            ets.new("secret", access="private", type="ordered_set")
            vm.send(me, "made")
            vm.receive()

        owner = vm.spawn(other)
        vm.receive("made")
        return empty, helpers.tables(), helpers.tables(json=True), owner, me

    empty, view, as_json, owner, me = run(main)
    assert "(no tables)" in empty.text
    lines = view.text.splitlines()
    assert lines[0].split() == ["Table", "Id", "Owner", "Type", "Access", "Size", "Memory"]
    sessions = next(x for x in lines if x.startswith("sessions"))
    assert repr(me) in sessions and "set" in sessions and "public" in sessions
    assert "100" in sessions
    secret = next(x for x in lines if x.startswith("secret"))
    assert repr(owner) in secret and "ordered_set" in secret and "private" in secret
    data = json.loads(as_json)
    rows = {t["name"]: t for t in data["tables"]}
    assert rows["sessions"]["named"] is True and rows["sessions"]["size"] == 100
    assert rows["sessions"]["memory"] > 100 * 50
    assert rows["secret"]["owner"] == repr(owner) and rows["secret"]["named"] is False


def test_i_pid_lists_the_tables_a_process_owns():
    def main():
        t = ets.new("mine", named_table=True)
        u = ets.new("unnamed")
        p = vm.spawn(vm.receive)
        return t, u, helpers.i(vm.self()), helpers.i(p), helpers.i(vm.self(), json=True)

    t, u, mine, none, as_json = run(main)
    assert f"tables    {t!r}, {u!r}" in mine.text
    assert "tables    []" in none.text
    assert json.loads(as_json)["tables"] == [repr(t), repr(u)]


def test_tables_from_another_thread():
    node = vm.Node(clock="virtual")
    with node:
        keeper = node.spawn(vm.receive, "never")
        node.call(lambda: ets.new("kept", named_table=True) and
                  ets.give_away("kept", keeper, None))
        view = helpers.tables(node=node)
    assert "kept" in view.text


def test_the_shell_has_tables_and_the_table_modules():
    import io

    from stdlib.observer.shell import Shell

    out = io.StringIO()
    sh = Shell(out=out)
    try:
        assert sh.run_source("t = ets.new('from_shell', named_table=True)\n")
        out.seek(0)
        out.truncate()
        assert sh.run_source("tables()\n")
        assert "from_shell" in out.getvalue(), out.getvalue()
        assert all(sh.run_source(f"{m}\n") for m in ("pg", "persistent_term", "registry"))
        assert "tables()" in sh.ns["help"]()
    finally:
        sh.close()
