"""A fake OpenAI-compatible server on loopback, for the HTTP client's tests.

It runs on plain threads (one per connection), outside the node under test,
and speaks HTTP/1.1 through h11 in the server role. Each request is answered
by the next *handler* queued with `enqueue` (else `default`); a handler gets
an `Exchange` and may reply with JSON, stream server-sent events, send raw
bytes, drop the connection, or hang until the client gives up. The server
records every request and counts connections, so tests can check that the
client closed everything it opened (`wait_closed`), with no sleeps.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import threading
from collections import deque

import h11


class Exchange:
    def __init__(self, server, conn, h, request, body):
        self.server, self.conn, self.h = server, conn, h
        self.method = request.method.decode()
        self.path = request.target.decode()
        self.headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        self.body = json.loads(body) if body else None
        self.keep = True

    def _send(self, event):
        data = self.h.send(event)
        if data:
            self.conn.sendall(data)

    def head(self, status=200, headers=()):
        self._send(h11.Response(status_code=status, headers=list(headers)))

    def data(self, chunk: bytes):
        self._send(h11.Data(data=chunk))

    def end(self):
        self._send(h11.EndOfMessage())

    def json(self, obj, status=200, headers=()):
        body = json.dumps(obj).encode()
        self.head(status, [("content-type", "application/json"),
                           ("content-length", str(len(body)))] + list(headers))
        self.data(body)
        self.end()

    def raw(self, data: bytes, close=True):
        self.conn.sendall(data)
        if close:
            self.drop()

    def sse(self, chunks, done=True, end=True):
        self.head(200, [("content-type", "text/event-stream")])
        for c in chunks:
            self.data(b"data: " + (c if isinstance(c, bytes) else json.dumps(c).encode()) + b"\n\n")
        if done:
            self.data(b"data: [DONE]\n\n")
        if end:
            self.end()

    def drop(self):
        self.keep = False
        with contextlib.suppress(OSError):
            self.conn.shutdown(socket.SHUT_RDWR)

    def hang(self):
        """Answer nothing; return when the client closes the connection."""
        self.keep = False
        try:
            while self.conn.recv(65536):
                pass
        except OSError:
            pass


class FakeOpenAI:
    def __init__(self, tls_files=None):
        self.requests: list[Exchange] = []
        self.handlers: deque = deque()
        self.default = lambda ex: ex.json(completion("ok"))
        self.open = 0
        self.accepted = 0
        self.cond = threading.Condition()
        self.tls = None
        if tls_files is not None:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(*tls_files)
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.scheme = "https" if self.tls else "http"
        self.base_url = f"{self.scheme}://127.0.0.1:{self.port}/v1"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def enqueue(self, *handlers):
        self.handlers.extend(handlers)

    def close(self):
        self._stop = True
        with contextlib.suppress(OSError):  # wakes the thread blocked in accept
            self.lsock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.lsock.close()

    def wait_closed(self, timeout=10.0) -> bool:
        """True once every connection the server accepted has been closed."""
        with self.cond:
            return self.cond.wait_for(lambda: self.open == 0, timeout)

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            with self.cond:
                self.open += 1
                self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            h = h11.Connection(h11.SERVER)
            while True:
                request, body = None, b""
                while True:
                    ev = h.next_event()
                    if ev is h11.NEED_DATA:
                        data = conn.recv(65536)
                        h.receive_data(data)
                        if not data and h.their_state is not h11.DONE and request is None:
                            return
                    elif isinstance(ev, h11.Request):
                        request = ev
                    elif isinstance(ev, h11.Data):
                        body += ev.data
                    elif isinstance(ev, h11.EndOfMessage):
                        break
                    elif isinstance(ev, h11.ConnectionClosed):
                        return
                ex = Exchange(self, conn, h, request, body)
                self.requests.append(ex)
                handler = self.handlers.popleft() if self.handlers else self.default
                handler(ex)
                if not ex.keep or h.our_state is not h11.DONE:
                    return
                h.start_next_cycle()
        except (OSError, h11.ProtocolError, ssl.SSLError):
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            with self.cond:
                self.open -= 1
                self.cond.notify_all()


# ----------------------------------------------------------------------
# replies


def completion(content=None, tool_calls=(), usage=(11, 7), finish=None):
    msg = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = [{"id": i, "type": "function",
                              "function": {"name": n, "arguments": a}} for i, n, a in tool_calls]
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "message": msg,
                         "finish_reason": finish or ("tool_calls" if tool_calls else "stop")}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                      "total_tokens": usage[0] + usage[1]}}


def chunk(delta=None, finish=None, usage=None):
    c = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "fake",
         "choices": [] if delta is None and finish is None else
         [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
    if usage is not None:
        c["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                      "total_tokens": usage[0] + usage[1]}
    return c


def error_body(message, type_="error", code=None):
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def self_signed_cert(folder):
    """(cert, key) paths of a fresh self-signed certificate for 127.0.0.1, made with
    the openssl command (the tests skip TLS when it is not installed)."""
    cert, key = f"{folder}/cert.pem", f"{folder}/key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=beamlet-test",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key
