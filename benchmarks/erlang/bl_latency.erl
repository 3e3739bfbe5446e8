%% Latency on real BEAM: a process sleeps 10 ms in a loop (receive after) and
%% records each wake-up's lateness, alone and beside N spinning processes.
-module(bl_latency).
-export([main/1]).

main(#{period_ms := Period, seconds := S, hog_counts := HogCounts}) ->
    Runs = [{H, run(H, Period, S)} || H <- HogCounts],
    P99 = [begin
               Case = bl_util:fmt("~w hogs", [H]),
               Note = bl_util:fmt("~w samples in ~w s", [length(L), S]),
               bl_util:emit("lateness_ms_p50", Case, bl_util:pct(L, 50), "ms", Note, L),
               bl_util:emit("lateness_ms_p99", Case, bl_util:pct(L, 99), "ms", Note),
               bl_util:emit("lateness_ms_max", Case, lists:max(L), "ms", Note),
               {H, bl_util:pct(L, 99)}
           end || {H, L} <- Runs],
    {Lo, PLo} = hd(P99),
    {Hi, PHi} = lists:last(P99),
    bl_util:emit("p99_added_by_hogs_ms", "-", PHi - PLo, "ms",
                 bl_util:fmt("p99 with ~w hogs minus p99 with ~w", [Hi, Lo])).

run(Hogs, Period, S) ->
    Self = self(),
    Deadline = bl_util:now_us() + round(S * 1.0e6),
    spawn(fun() -> Self ! {late, sleeper(Deadline, Period, [])} end),
    receive after 1 -> ok end,
    [spawn(fun() -> hog(Deadline) end) || _ <- lists:seq(1, Hogs)],
    receive {late, L} -> lists:reverse(L) end.

sleeper(Deadline, Period, Acc) ->
    T0 = bl_util:now_us(),
    case T0 < Deadline of
        false -> Acc;
        true ->
            receive after Period -> ok end,
            T1 = bl_util:now_us(),
            sleeper(Deadline, Period, [(T1 - T0 - Period * 1000) / 1000 | Acc])
    end.

hog(Deadline) ->
    case bl_util:now_us() < Deadline of
        true -> hog(Deadline);
        false -> ok
    end.
