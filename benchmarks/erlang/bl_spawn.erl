%% Spawn on real BEAM: processes that exit at once (spawns/s), then idle
%% processes parked in receive (VmRSS delta of this BEAM per process, the same
%% probe as the Python sides; erlang:memory(processes) delta as a note).
-module(bl_spawn).
-export([main/1]).

main(#{n := N, reps := Reps, idle_n := IdleN}) ->
    Idle = case IdleN of
               0 -> skip;
               _ -> idle(IdleN)   % first, while the VM is fresh
           end,
    Rates = [spawn_exit(N) || _ <- lists:seq(1, Reps)],
    bl_util:emit("spawn_exit_per_s", "-", bl_util:median(Rates), "spawns/s",
                 bl_util:fmt("n=~w; each child sends done, the spawner counts them; ~s",
                             [N, bl_util:runs_note(Rates)])),
    report_idle(Idle, IdleN).

report_idle(skip, _) -> ok;
report_idle({Rss, Procs, PerProc}, IdleN) ->
    bl_util:emit("bytes_per_idle_process", "-", Rss / IdleN, "bytes",
                 bl_util:fmt("n=~w; VmRSS delta, fresh BEAM; memory(processes) delta: ~w B/process;"
                             " process_info(memory): ~w B", [IdleN, round(Procs / IdleN), PerProc])).

spawn_exit(N) ->
    Self = self(),
    T0 = bl_util:now_us(),
    spawn_n(N, fun() -> Self ! done end),
    collect(N),
    T1 = bl_util:now_us(),
    N / ((T1 - T0) / 1.0e6).

spawn_n(0, _) -> ok;
spawn_n(K, F) -> spawn(F), spawn_n(K - 1, F).

collect(0) -> ok;
collect(K) -> receive done -> collect(K - 1) end.

idle(N) ->
    erlang:garbage_collect(),
    R0 = bl_util:rss_bytes(),
    P0 = erlang:memory(processes),
    Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
    parked(hd(Pids)),
    parked(lists:last(Pids)),
    erlang:garbage_collect(),
    R1 = bl_util:rss_bytes(),
    P1 = erlang:memory(processes),
    {memory, M} = process_info(hd(Pids), memory),
    [exit(P, kill) || P <- Pids],
    {R1 - R0, P1 - P0, M}.

parked(P) ->
    case process_info(P, status) of
        {status, waiting} -> ok;
        _ -> timer:sleep(5), parked(P)
    end.
