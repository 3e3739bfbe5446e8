"""A key-value store as a gen_server, with the usual client API around it.

    beamlet run examples/kv_store.py

The server owns the dict; clients only send requests. `put` and `get` are
calls (they wait for the answer), `delete_async` is a cast (fire and
forget), and `otp_sys` looks inside the running server without touching it.
"""

import vm
from stdlib import gen_server, otp_sys


class KV(gen_server.GenServer):
    def init(self, initial):
        return ("ok", dict(initial or {}))

    def handle_call(self, request, from_, table):
        match request:
            case ("put", key, value):
                old = table.get(key)
                table[key] = value
                return ("reply", old, table)
            case ("get", key):
                return ("reply", table.get(key), table)
            case "keys":
                return ("reply", sorted(table), table)
        return ("reply", ("error", ("unknown_request", request)), table)

    def handle_cast(self, msg, table):
        match msg:
            case ("delete", key):
                table.pop(key, None)
        return ("noreply", table)

    def terminate(self, reason, table):
        print(f"kv: stopping ({reason}) with {len(table)} keys")


# --- the client API: what the rest of the program calls


def start_link(initial=None):
    return gen_server.start_link(KV, initial, name="kv")


def put(key, value):
    return gen_server.call("kv", ("put", key, value))


def get(key):
    return gen_server.call("kv", ("get", key))


def keys():
    return gen_server.call("kv", "keys")


def delete_async(key):
    gen_server.cast("kv", ("delete", key))


def main():
    start_link({"answer": 42})
    print("put colour:", put("colour", "blue"))
    print("put colour again, old value:", put("colour", "green"))
    print("get colour:", get("colour"))
    delete_async("answer")
    print("keys:", keys())
    print("state seen through otp_sys:", otp_sys.get_state("kv"))
    try:
        gen_server.call("kv", ("get", "slow"), 0.0)
    except vm.Exit as e:
        print("a call that cannot be answered in time exits the caller:", e.reason[0])
    gen_server.stop("kv")
