"""`beamlet audit` and `beamlet approvals`: an agents' store from the command line.

What this module owns: two commands over a store file (stdlib/agents/store.py),
for people and scripts, working whether or not a program is running on it
(SQLite's WAL lets them read while its writer writes):

    beamlet audit beamlet.db                         verify the chain, print the trail
    beamlet audit beamlet.db --agent support --kind tool_call --since 2026-01-31
    beamlet audit beamlet.db --trace 4bf92f35... --json
    beamlet approvals                                pending approvals ($BEAMLET_STORE)
    beamlet approvals --approve r-1a2b:call_0 --by ada
    beamlet approvals --refuse r-1a2b:call_0 --reason "not above 100"

`audit` always verifies the whole chain first; when it is broken it prints
the first broken record and why, and exits 1 (nothing else is printed as
if it could be trusted). Filters combine (all must hold); times are Unix
seconds or ISO 8601 (UTC unless a zone is given). `--json` prints one JSON
document: `{"ok", "records", "head", "broken", "shown": [...]}`.

`approvals` lists the store's pending approvals, or answers one: the
answer is written to the store, and the program whose agent waits picks it
up within a second (its approval desk reads the table while approvals are
pending). An approval that is no longer pending is not changed: exit 1
with its status.

Exit statuses: 0 success, 1 a broken chain or an answer that was ignored,
2 a usage error (a missing file, bad options).

What it refuses: writing the trail (only agents and `agents.audit.log` do).
"""

from __future__ import annotations

import json
import os
import sys

import click

__all__ = ["approvals", "audit"]


def _store_file(path):
    from stdlib.agents.store import default_path

    path = path or default_path()
    if not os.path.exists(path):
        raise click.UsageError(f"no store at {path} (give its path, or set BEAMLET_STORE)")
    return path


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--agent", default=None, help="Only this agent's records (its name).")
@click.option("--trace", "trace_id", default=None, help="Only records of this trace id.")
@click.option("--principal", default=None, help="Only records of requests made by this principal.")
@click.option("--request", "request_id", default=None, help="Only records of this request id.")
@click.option("--kind", "kinds", multiple=True,
              help="Only records of this kind (repeatable): start, stop, crash, request, "
                   "model_call, tool_call, state, budget, approval, request_done, ...")
@click.option("--since", default=None, help="Only records at or after this time.")
@click.option("--until", default=None, help="Only records at or before this time.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--verify-only", is_flag=True, help="Verify and print the summary only.")
@click.option("--key-env", default="BEAMLET_AUDIT_KEY", show_default=True, metavar="VAR",
              help="The environment variable holding the key of a keyed (HMAC) trail.")
@click.option("--expect-head", default=None, metavar="SEQ:HASH",
              help="A record's hash kept elsewhere: the trail must still have it.")
def audit(file, agent, trace_id, principal, request_id, kinds, since, until, limit, as_json,
          verify_only, key_env, expect_head):
    """Verify an agents' audit trail (FILE, default $BEAMLET_STORE or beamlet.db)
    and print it, filtered.

    Exit status: 0 the chain verifies, 1 it is broken (the first broken record
    is named), 2 usage error."""
    import vm
    from stdlib.agents import audit as trail

    path = _store_file(file)
    anchor = None
    if expect_head is not None:
        seq, _, digest = expect_head.partition(":")
        if not seq.isdigit() or not digest:
            raise click.UsageError("--expect-head is SEQ:HASH, e.g. 120:3f2a...")
        anchor = (int(seq), digest)
    try:
        result = trail.verify(path, key=os.environ.get(key_env) or None, expect_head=anchor)
        shown = [] if verify_only or not result["ok"] else trail.query(
            path, agent=agent, trace_id=trace_id, principal=principal, request_id=request_id,
            kind=list(kinds) or None, since=since, until=until, limit=limit)
    except vm.BadArg as e:
        raise click.UsageError(str(e)) from None
    except Exception as e:  # noqa: BLE001 - not a store, a damaged file: say so
        click.echo(f"beamlet audit: cannot read {path}: {e}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(dict(result, shown=shown), ensure_ascii=False, default=str))
    else:
        for r in shown:
            click.echo(trail.format_record(r))
        if result["ok"]:
            head = result["head"]
            click.echo(f"{result['records']} records; the chain verifies"
                       + (f" (head {head[0]}:{head[1]})" if head else ""))
        else:
            b = result["broken"]
            where = f"record {b['seq']}" if b["seq"] is not None else "the trail"
            click.echo(f"beamlet audit: {path}: the chain is broken at {where}: {b['problem']}",
                       err=True)
    sys.exit(0 if result["ok"] else 1)


@click.command()
@click.option("--store", "path", default=None, type=click.Path(dir_okay=False),
              help="The store (default $BEAMLET_STORE, else beamlet.db).")
@click.option("--approve", "approve_id", default=None, metavar="ID", help="Approve this one.")
@click.option("--refuse", "refuse_id", default=None, metavar="ID", help="Refuse this one.")
@click.option("--reason", default=None, help="Why it is refused (the model is told).")
@click.option("--by", default=None, help="Who answers (default $USER).")
@click.option("--agent", default=None, help="List only this agent's approvals.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def approvals(path, approve_id, refuse_id, reason, by, agent, as_json):
    """List the pending approvals of a running program's store, or answer one.

    Exit status: 0 success, 1 the approval was not pending (answered
    already, expired, or unknown), 2 usage error."""
    from stdlib.agents.desk import answer_row, pending_rows
    from stdlib.agents.store import connect

    path = _store_file(path)
    if approve_id and refuse_id:
        raise click.UsageError("give --approve or --refuse, not both")
    if reason is not None and not refuse_id:
        raise click.UsageError("--reason goes with --refuse")
    if approve_id or refuse_id:
        by = by or os.environ.get("USER") or "cli"
        conn = connect(path)
        try:
            if approve_id:
                result = answer_row(conn, approve_id, "approved", by, None)
            else:
                result = answer_row(conn, refuse_id, "refused", by, reason or "refused")
        finally:
            conn.close()
        aid = approve_id or refuse_id
        if as_json:
            click.echo(json.dumps({"id": aid, "result": result if result == "ok" else
                                   {"ignored": result[1]}}))
        elif result == "ok":
            click.echo(f"{aid}: {'approved' if approve_id else 'refused'} by {by}")
        else:
            click.echo(f"beamlet approvals: {aid} is not pending ({result[1]}); nothing changed",
                       err=True)
        sys.exit(0 if result == "ok" else 1)
    conn = connect(path, readonly=True)
    try:
        rows = pending_rows(conn, agent)
    finally:
        conn.close()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    from stdlib.agents.observe import approvals_view

    click.echo(approvals_view(rows).text)
