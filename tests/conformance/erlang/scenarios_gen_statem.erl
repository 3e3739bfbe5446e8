%% Conformance scenarios for gen_statem (postpone, events, timeouts, enter calls).
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios_gen_statem.py has the same name, and the
%% golden trace is golden/gen_statem/<name>.trace. The machine under test
%% is conf_sm (handle_event_function; conf_sm_enter adds state enter
%% calls): it reports every event to main as {State, Type, Content} before
%% the scenario's handler fun decides; conf_door is a state_functions
%% machine. Times use wide margins (a 300 ms timeout against events 100 or
%% 200 ms apart). See scenarios.erl for the other rules.
-module(scenarios_gen_statem).

-export([
         %% postpone and inserted events
         sm_postpone_retried_on_state_change/0,
         sm_next_event_order/0, sm_next_event_before_postponed/0,
         %% timeouts
         sm_event_timeout/0, sm_event_timeout_cancelled_by_inserted_events/0,
         sm_event_timeout_zero/0,
         sm_state_timeout_survives_events/0,
         sm_state_timeout_cancelled_by_state_change/0,
         sm_state_timeout_restart_and_cancel/0,
         sm_generic_timeouts/0,
         %% enter calls, calls, results
         sm_enter_calls/0, sm_call_replies/0, sm_call_failures/0,
         sm_init_results/0, sm_terminate/0,
         sm_door_state_functions/0
        ]).

%% ================================================================ helpers

%% Start a Mod (conf_sm or conf_sm_enter) machine, not linked, in State with
%% the handler H and the init actions Actions; named sm.
sm(Mod, State, H) -> sm(Mod, State, H, []).
sm(Mod, State, H, Actions) ->
    Main = self(),
    {ok, P} = gen_statem:start(Mod, fun() -> {ok, State, {Main, H}, Actions} end, []),
    conf:name(P, sm).

%% Log every message as it arrives until Done(Message) holds (included).
until(Done) ->
    receive
        M ->
            conf:log(M),
            case Done(M) of
                true -> ok;
                false -> until(Done)
            end
    after 2000 -> conf:log(no_more)
    end.

until_event(E) -> until(fun(M) -> M =:= E end).

%% Stop the machine and log up to its terminate report, then what is left.
finish(P) ->
    gen_statem:stop(P),
    until(fun(M) -> is_tuple(M) andalso element(1, M) =:= terminate end),
    conf:log({rest, conf:flush()}).

sleep(Ms) -> receive after Ms -> ok end.

%% The handler of most scenarios ends with this: ignore the event.
ignore(_Type, _Content, _State, _Data) -> keep_state_and_data.

%% =============================================== postpone, next_event

%% A postponed event is retried only when the state changes: not after
%% keep_state, nor next_state to the same state, nor repeat_state.
sm_postpone_retried_on_state_change() ->
    H = fun(cast, x, s1, _) -> {keep_state_and_data, [postpone]};
           (cast, same, s1, D) -> {next_state, s1, D};
           (cast, rep, s1, _) -> repeat_state_and_data;
           (cast, go, s1, D) -> {next_state, s2, D};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    [gen_statem:cast(P, M) || M <- [x, y, same, rep, go]],
    until_event({s2, cast, x}),
    finish(P).

%% next_event actions are handled before queued messages, in action order;
%% one inserted while handling an inserted event goes first.
sm_next_event_order() ->
    H = fun(cast, a, _, _) ->
                {keep_state_and_data, [{next_event, internal, i1}, {next_event, internal, i2}]};
           (internal, i1, _, _) ->
                {keep_state_and_data, [{next_event, cast, i3}]};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    gen_statem:cast(P, a),
    gen_statem:cast(P, b),
    until_event({s1, cast, b}),
    finish(P).

%% On a state change, next_event events come before the retried postponed
%% ones, which come before later messages.
sm_next_event_before_postponed() ->
    H = fun(cast, go, s1, D) -> {next_state, s2, D, [{next_event, internal, n}]};
           (cast, _, s1, _) -> {keep_state_and_data, [postpone]};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    [gen_statem:cast(P, M) || M <- [x1, x2, go, z]],
    until_event({s2, cast, z}),
    finish(P).

%% ============================================================= timeouts

%% An event timeout fires when nothing happens, and any event (here a
%% plain message) cancels it.
sm_event_timeout() ->
    H = fun(cast, set, _, _) -> {keep_state_and_data, [{timeout, 300, t2}]};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H, [{timeout, 300, t1}]),
    until_event({s1, timeout, t1}),
    gen_statem:cast(P, set),
    sleep(200),
    P ! poke,
    sleep(400),
    gen_statem:cast(P, check),
    until_event({s1, cast, check}),
    finish(P).

%% A retried postponed event and an inserted event cancel an event timeout
%% set by the same transition.
sm_event_timeout_cancelled_by_inserted_events() ->
    H = fun(cast, x, s1, _) -> {keep_state_and_data, [postpone]};
           (cast, go, s1, D) -> {next_state, s2, D, [{timeout, 300, t1}]};
           (cast, ins, s2, _) -> {keep_state_and_data, [{timeout, 300, t2}, {next_event, internal, n}]};
           (cast, plain, s2, _) -> {keep_state_and_data, [{timeout, 300, t3}]};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    gen_statem:cast(P, x),
    gen_statem:cast(P, go),
    until_event({s2, cast, x}),
    sleep(400),
    gen_statem:cast(P, ins),
    until_event({s2, internal, n}),
    sleep(400),
    gen_statem:cast(P, plain),
    until_event({s2, timeout, t3}),
    finish(P).

%% A zero event timeout is queued behind the events already queued but
%% ahead of messages not yet received: it fires even though a message is
%% waiting in the mailbox (unlike gen_server's 0 timeout, see
%% gs_timeout_zero_queued_message), and the message is handled after it.
sm_event_timeout_zero() ->
    H = fun(cast, hold, _, _) ->
                receive release -> ok end,
                {keep_state_and_data, [{timeout, 0, z}]};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    gen_statem:cast(P, hold),
    gen_statem:cast(P, a),
    P ! release,
    until_event({s1, cast, a}),
    finish(P).

%% Events in the same state do not cancel a state timeout.
sm_state_timeout_survives_events() ->
    P = sm(conf_sm, s1, fun ignore/4, [{state_timeout, 300, st}]),
    sleep(200),
    gen_statem:cast(P, poke),
    until_event({s1, state_timeout, st}),
    finish(P).

%% A state change cancels the state timeout; one set in the transition that
%% changes state belongs to the new state.
sm_state_timeout_cancelled_by_state_change() ->
    H = fun(cast, set, s1, _) -> {keep_state_and_data, [{state_timeout, 300, st1}]};
           (cast, go, s1, D) -> {next_state, s2, D};
           (cast, go, s2, D) -> {next_state, s3, D, [{state_timeout, 300, st3}]};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    gen_statem:cast(P, set),
    sleep(100),
    gen_statem:cast(P, go),
    sleep(400),
    gen_statem:cast(P, go),
    until_event({s3, state_timeout, st3}),
    finish(P).

%% Setting the state timeout again restarts it with the new content;
%% infinity and cancel both stop it.
sm_state_timeout_restart_and_cancel() ->
    H = fun(cast, {set, C}, _, _) -> {keep_state_and_data, [{state_timeout, 300, C}]};
           (cast, infinity, _, _) -> {keep_state_and_data, [{state_timeout, infinity, never}]};
           (cast, cancel, _, _) -> {keep_state_and_data, [{state_timeout, cancel}]};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    gen_statem:cast(P, {set, a}),
    sleep(200),
    gen_statem:cast(P, {set, b}),
    until(fun(M) -> element(2, M) =:= state_timeout end),
    gen_statem:cast(P, {set, c}),
    sleep(100),
    gen_statem:cast(P, infinity),
    sleep(400),
    gen_statem:cast(P, {set, d}),
    sleep(100),
    gen_statem:cast(P, cancel),
    sleep(400),
    gen_statem:cast(P, check),
    until_event({s1, cast, check}),
    finish(P).

%% Generic timeouts survive state changes, are replaced by name, run
%% independently of each other, and can be cancelled.
sm_generic_timeouts() ->
    H = fun(cast, {set, Name, C}, _, _) -> {keep_state_and_data, [{{timeout, Name}, 300, C}]};
           (cast, {cancel, Name}, _, _) -> {keep_state_and_data, [{{timeout, Name}, cancel}]};
           (cast, go, s1, D) -> {next_state, s2, D};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    gen_statem:cast(P, {set, g, g1}),
    sleep(100),
    gen_statem:cast(P, go),
    until(fun(M) -> element(2, M) =:= {timeout, g} end),
    gen_statem:cast(P, {set, g, a}),
    gen_statem:cast(P, {set, h, h1}),
    sleep(200),
    gen_statem:cast(P, {set, g, b}),
    until(fun(M) -> element(3, M) =:= b end),
    gen_statem:cast(P, {set, g, c}),
    sleep(100),
    gen_statem:cast(P, {cancel, g}),
    sleep(400),
    gen_statem:cast(P, check),
    until_event({s2, cast, check}),
    finish(P).

%% ======================================= enter calls, calls, results

%% The initial state gets an enter call with itself as the old state; so
%% does every state change and repeat_state, but not keep_state or a
%% next_state to the same state.
sm_enter_calls() ->
    H = fun(enter, _, _, _) -> keep_state_and_data;
           (cast, go, s1, D) -> {next_state, s2, D};
           (cast, same, S, D) -> {next_state, S, D};
           (cast, rep, _, _) -> repeat_state_and_data;
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm_enter, s1, H),
    [gen_statem:cast(P, M) || M <- [go, same, keep, rep, check]],
    until_event({s2, cast, check}),
    finish(P).

sm_call_replies() ->
    H = fun({call, From}, ping, _, _) -> {keep_state_and_data, [{reply, From, pong}]};
           ({call, From}, go, s1, D) -> {next_state, s2, D, {reply, From, went}};
           ({call, From}, state, S, _) -> {keep_state_and_data, [{reply, From, S}]};
           ({call, From}, later, _, _) ->
                put(pending, From),
                {keep_state_and_data, [{next_event, internal, reply_now}]};
           (internal, reply_now, _, _) ->
                ok = gen_statem:reply(get(pending), later),
                keep_state_and_data;
           ({call, From}, stop, _, D) -> {stop_and_reply, normal, [{reply, From, stopping}], D};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    lists:foreach(fun(Req) -> conf:log({call, Req, gen_statem:call(P, Req)}) end,
                  [ping, go, state, later, stop]),
    until(fun(M) -> element(1, M) =:= terminate end),
    conf:log({rest, conf:flush()}).

sm_call_failures() ->
    H = fun({call, _}, silent, _, _) -> keep_state_and_data;
           ({call, _}, die, _, D) -> {stop, myreason, D};
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    P = sm(conf_sm, s1, H),
    conf:log(conf:attempt(fun() -> gen_statem:call(P, silent, 100) end)),
    conf:log(conf:attempt(fun() -> gen_statem:call(P, die) end)),
    until(fun(M) -> element(1, M) =:= terminate end),
    conf:settle(),
    conf:log(conf:attempt(fun() -> gen_statem:call(P, ping) end)),
    conf:log(conf:attempt(fun() -> gen_statem:call(nobody, ping) end)),
    conf:log({rest, conf:flush()}).

%% Start results for each init return (gen_statem:start, no link).
sm_init_results() ->
    Main = self(),
    lists:foreach(fun(Init) ->
                          conf:log({start, gen_statem:start(conf_sm, Init, [])})
                  end,
                  [fun() -> ignore end,
                   fun() -> {stop, myreason} end,
                   fun() -> error(boom) end,
                   fun() -> wrong end]),
    {ok, P} = gen_statem:start(conf_sm, fun() -> {ok, s1, {Main, fun ignore/4}} end, []),
    conf:name(P, sm),
    conf:log({alive, is_process_alive(P)}),
    finish(P).

%% terminate runs with the stop reason, a crash, or a bad return.
sm_terminate() ->
    H = fun(cast, stop, _, D) -> {stop, {shutdown, x}, D};
           (cast, crash, _, _) -> error(boom);
           (cast, bad, _, _) -> wrong;
           (T, C, S, D) -> ignore(T, C, S, D)
        end,
    lists:foreach(fun(Cast) ->
                          P = sm(conf_sm, s1, H),
                          monitor(process, P),
                          gen_statem:cast(P, Cast),
                          until(fun(M) -> element(1, M) =:= 'DOWN' end)
                  end, [stop, crash, bad]),
    conf:log({rest, conf:flush()}).

%% state_functions: a door lock. A button pressed while the door is open
%% is postponed until it relocks (state timeout), then answered in locked.
sm_door_state_functions() ->
    Main = self(),
    {ok, P} = gen_statem:start(conf_door, {Main, [1, 2, 3]}, []),
    conf:name(P, door),
    until_event({enter, locked, locked}),
    Call = fun(Req) -> conf:log({call, Req, gen_statem:call(P, Req)}) end,
    Call(status),
    Call({button, 1}),
    Call({button, 9}),
    Call({button, 1}),
    Call({button, 1}),
    Call({button, 2}),
    Call({button, 3}),
    until_event({enter, open, locked}),
    Call(status),
    Presser = spawn(fun() -> Main ! {presser, gen_statem:call(P, {button, 7})} end),
    conf:name(Presser, presser),
    until(fun(M) -> element(1, M) =:= presser end),
    Call(status),
    gen_statem:stop(P),
    conf:log({rest, conf:flush()}).
