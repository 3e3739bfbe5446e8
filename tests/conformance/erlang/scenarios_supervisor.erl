%% Conformance scenarios for supervisor (strategies, ordering, intensity, restart types).
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios_supervisor.py has the same name, and the
%% golden trace is golden/supervisor/<name>.trace. The supervisor is
%% conf_sup (init/1 returns its argument); its children are conf_worker
%% processes, which announce {started, Id, Pid} and {stopped, Id, Reason}
%% to the main process, so the trace records start and stop order. Main
%% traps exits and is the supervisor's parent. See scenarios.erl for the
%% rules that keep traces deterministic; here, after each trigger, main
%% waits for a fact (the child's DOWN, a restarted child's announcement,
%% the supervisor's 'EXIT') or synchronises with a supervisor call before
%% logging what has arrived.
-module(scenarios_supervisor).

-export([
         %% start and stop order, strategies
         sup_start_and_shutdown_order/0, sup_one_for_one/0,
         sup_one_for_all/0, sup_rest_for_one/0,
         %% intensity
         sup_intensity_gives_up/0, sup_intensity_zero/0,
         sup_intensity_default_flags/0, sup_intensity_period_expires/0,
         sup_restart_failure_retried/0, sup_nested_gives_up/0,
         %% restart types
         sup_transient/0, sup_transient_one_for_all/0,
         sup_temporary/0, sup_temporary_one_for_all/0,
         %% child API
         sup_child_api/0, sup_start_child/0, sup_get_childspec/0,
         sup_pid_is_an_id/0,
         %% start failures
         sup_child_start_fails_in_init/0, sup_child_start_ignore/0,
         sup_init_results/0,
         %% simple_one_for_one, auto_shutdown
         sup_simple_one_for_one/0, sup_auto_shutdown_any_significant/0,
         sup_auto_shutdown_all_significant/0
        ]).

%% ================================================================ helpers

%% A child spec for a conf_worker announcing to main.
spec(Id) -> spec(Id, #{}).
spec(Id, Extra) ->
    maps:merge(#{id => Id, start => {conf_worker, start_link, [self(), Id]}}, Extra).

%% Start a conf_sup linked to main (trapping exits), named sup.
sup(Flags, Specs) -> sup(sup, Flags, Specs).
sup(Role, Flags, Specs) ->
    process_flag(trap_exit, true),
    {ok, Sup} = conf_sup:start_link({ok, {Flags, Specs}}),
    conf:name(Sup, Role).

%% A message as the trace shows it: a start announcement names the child's
%% pid after its id and drops the pid.
event({started, Id, Pid}) -> conf:name(Pid, Id), {started, Id};
event(M) -> M.

%% Log messages as they arrive until Done(Event) holds (that one included).
until(Done) ->
    receive
        M ->
            E = event(M),
            conf:log(E),
            case Done(E) of
                true -> ok;
                false -> until(Done)
            end
    after 2000 -> conf:log(no_more)
    end.

until_event(Event) -> until(fun(E) -> E =:= Event end).

until_exit() -> until(fun(E) -> is_tuple(E) andalso element(1, E) =:= 'EXIT' end).

%% Synchronise with the supervisor (it has handled every exit it was sent
%% before), then log every message that has arrived.
settled(Sup) ->
    _ = supervisor:count_children(Sup),
    lists:foreach(fun(M) -> conf:log(event(M)) end, conf:flush()).

%% The pid of child Id.
child(Sup, Id) ->
    {Id, P, _, _} = lists:keyfind(Id, 1, supervisor:which_children(Sup)),
    P.

%% Make child Id stop (cast crash or {stop, Reason}) and wait until it is
%% dead.
stop_child(Sup, Id, Cast) ->
    P = child(Sup, Id),
    R = monitor(process, P),
    gen_server:cast(P, Cast),
    receive {'DOWN', R, _, _, _} -> ok end.

%% which_children without the modules: {Id, Pid | undefined | restarting, Type}.
which(Sup) ->
    [{Id, Child, Type} || {Id, Child, Type, _Modules} <- supervisor:which_children(Sup)].

shutdown(Sup) ->
    exit(Sup, shutdown),
    until_exit().

rest() -> conf:log({rest, conf:flush()}).

%% ============================================ start order, strategies

%% Children start in spec order; which_children lists them newest first;
%% shutdown stops them in reverse start order, then the supervisor exits.
sup_start_and_shutdown_order() ->
    Sup = sup(#{strategy => one_for_one}, [spec(a), spec(b), spec(c)]),
    until_event({started, c}),
    conf:log({which, which(Sup)}),
    conf:log({count, supervisor:count_children(Sup)}),
    shutdown(Sup),
    rest().

sup_one_for_one() ->
    Sup = sup(#{strategy => one_for_one}, [spec(a), spec(b), spec(c)]),
    until_event({started, c}),
    stop_child(Sup, b, crash),
    settled(Sup),
    conf:log({which, which(Sup)}),
    shutdown(Sup),
    rest().

%% The others are stopped in reverse start order, then all restart in
%% start order.
sup_one_for_all() ->
    Sup = sup(#{strategy => one_for_all}, [spec(a), spec(b), spec(c)]),
    until_event({started, c}),
    stop_child(Sup, b, crash),
    settled(Sup),
    conf:log({which, which(Sup)}),
    shutdown(Sup),
    rest().

%% The children started after the dead one are stopped (reverse order) and
%% restarted with it; the last child's death touches no one else.
sup_rest_for_one() ->
    Sup = sup(#{strategy => rest_for_one, intensity => 10},
              [spec(a), spec(b), spec(c), spec(d)]),
    until_event({started, d}),
    stop_child(Sup, b, crash),
    settled(Sup),
    stop_child(Sup, d, crash),
    settled(Sup),
    conf:log({which, which(Sup)}),
    shutdown(Sup),
    rest().

%% ============================================================ intensity

%% intensity 2: the third restart within the period gives up: the other
%% children stop in reverse order and the supervisor exits with shutdown.
sup_intensity_gives_up() ->
    Sup = sup(#{strategy => one_for_one, intensity => 2, period => 5},
              [spec(a), spec(b), spec(c)]),
    until_event({started, c}),
    stop_child(Sup, b, crash),
    settled(Sup),
    stop_child(Sup, b, crash),
    settled(Sup),
    gen_server:cast(child(Sup, b), crash),
    until_exit(),
    rest().

sup_intensity_zero() ->
    Sup = sup(#{strategy => one_for_one, intensity => 0}, [spec(a), spec(b)]),
    until_event({started, b}),
    gen_server:cast(child(Sup, a), crash),
    until_exit(),
    rest().

%% #{} means one_for_one, intensity 1, period 5.
sup_intensity_default_flags() ->
    Sup = sup(#{}, [spec(a), spec(b)]),
    until_event({started, b}),
    stop_child(Sup, b, crash),
    settled(Sup),
    gen_server:cast(child(Sup, b), crash),
    until_exit(),
    rest().

%% intensity 1, period 1: a restart 2.5 s after the previous one counts
%% alone (OTP counts whole seconds, so 2.5 s is more than one period
%% whatever the phase); the next one right after it gives up.
sup_intensity_period_expires() ->
    Sup = sup(#{strategy => one_for_one, intensity => 1, period => 1}, [spec(a)]),
    until_event({started, a}),
    stop_child(Sup, a, crash),
    settled(Sup),
    receive after 2500 -> ok end,
    stop_child(Sup, a, crash),
    settled(Sup),
    gen_server:cast(child(Sup, a), crash),
    until_exit(),
    rest().

%% A restart that fails is retried, and every attempt counts against the
%% intensity (here 3).
sup_restart_failure_retried() ->
    Main = self(),
    Sup = sup(#{strategy => one_for_one, intensity => 3, period => 5},
              [#{id => a, start => {conf_worker, start_once, [Main, a]}}, spec(b)]),
    until_event({started, b}),
    gen_server:cast(child(Sup, a), crash),
    until_exit(),
    rest().

%% An inner supervisor that gives up exits with shutdown: a permanent one
%% is restarted by the outer supervisor, a transient one is not.
sup_nested_gives_up() ->
    Main = self(),
    Inner = fun(Id, ChildId, Restart) ->
                    #{id => Id, restart => Restart, type => supervisor,
                      start => {conf_sup, start_link,
                                [{ok, {#{intensity => 0},
                                       [#{id => ChildId,
                                          start => {conf_worker, start_link, [Main, ChildId]}}]}}]}}
            end,
    Sup = sup(#{strategy => one_for_one},
              [Inner(perm, perm_a, permanent), Inner(trans, trans_a, transient)]),
    until_event({started, trans_a}),
    lists:foreach(fun({Id, ChildId}) ->
                          InnerSup = child(Sup, Id),
                          R = monitor(process, InnerSup),
                          gen_server:cast(child(InnerSup, ChildId), crash),
                          receive {'DOWN', R, _, _, Reason} -> conf:log({inner_exit, Id, Reason}) end,
                          settled(Sup)
                  end, [{perm, perm_a}, {trans, trans_a}]),
    conf:log({which, [{Id, is_pid(C), T} || {Id, C, T} <- which(Sup)]}),
    shutdown(Sup),
    rest().

%% ======================================================== restart types

%% transient: not restarted after normal, shutdown or {shutdown, _};
%% restarted after anything else.
sup_transient() ->
    Sup = sup(#{strategy => one_for_one, intensity => 10}, [spec(t, #{restart => transient})]),
    until_event({started, t}),
    lists:foreach(fun(Reason) ->
                          stop_child(Sup, t, {stop, Reason}),
                          settled(Sup),
                          conf:log({which, which(Sup)}),
                          case which(Sup) of
                              [{t, undefined, _}] ->
                                  {ok, _} = supervisor:restart_child(Sup, t),
                                  until_event({started, t});
                              _ -> ok
                          end
                  end, [normal, shutdown, {shutdown, x}, myreason]),
    stop_child(Sup, t, crash),
    settled(Sup),
    shutdown(Sup),
    rest().

%% A transient child that is not restarted does not trigger the strategy.
sup_transient_one_for_all() ->
    Sup = sup(#{strategy => one_for_all},
              [spec(a), spec(t, #{restart => transient}), spec(c)]),
    until_event({started, c}),
    stop_child(Sup, t, {stop, normal}),
    settled(Sup),
    conf:log({which, which(Sup)}),
    shutdown(Sup),
    rest().

%% temporary: never restarted, and its spec is gone.
sup_temporary() ->
    Sup = sup(#{strategy => one_for_one}, [spec(a), spec(tmp, #{restart => temporary})]),
    until_event({started, tmp}),
    stop_child(Sup, tmp, crash),
    settled(Sup),
    conf:log({which, which(Sup)}),
    conf:log({count, supervisor:count_children(Sup)}),
    conf:log({restart, supervisor:restart_child(Sup, tmp)}),
    shutdown(Sup),
    rest().

%% A temporary sibling stopped by one_for_all is not restarted either.
sup_temporary_one_for_all() ->
    Sup = sup(#{strategy => one_for_all},
              [spec(a), spec(tmp, #{restart => temporary}), spec(c)]),
    until_event({started, c}),
    stop_child(Sup, a, crash),
    settled(Sup),
    conf:log({which, which(Sup)}),
    shutdown(Sup),
    rest().

%% ============================================================ child API

sup_child_api() ->
    Sup = sup(#{strategy => one_for_one}, [spec(a), spec(b)]),
    until_event({started, b}),
    conf:log({terminate, supervisor:terminate_child(Sup, a)}),
    settled(Sup),
    conf:log({which, which(Sup)}),
    conf:log({count, supervisor:count_children(Sup)}),
    Restarted = supervisor:restart_child(Sup, a),
    settled(Sup),
    conf:log({restart, Restarted}),
    conf:log({restart, supervisor:restart_child(Sup, a)}),
    conf:log({delete, supervisor:delete_child(Sup, a)}),
    conf:log({terminate, supervisor:terminate_child(Sup, a)}),
    settled(Sup),
    conf:log({terminate, supervisor:terminate_child(Sup, a)}),
    conf:log({delete, supervisor:delete_child(Sup, a)}),
    conf:log({delete, supervisor:delete_child(Sup, a)}),
    conf:log({restart, supervisor:restart_child(Sup, a)}),
    conf:log({terminate, supervisor:terminate_child(Sup, a)}),
    conf:log({which, which(Sup)}),
    conf:log({count, supervisor:count_children(Sup)}),
    shutdown(Sup),
    rest().

sup_start_child() ->
    Sup = sup(#{strategy => one_for_one}, [spec(a)]),
    until_event({started, a}),
    Started = supervisor:start_child(Sup, spec(b)),
    settled(Sup),
    conf:log({start_child, Started}),
    conf:log({start_child, supervisor:start_child(Sup, spec(b))}),
    ok = supervisor:terminate_child(Sup, b),
    settled(Sup),
    conf:log({start_child, supervisor:start_child(Sup, spec(b))}),
    %% {error, {Reason, Child}}: OTP 25 returns its internal child record,
    %% logged as `child`.
    {error, {Reason, _Child}} =
        supervisor:start_child(Sup, #{id => f, start => {conf_worker, start_fail, [self(), f]}}),
    settled(Sup),
    conf:log({start_child, {error, {Reason, child}}}),
    conf:log({which, which(Sup)}),
    shutdown(Sup),
    rest().

sup_get_childspec() ->
    Sup = sup(#{strategy => one_for_one}, [spec(a), spec(s, #{type => supervisor})]),
    until_event({started, s}),
    lists:foreach(fun(Id) ->
                          {ok, Spec} = supervisor:get_childspec(Sup, Id),
                          conf:log({Id, maps:with([id, restart, shutdown, type], Spec)})
                  end, [a, s]),
    conf:log({get_childspec, supervisor:get_childspec(Sup, nope)}),
    shutdown(Sup),
    rest().

%% Outside simple_one_for_one a pid is a child id like any other: no child
%% has it, so every child request answers not_found and the child (even a
%% temporary one) is left running with its spec.
sup_pid_is_an_id() ->
    Sup = sup(#{strategy => one_for_one}, [spec(a), spec(t, #{restart => temporary})]),
    until_event({started, t}),
    A = child(Sup, a),
    T = child(Sup, t),
    conf:log({terminate, supervisor:terminate_child(Sup, A)}),
    conf:log({terminate, supervisor:terminate_child(Sup, T)}),
    conf:log({get_childspec, supervisor:get_childspec(Sup, T)}),
    conf:log({restart, supervisor:restart_child(Sup, A)}),
    conf:log({delete, supervisor:delete_child(Sup, T)}),
    settled(Sup),
    conf:log({which, which(Sup)}),
    conf:log({alive, is_process_alive(A), is_process_alive(T)}),
    conf:log({by_id, supervisor:get_childspec(Sup, t) =/= {error, not_found}}),
    shutdown(Sup),
    rest().

%% ======================================================= start failures

%% The second child fails to start: the first is stopped and start_link
%% returns the failure (the third is never started). OTP 25 also leaves the
%% supervisor's 'EXIT' in main's mailbox; it is dropped here (see
%% gs_init_failed_start_leaves_exit).
sup_child_start_fails_in_init() ->
    process_flag(trap_exit, true),
    Main = self(),
    Res = conf_sup:start_link({ok, {#{strategy => one_for_one},
                                    [spec(a),
                                     #{id => b, start => {conf_worker, start_fail, [Main, b]}},
                                     spec(c)]}}),
    conf:log({start, Res}),
    conf:settle(),
    receive {'EXIT', _, {shutdown, _}} -> ok after 0 -> ok end,
    lists:foreach(fun(M) -> conf:log(event(M)) end, conf:flush()).

%% A child whose start returns ignore keeps its spec, with no pid.
sup_child_start_ignore() ->
    Main = self(),
    Sup = sup(#{strategy => one_for_one},
              [spec(a), #{id => b, start => {conf_worker, start_ignore, [Main, b]}}]),
    settled(Sup),
    conf:log({which, which(Sup)}),
    conf:log({count, supervisor:count_children(Sup)}),
    conf:log({restart, supervisor:restart_child(Sup, b)}),
    settled(Sup),
    shutdown(Sup),
    rest().

%% init returning ignore, a bad value, or invalid flags or specs.
sup_init_results() ->
    process_flag(trap_exit, true),
    lists:foreach(fun(Init) ->
                          conf:log({start, conf_sup:start_link(Init)}),
                          conf:settle(),
                          receive {'EXIT', _, _} -> ok after 0 -> ok end
                  end,
                  [ignore,
                   {ok, {#{strategy => bogus}, []}},
                   {ok, {#{intensity => -1}, []}},
                   {ok, {#{}, [#{id => x}]}},
                   {ok, {#{}, [spec(x), spec(x)]}}]),
    rest().

%% ===================================== simple_one_for_one, auto_shutdown

sup_simple_one_for_one() ->
    Main = self(),
    Sup = sup(#{strategy => simple_one_for_one},
              [#{id => tmpl, start => {conf_worker, start_link, [Main]}}]),
    conf:log({which, which(Sup)}),
    {ok, X} = supervisor:start_child(Sup, [x]),
    until_event({started, x}),
    conf:log({start_child, {ok, X}}),
    {ok, Y} = supervisor:start_child(Sup, [y]),
    until_event({started, y}),
    conf:log({start_child, {ok, Y}}),
    conf:log({which, which(Sup)}),
    conf:log({count, supervisor:count_children(Sup)}),
    R = monitor(process, X),
    gen_server:cast(X, crash),
    receive {'DOWN', R, _, _, _} -> ok end,
    settled(Sup),
    conf:log({terminate, supervisor:terminate_child(Sup, Y)}),
    settled(Sup),
    %% OTP 25: a pid that is dead gives ok, a live non-child not_found.
    conf:log({terminate, supervisor:terminate_child(Sup, Y)}),
    conf:log({terminate, supervisor:terminate_child(Sup, self())}),
    conf:log({terminate, supervisor:terminate_child(Sup, tmpl)}),
    conf:log({restart, supervisor:restart_child(Sup, tmpl)}),
    conf:log({delete, supervisor:delete_child(Sup, tmpl)}),
    conf:log({count, supervisor:count_children(Sup)}),
    shutdown(Sup),
    rest().

%% any_significant: the supervisor shuts down when a significant child
%% exits and is not restarted.
sup_auto_shutdown_any_significant() ->
    Sup = sup(#{strategy => one_for_one, auto_shutdown => any_significant},
              [spec(a), spec(t, #{restart => transient, significant => true})]),
    until_event({started, t}),
    gen_server:cast(child(Sup, t), {stop, normal}),
    until_exit(),
    rest().

%% all_significant: only when the last significant child has gone.
sup_auto_shutdown_all_significant() ->
    Sup = sup(#{strategy => one_for_one, auto_shutdown => all_significant},
              [spec(a), spec(t1, #{restart => temporary, significant => true}),
               spec(t2, #{restart => temporary, significant => true})]),
    until_event({started, t2}),
    stop_child(Sup, t1, crash),
    settled(Sup),
    conf:log({which, which(Sup)}),
    gen_server:cast(child(Sup, t2), {stop, normal}),
    until_exit(),
    rest().
