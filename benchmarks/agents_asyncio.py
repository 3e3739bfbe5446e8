"""The agents benchmark's asyncio twin: the same agent loop, written with asyncio.

It does what a beamlet agent step does, with asyncio's idioms: the model call
is an HTTP/1.1 POST through h11 over asyncio streams on a kept-alive
connection, JSON in and out; each tool call is a task with a timeout under a
semaphore (the concurrency cap); the step count is checked against a limit.
The same fake server answers both (benchmarks/agents_server.py).

What it refuses: streaming, retries and budgets processes: none of them is
exercised by the benchmark's happy path on either side.
"""

from __future__ import annotations

import asyncio
import json

import h11

NOOP_TOOL = {"type": "function", "function": {
    "name": "noop", "description": "Do nothing.",
    "parameters": {"type": "object", "properties": {"i": {"type": "integer"}},
                   "required": ["i"], "additionalProperties": False}}}


class Connection:
    """One kept-alive HTTP/1.1 connection (h11 over asyncio streams)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None
        self.h = h11.Connection(h11.CLIENT)

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def post_json(self, path, body, headers=()):
        data = json.dumps(body).encode()
        out = self.h.send(h11.Request(method="POST", target=path, headers=[
            ("host", f"{self.host}:{self.port}"), ("content-type", "application/json"),
            ("content-length", str(len(data)))] + list(headers)))
        out += self.h.send(h11.Data(data=data)) + self.h.send(h11.EndOfMessage())
        self.writer.write(out)
        await self.writer.drain()
        chunks = []
        while True:
            ev = self.h.next_event()
            if ev is h11.NEED_DATA:
                self.h.receive_data(await self.reader.read(65536))
            elif isinstance(ev, h11.Data):
                chunks.append(bytes(ev.data))
            elif isinstance(ev, h11.EndOfMessage):
                break
        self.h.start_next_cycle()
        return json.loads(b"".join(chunks))

    def close(self):
        if self.writer is not None:
            self.writer.close()


async def noop(i: int) -> str:
    return f"noop {i}"


async def ask(conn, prompt, *, headers, max_steps=100, tool_timeout=30.0, cap=4):
    """The agent loop: think (model call), act (tools), observe, until an answer."""
    messages = [{"role": "system", "content": "You help."}, {"role": "user", "content": prompt}]
    sem = asyncio.Semaphore(cap)

    async def run(call):
        async with sem:
            try:
                args = json.loads(call["function"]["arguments"])
                return await asyncio.wait_for(noop(**args), tool_timeout)
            except Exception as e:  # noqa: BLE001 - a tool error goes back to the model
                return f"error: {type(e).__name__}: {e}"

    for _ in range(max_steps):
        body = {"model": "fake", "messages": messages, "max_tokens": 1024}
        tools = [NOOP_TOOL]
        body["tools"] = tools
        reply = await conn.post_json("/v1/chat/completions", body, headers)
        msg = reply["choices"][0]["message"]
        messages.append(msg)
        calls = msg.get("tool_calls") or []
        if not calls:
            return msg["content"]
        results = await asyncio.gather(*(asyncio.create_task(run(c)) for c in calls))
        for c, r in zip(calls, results, strict=True):
            messages.append({"role": "tool", "tool_call_id": c["id"], "content": r})
    raise RuntimeError(f"no answer within {max_steps} steps")
