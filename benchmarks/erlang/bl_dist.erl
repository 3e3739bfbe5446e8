%% Cross-node ping-pong on real BEAM: round trips per second between a process
%% on this node and one on a second node (another OS process, started with
%% `peer`), over the distribution on loopback, as benchmarks/dist.py measures
%% two beamlet nodes. Both nodes run one scheduler (+S 1:1), like a beamlet node.
%% A port mapper is started for the run when none answers, and stopped after.
-module(bl_dist).
-export([main/1]).

main(#{rounds := Rounds, reps := Reps}) ->
    Started = ensure_epmd(),
    Name = list_to_atom("bl_dist_" ++ integer_to_list(erlang:unique_integer([positive]))),
    {ok, _} = net_kernel:start([Name, shortnames]),
    Ebin = filename:dirname(code:which(?MODULE)),
    {ok, Peer, Node} = peer:start_link(#{name => peer:random_name(),
                                         args => ["+S", "1:1", "-pa", Ebin]}),
    Pong = spawn(Node, bl_pingpong, ponger, []),
    _ = once(Pong, 1000),
    Rates = [once(Pong, Rounds) || _ <- lists:seq(1, Reps)],
    Pong ! stop,
    peer:stop(Peer),
    net_kernel:stop(),
    Started andalso os:cmd("epmd -kill"),
    bl_util:emit("cross_node_round_trips_per_s", "-", bl_util:median(Rates), "rt/s",
                 bl_util:fmt("two erl nodes (one OS process each, +S 1:1); ~w round trips; ~s",
                             [Rounds, bl_util:runs_note(Rates)])).

ensure_epmd() ->
    case erl_epmd:names() of
        {ok, _} -> false;
        {error, _} ->
            os:cmd("epmd -daemon"),
            wait_epmd(50),
            true
    end.

wait_epmd(0) -> erlang:error(no_epmd);
wait_epmd(N) ->
    case erl_epmd:names() of
        {ok, _} -> ok;
        {error, _} -> timer:sleep(50), wait_epmd(N - 1)
    end.

once(Pong, Rounds) ->
    T0 = bl_util:now_us(),
    bl_pingpong:ping(Pong, Rounds),
    T1 = bl_util:now_us(),
    Rounds / ((T1 - T0) / 1.0e6).
