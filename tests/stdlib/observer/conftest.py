"""The distribution tests' fixtures (two beamlet nodes, a real Erlang node and
a beamlet node, port mappers, HOME), for the remote shell's tests here."""

from tests.distribution.conftest import (  # noqa: F401 - fixtures
    beamlet_epmd,
    erl_and_py,
    home,
    system_epmd,
    two_py,
)
