"""Drive the chat server example over loopback with real sockets."""

import importlib.util
import os
import socket

import vm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_example(name):
    path = os.path.join(ROOT, "examples", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_until(sock, needle, limit=4096):
    data = b""
    while needle not in data:
        chunk = sock.recv(limit)
        assert chunk, f"connection closed before {needle!r}; got {data!r}"
        data += chunk
    return data


def test_two_clients_chat_over_loopback():
    chat = load_example("chat_server")
    with vm.Node() as node:
        port = node.call(chat.start, 0, timeout=10)
        alice = socket.create_connection(("127.0.0.1", port), timeout=10)
        bob = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            read_until(alice, b"Your name: ")
            read_until(bob, b"Your name: ")
            alice.sendall(b"alice\n")
            read_until(alice, b"* alice joined")
            bob.sendall(b"bob\n")
            read_until(alice, b"* bob joined")

            def members():
                vm.send("chat_room", ("members", vm.self()))
                return vm.receive(("members", vm.ANY), timeout=5)

            assert node.call(members, timeout=10) == ("members", ["alice", "bob"])
            alice.sendall(b"hello bob\n")
            assert b"<alice> hello bob" in read_until(bob, b"hello bob")
            alice.close()
            assert b"* alice left" in read_until(bob, b"left")
        finally:
            alice.close()
            bob.close()
