%% conf_sm: a programmable gen_statem (handle_event_function) for the
%% gen_statem scenarios.
%%
%% Python twin: _ConfSM in tests/conformance/callbacks.py.
%%
%% init(F) returns F(). The data is {Main, Handler}: every event is first
%% reported to Main as {State, Type, Content} (a call's type reported as
%% `call`, without its From), then Handler(Type, Content, State, Data)
%% returns the callback result. terminate reports {terminate, State, Reason}.
-module(conf_sm).
-behaviour(gen_statem).

-export([callback_mode/0, init/1, handle_event/4, terminate/3]).

callback_mode() -> handle_event_function.

init(F) -> F().

handle_event(Type, Content, State, {Main, Handler} = Data) ->
    Main ! {State, type(Type), Content},
    Handler(Type, Content, State, Data).

terminate(Reason, State, {Main, _}) -> Main ! {terminate, State, Reason};
terminate(_Reason, _State, _Data) -> ok.

type({call, _From}) -> call;
type(Type) -> Type.
