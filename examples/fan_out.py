"""A task fan-out with async_stream: many slow calls, a few at a time.

    beamlet run examples/fan_out.py

Each "fetch" stands for a call that waits (an HTTP request, a model API):
here it sleeps. `task.async_stream` runs them in tasks, at most
`max_concurrency` at once, and yields the results lazily, in input order.
A fetch that takes longer than `timeout` is killed and reads
("exit", "timeout"); under a Task.Supervisor with `async_stream_nolink`, a
fetch that crashes reads ("exit", reason) and the caller carries on.
"""

import vm
from stdlib import task, task_supervisor

DELAYS = {f"page{i}": 0.05 + (i * 37 % 10) / 100 for i in range(12)}
DELAYS["page7"] = 5.0  # a stuck server


def fetch(url):
    vm.sleep(DELAYS[url])
    return f"<html>{url}</html>"


def flaky_fetch(url):
    if url == "page3":
        raise ConnectionError(f"{url}: connection reset")
    return fetch(url)


def main():
    urls = list(DELAYS)
    sequential = sum(min(d, 0.5) for d in DELAYS.values())

    t0 = vm.monotonic()
    results = task.async_stream(urls, fetch, max_concurrency=4, timeout=0.5,
                                on_timeout="kill_task", zip_input_on_exit=True)
    ok = 0
    for url, result in zip(urls, results, strict=True):
        match result:
            case ("ok", body):
                ok += 1
                print(f"{url:7} ok    {body}")
            case ("exit", (item, reason)):
                print(f"{url:7} exit  {reason} (input {item!r})")
    took = vm.monotonic() - t0
    print(f"{ok}/{len(urls)} pages in {took:.2f} s, 4 at a time "
          f"(one after another: about {sequential:.2f} s)")

    # The same fan-out under a supervisor, not linked: a crash is just a result.
    _, sup = task_supervisor.start_link(name="fetchers")
    results = task_supervisor.async_stream_nolink("fetchers", urls[:6], flaky_fetch,
                                                  max_concurrency=3)
    crashed = [url for url, r in zip(urls[:6], results, strict=True) if r[0] == "exit"]
    print("crashed under the supervisor:", crashed, "- the caller is fine")
    return ok


if __name__ == "__main__":
    print(vm.run(main))
