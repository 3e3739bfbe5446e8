"""Helpers shared by the agents tests."""

import vm


def drained(*pattern):
    """Every message already in the mailbox that matches `pattern`, in order."""
    out = []
    while (msg := vm.receive(pattern, timeout=0)) is not vm.TIMEOUT:
        out.append(msg)
    return out
