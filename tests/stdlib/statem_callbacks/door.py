"""A state_functions machine: a code lock (the OTP User's Guide example)."""

from stdlib.gen_statem import GenStatem


class CodeLock(GenStatem):
    def callback_mode(self):
        return ["state_functions", "state_enter"]

    def init(self, arg):
        code, open_time = (arg, 10.0) if isinstance(arg, str) else arg
        return ("ok", "locked", {"code": code, "length": len(code), "buttons": [],
                                 "open_time": open_time})

    def locked(self, event_type, content, data):
        if event_type == "enter":
            return ("keep_state", dict(data, buttons=[]))
        if event_type == "state_timeout":  # button_timeout
            return ("keep_state", dict(data, buttons=[]))
        if event_type == "cast" and type(content) is tuple and content[0] == "button":
            buttons = (data["buttons"] + [content[1]])[-data["length"]:]
            if buttons == list(data["code"]):
                return ("next_state", "open", dict(data, buttons=[]))
            return ("keep_state", dict(data, buttons=buttons),
                    [("state_timeout", 30.0, "button")])
        return self.common(event_type, content, data)

    def open(self, event_type, content, data):
        if event_type == "enter":
            return ("keep_state_and_data", [("state_timeout", data["open_time"], "lock")])
        if event_type == "state_timeout":
            return ("next_state", "locked", data)
        if event_type == "cast":
            return ("keep_state_and_data", "postpone")  # handled once locked again
        return self.common(event_type, content, data)

    def common(self, event_type, content, data):
        if type(event_type) is tuple and event_type[0] == "call":
            from_ = event_type[1]
            if content == "code_length":
                return ("keep_state_and_data", [("reply", from_, data["length"])])
        return "keep_state_and_data"
