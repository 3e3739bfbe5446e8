%% ETS on real BEAM: inserts and lookups per second for set and ordered_set,
%% beside a map behind a gen_server (one call per operation, N div 10 calls).
%% Keys 0..N-1 in a shuffled order, as the Python side does.
-module(bl_ets).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2]).

main(#{n := N, reps := Reps, seed := Seed}) ->
    rand:seed(exsss, {Seed, Seed, Seed}),
    Ins = shuffle(lists:seq(0, N - 1)),
    Look = shuffle(lists:seq(0, N - 1)),
    [report(Kind, [table(Kind, Ins, Look) || _ <- lists:seq(1, Reps)], N,
            "ets, " ++ atom_to_list(Kind)) || Kind <- [set, ordered_set]],
    M = N div 10,
    report("dict behind a server",
           [server(lists:sublist(Ins, M), lists:sublist(Look, M)) || _ <- lists:seq(1, Reps)],
           M, "a map in a gen_server, one call per operation").

report(Case, Results, N, How) ->
    C = case is_atom(Case) of true -> atom_to_list(Case); false -> Case end,
    {I, L} = lists:unzip(Results),
    bl_util:emit("inserts_per_s", C, bl_util:median(I), "ops/s",
                 bl_util:fmt("~w inserts; ~s; ~s", [N, How, bl_util:runs_note(I)])),
    bl_util:emit("lookups_per_s", C, bl_util:median(L), "ops/s",
                 bl_util:fmt("~w lookups; ~s; ~s", [N, How, bl_util:runs_note(L)])).

shuffle(L) -> [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

%% In a fresh process, as the Python side runs in its node's main process.
table(Kind, Ins, Look) ->
    in_process(fun() ->
                       T = ets:new(bench, [Kind]),
                       T0 = bl_util:now_us(),
                       [ets:insert(T, {K, K}) || K <- Ins],
                       T1 = bl_util:now_us(),
                       [ets:lookup(T, K) || K <- Look],
                       T2 = bl_util:now_us(),
                       {length(Ins) / ((T1 - T0) / 1.0e6), length(Look) / ((T2 - T1) / 1.0e6)}
               end).

server(Ins, Look) ->
    in_process(fun() ->
                       {ok, S} = gen_server:start(?MODULE, [], []),
                       T0 = bl_util:now_us(),
                       [ok = gen_server:call(S, {put, K, K}) || K <- Ins],
                       T1 = bl_util:now_us(),
                       [gen_server:call(S, {get, K}) || K <- Look],
                       T2 = bl_util:now_us(),
                       gen_server:stop(S),
                       {length(Ins) / ((T1 - T0) / 1.0e6), length(Look) / ((T2 - T1) / 1.0e6)}
               end).

in_process(F) ->
    Self = self(),
    spawn(fun() -> Self ! {done, F()} end),
    receive {done, R} -> R end.

init([]) -> {ok, #{}}.
handle_call({put, K, V}, _From, M) -> {reply, ok, M#{K => V}};
handle_call({get, K}, _From, M) -> {reply, maps:get(K, M, undefined), M}.
handle_cast(_, M) -> {noreply, M}.
