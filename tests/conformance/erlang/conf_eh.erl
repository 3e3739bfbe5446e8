%% conf_eh: a programmable gen_event handler for the gen_event scenarios.
%%
%% Python twin: ConfEH in tests/conformance/callbacks.py.
%%
%% The state is {Main, Name}: Main is the process to report to, Name tells
%% installed handlers apart in the trace. Every callback reports what it got
%% to Main and otherwise does what it is asked:
%%
%%   init({Main, Name})            -> Main ! {init, Name}, {ok, {Main, Name}}
%%   init({init, F})               -> F()
%%   init({{init, F}, _T})         -> F()  (a swap's init, told what to return)
%%   init({{swap, Main, Name}, T}) -> Main ! {swapped_in, Name, T}, {ok, {Main, Name}}
%%                                    (the init of a swap: T is what the old
%%                                    handler's terminate returned)
%%   handle_event({do, F}, S) -> F(S)     anything else -> Main ! {event, Name, E}, {ok, S}
%%   handle_call({do, F}, S)  -> F(S)     anything else -> {ok, {Name, Q}, S}
%%   handle_info(I, S)        -> Main ! {info, Name, I}, {ok, S}
%%   terminate(Arg, S)        -> Main ! {terminate, Name, Arg}, {terminated, Name}
-module(conf_eh).
-behaviour(gen_event).

-export([init/1, handle_event/2, handle_call/2, handle_info/2, terminate/2]).

init({init, F}) -> F();
init({{init, F}, _T}) -> F();
init({{swap, Main, Name}, T}) -> Main ! {swapped_in, Name, T}, {ok, {Main, Name}};
init({Main, Name}) -> Main ! {init, Name}, {ok, {Main, Name}}.

handle_event({do, F}, S) -> F(S);
handle_event(E, {Main, Name} = S) -> Main ! {event, Name, E}, {ok, S}.

handle_call({do, F}, S) -> F(S);
handle_call(Q, {_Main, Name} = S) -> {ok, {Name, Q}, S}.

handle_info(I, {Main, Name} = S) -> Main ! {info, Name, I}, {ok, S}.

terminate(Arg, {Main, Name}) -> Main ! {terminate, Name, Arg}, {terminated, Name};
terminate(_Arg, _State) -> ok.
