"""The remote shell's server (stdlib/observer/remote.py), driven in one node;
tests/distribution/test_cli.py runs the real `beamlet shell --remsh`."""

from stdlib import gen_server
from stdlib.observer import remote
from vm.testing import run


def test_requests_queued_together_are_each_evaluated_and_answered():
    # all four are in the server's mailbox before it runs: each evaluation must
    # get its own request and caller, not the last one the loop saw
    def main():
        remote.allow()
        reqs = [gen_server.send_request(remote.SERVER, (remote.EVAL, src, n, "s"))
                for n, src in enumerate(["1 + 1", "'two'", "x = 3", "x * 2"], 1)]
        return [gen_server.wait_response(r, 5.0) for r in reqs]

    assert run(main) == [("reply", ("ok", "2")), ("reply", ("ok", "'two'")),
                         ("reply", ("ok", None)), ("reply", ("ok", "6"))]
