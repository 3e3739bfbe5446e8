%% conf_gs: a programmable gen_server for the gen_server scenarios.
%%
%% Python twin: _ConfGS in tests/conformance/callbacks.py.
%%
%% init(F) returns whatever F() returns, so a scenario chooses the init
%% result. Afterwards the state is, by convention, the pid of the process to
%% report to (Main). Every callback reports what it does to Main and
%% otherwise does what the message asks:
%%
%%   call  {do, F}  -> F(From, State)            anything else -> {reply, {echo, Req}, S}
%%   cast  {do, F}  -> F(State)                  anything else -> report {cast, Msg}
%%   info  {do, F}  -> F(State)                  anything else -> report {info, Msg}
%%   continue {do, F} -> F(State)                anything else -> report {continue, C}
%%   terminate(R, Main) reports {terminate, R}
%%
%% Reports are plain messages to Main, so Main logs them in the order the
%% server sent them.
-module(conf_gs).
-behaviour(gen_server).

-export([init/1, handle_call/3, handle_cast/2, handle_info/2,
         handle_continue/2, terminate/2]).

init(F) -> F().

handle_call({do, F}, From, S) -> F(From, S);
handle_call(Req, _From, S) -> {reply, {echo, Req}, S}.

handle_cast({do, F}, S) -> F(S);
handle_cast(Msg, Main) -> Main ! {cast, Msg}, {noreply, Main}.

handle_info({do, F}, S) -> F(S);
handle_info(Msg, Main) -> Main ! {info, Msg}, {noreply, Main}.

handle_continue({do, F}, S) -> F(S);
handle_continue(C, Main) -> Main ! {continue, C}, {noreply, Main}.

terminate(Reason, Main) when is_pid(Main) -> Main ! {terminate, Reason};
terminate(_Reason, _State) -> ok.
