%% Conformance scenarios for pg (OTP 23+, monitors from OTP 25.1): joining
%% and leaving, members leaving when they die, scopes, notifications.
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios_pg.py has the same name, and the golden trace
%% is golden/pg/<name>.trace. Group lists from which_groups are logged
%% sorted (their order is the table's hash order here).
-module(scenarios_pg).

-export([pg_join_leave/0, pg_double_join_death/0, pg_monitor_scope/0,
         pg_leave_list/0, pg_scopes/0, pg_dead_pid_joins/0]).

idle(Role) ->
    P = spawn(fun() -> receive stop -> ok end end),
    conf:name(P, Role).

kill(P) ->
    R = monitor(process, P),
    exit(P, kill),
    receive {'DOWN', R, _, _, _} -> ok end.

note(Ref) ->
    receive {Ref, _, _, _} = M -> M after 1000 -> no_note end.

pg_join_leave() ->
    {ok, _} = pg:start_link(),
    A = idle(a),
    B = idle(b),
    conf:log({join, pg:join(crew, A)}),
    pg:join(crew, [B, A]),
    pg:join({team, 1}, B),
    conf:log({members, pg:get_members(crew), pg:get_local_members(crew)}),
    conf:log({groups, conf:sorted(pg:which_groups())}),
    conf:log({leave, pg:leave(crew, A), pg:get_members(crew)}),
    conf:log({not_joined, pg:leave(nobody, A)}),
    conf:log({leave_list, pg:leave(crew, [A, B]), pg:get_members(crew)}),
    conf:log({groups, pg:which_groups(), pg:which_local_groups()}),
    conf:log({unknown_group, pg:get_members(nobody)}).

pg_double_join_death() ->
    {ok, _} = pg:start_link(),
    A = idle(a),
    {Ref, Members} = pg:monitor(g),
    conf:log({monitor, Ref, Members}),
    pg:join(g, A),
    pg:join(g, A),
    pg:join(other, A),
    conf:log({members, pg:get_members(g), pg:get_members(other)}),
    kill(A),
    [conf:log(note(Ref)) || _ <- lists:seq(1, 4)],
    conf:log({after_death, pg:get_members(g), pg:which_groups()}).

pg_monitor_scope() ->
    {ok, _} = pg:start_link(sc),
    A = idle(a),
    B = idle(b),
    pg:join(sc, g1, A),
    {Ref, Groups} = pg:monitor_scope(sc),
    conf:log({monitor_scope, Ref, Groups}),
    pg:join(sc, g2, [A, B]),
    conf:log(note(Ref)),
    pg:leave(sc, g1, A),
    conf:log(note(Ref)),
    kill(B),
    conf:log(note(Ref)),
    conf:log({demonitor, pg:demonitor(sc, Ref)}),
    pg:join(sc, g3, A),
    conf:log({after_demonitor, conf:flush()}),
    conf:log({demonitor_again, pg:demonitor(sc, Ref)}).

pg_leave_list() ->
    {ok, _} = pg:start_link(),
    A = idle(a),
    B = idle(b),
    {Ref, _} = pg:monitor(g),
    pg:join(g, A),
    conf:log(note(Ref)),
    conf:log({none_joined, pg:leave(g, [B])}),
    conf:log({some_joined, pg:leave(g, [A, B])}),
    conf:log(note(Ref)),
    conf:log({members, pg:get_members(g)}).

pg_scopes() ->
    {ok, Pg} = pg:start_link(),
    conf:name(Pg, scope),
    {ok, _} = pg:start_link(other),
    A = idle(a),
    pg:join(g, A),
    conf:log({default, pg:get_members(g), other, pg:get_members(other, g)}),
    conf:log({groups, pg:which_groups(), pg:which_groups(other)}),
    conf:log({again, pg:start_link()}),
    conf:log({not_started, pg:get_members(nowhere, g), pg:get_local_members(nowhere, g)}),
    conf:log({not_started_groups, conf:attempt(fun() -> pg:which_groups(nowhere) end),
              conf:attempt(fun() -> pg:which_local_groups(nowhere) end)}).

pg_dead_pid_joins() ->
    {ok, _} = pg:start_link(),
    Dead = spawn(fun() -> ok end),
    conf:name(Dead, dead),
    R = monitor(process, Dead),
    receive {'DOWN', R, _, _, _} -> ok end,
    {Ref, _} = pg:monitor(g),
    conf:log({join, pg:join(g, Dead)}),
    conf:log(note(Ref)),
    conf:log(note(Ref)),
    conf:log({members, pg:get_members(g)}).
