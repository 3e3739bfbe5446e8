%% Ping-pong on real BEAM: round trips per second between two processes.
-module(bl_pingpong).
-export([main/1, ping/2, ponger/0]).  % ping and ponger: bl_dist uses them across nodes

main(#{rounds := Rounds, reps := Reps}) ->
    Rates = [once(Rounds) || _ <- lists:seq(1, Reps)],
    bl_util:emit("round_trips_per_s", "-", bl_util:median(Rates), "rt/s",
                 bl_util:fmt("~w round trips; ~s", [Rounds, bl_util:runs_note(Rates)])).

once(Rounds) ->
    Pong = spawn(fun ponger/0),
    T0 = bl_util:now_us(),
    ping(Pong, Rounds),
    T1 = bl_util:now_us(),
    Pong ! stop,
    Rounds / ((T1 - T0) / 1.0e6).

ping(_, 0) -> ok;
ping(Pong, K) ->
    Pong ! {ping, self()},
    receive pong -> ping(Pong, K - 1) end.

ponger() ->
    receive
        {ping, From} -> From ! pong, ponger();
        stop -> ok
    end.
