%% The Erlang twin of scripted.py, used to record on real OTP 25 the traces
%% that tests/stdlib/test_gen_statem.py expects. A scenario is
%% {InitResult, Fun, Then[, CallbackMode]}: the machine reports
%% {ev, Type, Content, State} for each event and {terminate, Reason, State};
%% Then(Pid) drives it. Example, from an erl shell in this folder:
%%
%%   c(scripted_otp).
%%   scripted_otp:q(zero_event_timeout,
%%     {{ok, s0, d},
%%      fun(cast, go, _, D) -> {next_state, s1, D, [{timeout, 0, zero}]};
%%         (_, _, _, _) -> keep_state_and_data end,
%%      fun(P) -> sys:suspend(P), gen_statem:cast(P, go),
%%                gen_statem:cast(P, other), sys:resume(P) end}).
-module(scripted_otp).
-behaviour(gen_statem).
-export([callback_mode/0, init/1, handle_event/4, terminate/3, q/2]).

callback_mode() ->
    case get(cm) of undefined -> [handle_event_function, state_enter]; CM -> CM end.

init({Test, Fun, InitRes, CM}) ->
    put(test, Test), put(f, Fun),
    case CM of undefined -> ok; _ -> put(cm, CM) end,
    InitRes.

handle_event(Type, Content, State, Data) ->
    (get(test)) ! {ev, Type, Content, State},
    (get(f))(Type, Content, State, Data).

terminate(Reason, State, _Data) ->
    (get(test)) ! {terminate, Reason, State}, ok.

collect() ->
    receive M -> [M | collect()] after 300 -> [] end.

q(Name, {InitRes, Fun, Then}) -> q(Name, {InitRes, Fun, Then, undefined});
q(Name, {InitRes, Fun, Then, CM}) ->
    process_flag(trap_exit, true),
    R = gen_statem:start_link(?MODULE, {self(), Fun, InitRes, CM}, []),
    Res = case R of {ok, P} -> catch Then(P); _ -> none end,
    timer:sleep(200),
    io:format("~n=== ~s~nstart: ~p~nthen: ~p~n", [Name, R, Res]),
    [io:format("  ~p~n", [M]) || M <- collect()],
    ok.
