%% Ring on real BEAM: N processes forward a decrementing token; hops/s at N,
%% then hops/s for each ring size in the scan. Same steps as the Python sides:
%% spawn, tell each member its successor, wait for N "ready", time the trip.
-module(bl_ring).
-export([main/1]).

main(#{n := N, hops := Hops, reps := Reps, scan := Scan, scan_hops := ScanHops}) ->
    Rates = [once(N, Hops) || _ <- lists:seq(1, Reps)],
    bl_util:emit("hops_per_s", "-", bl_util:median(Rates), "hops/s",
                 bl_util:fmt("N=~w, ~w hops; ~s", [N, Hops, bl_util:runs_note(Rates)])),
    [begin
         H = max(ScanHops, K),
         bl_util:emit("hops_per_s_by_n", bl_util:fmt("N=~w", [K]), once(K, H), "hops/s",
                      bl_util:fmt("~w hops", [H]))
     end || K <- Scan],
    ok.

once(N, Hops) ->
    Main = self(),
    Pids = [spawn(fun() -> member(Main) end) || _ <- lists:seq(1, N)],
    Nexts = tl(Pids) ++ [hd(Pids)],
    lists:foreach(fun({P, Nx}) -> P ! {next, Nx} end, lists:zip(Pids, Nexts)),
    wait_ready(N),
    T0 = bl_util:now_us(),
    hd(Pids) ! Hops,
    receive ring_done -> ok end,
    T1 = bl_util:now_us(),
    [exit(P, kill) || P <- Pids],
    Hops / ((T1 - T0) / 1.0e6).

wait_ready(0) -> ok;
wait_ready(K) -> receive ready -> wait_ready(K - 1) end.

member(Main) ->
    receive {next, Next} -> Main ! ready, forward(Next, Main) end.

forward(Next, Main) ->
    receive
        0 -> Main ! ring_done;
        K -> Next ! K - 1
    end,
    forward(Next, Main).
