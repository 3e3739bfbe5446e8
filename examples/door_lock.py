"""A code lock as a gen_statem (the OTP User's Guide example), with state timeouts.

    beamlet run examples/door_lock.py

States: "locked" and "open" (state_functions mode, with state enter calls).
Pressing buttons while locked collects digits; the right code opens the
door, which locks itself again after `open_time` seconds (a state timeout:
leaving the state cancels it). A pause of `button_time` seconds between
presses clears the digits (another state timeout, restarted by each press).
Presses while the door is open are postponed: they are handled once it is
locked again, because postponed events are retried on every state change.
"""

import vm
from stdlib import gen_statem, otp_sys


class CodeLock(gen_statem.GenStatem):
    def callback_mode(self):
        return ["state_functions", "state_enter"]

    def init(self, arg):
        code, open_time, button_time = arg
        data = {"code": list(code), "buttons": [], "open_time": open_time,
                "button_time": button_time}
        return ("ok", "locked", data)

    # --- locked

    def locked(self, event_type, content, data):
        if event_type == "enter":
            print("  [lock] locked")
            return ("keep_state", dict(data, buttons=[]))
        if event_type == "state_timeout" and content == "button":
            print("  [lock] too slow: digits cleared")
            return ("keep_state", dict(data, buttons=[]))
        if event_type == "cast" and type(content) is tuple and content[0] == "button":
            buttons = (data["buttons"] + [content[1]])[-len(data["code"]):]
            if buttons == data["code"]:
                return ("next_state", "open", dict(data, buttons=[]))
            # each press restarts the button timeout
            return ("keep_state", dict(data, buttons=buttons),
                    [("state_timeout", data["button_time"], "button")])
        return self.handle_common(event_type, content, data)

    # --- open

    def open(self, event_type, content, data):
        if event_type == "enter":
            print(f"  [lock] open for {data['open_time']} s")
            return ("keep_state_and_data", [("state_timeout", data["open_time"], "lock")])
        if event_type == "state_timeout" and content == "lock":
            return ("next_state", "locked", data)
        if event_type == "cast":
            print(f"  [lock] {content!r} while open: postponed")
            return ("keep_state_and_data", "postpone")
        return self.handle_common(event_type, content, data)

    # --- both states

    def handle_common(self, event_type, content, data):
        if type(event_type) is tuple and event_type[0] == "call" and content == "code_length":
            return ("keep_state_and_data", [("reply", event_type[1], len(data["code"]))])
        return "keep_state_and_data"


def press(lock, digits, pause=0.0):
    for d in digits:
        print(f"press {d}")
        gen_statem.cast(lock, ("button", d))
        vm.sleep(pause)


def main():
    ok, lock = gen_statem.start_link(CodeLock, ("123", 0.5, 0.3), name="lock")
    print("code length:", gen_statem.call("lock", "code_length"))
    press("lock", "12", pause=0.01)
    vm.sleep(0.4)  # longer than button_time: the digits are cleared
    press("lock", "123", pause=0.01)
    vm.sleep(0.1)
    press("lock", "9")  # the door is open: postponed until it locks again
    vm.sleep(0.6)
    state, data = otp_sys.get_state("lock")
    print("state:", state, "digits:", data["buttons"])
    gen_statem.stop("lock")
    return state


if __name__ == "__main__":
    print(vm.run(main))
