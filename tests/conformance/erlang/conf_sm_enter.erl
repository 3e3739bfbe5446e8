%% conf_sm_enter: conf_sm with state enter calls
%% ([handle_event_function, state_enter]); an enter call is reported as
%% {State, enter, OldState}.
%%
%% Python twin: _ConfSMEnter in tests/conformance/callbacks.py.
-module(conf_sm_enter).
-behaviour(gen_statem).

-export([callback_mode/0, init/1, handle_event/4, terminate/3]).

callback_mode() -> [handle_event_function, state_enter].

init(F) -> conf_sm:init(F).

handle_event(Type, Content, State, Data) -> conf_sm:handle_event(Type, Content, State, Data).

terminate(Reason, State, Data) -> conf_sm:terminate(Reason, State, Data).
