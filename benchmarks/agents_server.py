"""The fake model of the agents benchmark: an OpenAI-compatible endpoint in its
own OS process, answering each request after a delay.

    python -m benchmarks.agents_server          # prints the port; serves until stdin closes

Written with asyncio and a minimal HTTP/1.1 parser (keep-alive, Content-Length
bodies), in a separate process so that its threads and CPU are not counted as
the client's. Per request, two headers steer it:

- `x-fake-delay`: seconds to wait before answering (the model's latency);
- `x-fake-steps`: if the request offers tools and fewer tool results than this
  are in the conversation, answer with a call to the first tool (`{"i": n}`),
  else with text. So one ask makes exactly `steps + 1` model calls.

What it refuses: anything but POST with a JSON body; streaming.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys


def _answer(req: dict, steps: int) -> dict:
    tools = req.get("tools") or []
    done = sum(1 for m in req.get("messages", ()) if m.get("role") == "tool")
    if tools and done < steps:
        msg = {"role": "assistant", "content": None, "tool_calls": [{
            "id": f"call_{done}", "type": "function",
            "function": {"name": tools[0]["function"]["name"],
                         "arguments": json.dumps({"i": done})}}]}
        finish = "tool_calls"
    else:
        msg = {"role": "assistant", "content": f"done after {done} tool results"}
        finish = "stop"
    return {"id": "fake", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}}


async def _handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            headers = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            delay = float(headers.get("x-fake-delay", "0"))
            if delay:
                await asyncio.sleep(delay)
            out = json.dumps(_answer(json.loads(body), int(headers.get("x-fake-steps", "0"))))
            data = out.encode()
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                         b"content-length: %d\r\n\r\n%s" % (len(data), data))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _serve():
    server = await asyncio.start_server(_handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    server.close()


@contextlib.contextmanager
def fake_server():
    """Start the server in a child process; yields its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.agents_server"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    asyncio.run(_serve())
