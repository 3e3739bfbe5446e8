%% Selective receive on real BEAM: one receive that finds its message behind
%% N unmatched ones, for each N of ScanSizes (the per-message cost at 100,000
%% over at 1,000: scan_cost_growth), and request/reply round trips (make_ref
%% before the send, so the compiler's receive marker lets the reply skip old
%% messages) with an empty mailbox and with Q messages queued.
-module(bl_selective).
-export([main/1]).

main(#{queued := Q, scan_sizes := ScanSizes, matches := M, scan_budget_s := SB,
       rounds := R, budget_s := B}) ->
    Srv = spawn(fun server/0),
    {RateE, DoneE} = bounded(Srv, R, B),
    Sizes = lists:usort([Q | ScanSizes]),
    {_, RtQ, Scans} =
        lists:foldl(
          fun(N, {Queued, Rt, Acc}) ->
                  fill(Queued + 1, N),
                  Rt1 = case N of Q -> bounded(Srv, R, B); _ -> Rt end,
                  {N, Rt1, [{N, scans(M, SB)} | Acc]}
          end, {0, undefined, []}, Sizes),
    {RateQ, DoneQ} = RtQ,
    lists:foreach(
      fun(N) ->
              Us = proplists:get_value(N, Scans),
              Med = bl_util:median(Us),
              bl_util:emit("match_after_queue_us", queued(N), Med, "us",
                           bl_util:fmt("median of ~w receives; ~.3g ns per queued message",
                                       [length(Us), Med * 1000 / N]))
      end, Sizes),
    Small = lists:min(ScanSizes),
    Big = case lists:member(100000, ScanSizes) andalso Small < 100000 of
              true -> 100000;
              false -> lists:max(ScanSizes)
          end,
    PerSmall = bl_util:median(proplists:get_value(Small, Scans)) / Small,
    PerBig = bl_util:median(proplists:get_value(Big, Scans)) / Big,
    bl_util:emit("scan_cost_growth", bl_util:fmt("~s vs ~s", [thousands(Big), queued(Small)]),
                 PerBig / PerSmall, "x",
                 bl_util:fmt("~.3g ns per message at ~s queued, ~.3g ns at ~s",
                             [PerBig * 1000, thousands(Big), PerSmall * 1000, thousands(Small)])),
    bl_util:emit("round_trips_per_s", "empty mailbox", RateE, "rt/s",
                 bl_util:fmt("~w round trips", [DoneE])),
    bl_util:emit("round_trips_per_s", queued(Q), RateQ, "rt/s",
                 bl_util:fmt("~w round trips (stops after ~w s)", [DoneQ, B])),
    Srv ! stop.

fill(I, N) when I =< N -> self() ! {unmatched, I}, fill(I + 1, N);
fill(_, _) -> ok.

%% Selective receives behind the queue: at least 3, up to M, within SB seconds.
scans(M, SB) -> scans(M, bl_util:now_us() + round(SB * 1.0e6), 0, []).

scans(M, End, K, Acc) when K < M ->
    case K < 3 orelse bl_util:now_us() < End of
        true ->
            self() ! {match, K},
            T0 = erlang:monotonic_time(nanosecond),
            receive {match, K2} when is_integer(K2) -> ok end,
            Us = (erlang:monotonic_time(nanosecond) - T0) / 1000,
            scans(M, End, K + 1, [Us | Acc]);
        false -> Acc
    end;
scans(_, _, _, Acc) -> Acc.

server() ->
    receive
        {req, From, Ref} -> From ! {reply, Ref}, server();
        stop -> ok
    end.

call(Srv) ->
    Ref = make_ref(),
    Srv ! {req, self(), Ref},
    receive {reply, Ref} -> ok end.

bounded(Srv, R, B) ->
    T0 = bl_util:now_us(),
    End = T0 + round(B * 1.0e6),
    Done = loop(Srv, R, End, 0),
    {Done / ((bl_util:now_us() - T0) / 1.0e6), Done}.

loop(Srv, R, End, Done) when Done < R ->
    [call(Srv) || _ <- lists:seq(1, 16)],
    case bl_util:now_us() > End of
        true -> Done + 16;
        false -> loop(Srv, R, End, Done + 16)
    end;
loop(_, _, _, Done) -> Done.

queued(N) -> thousands(N) ++ " queued".

thousands(N) when N >= 1000 -> thousands(N div 1000) ++ bl_util:fmt(",~3..0w", [N rem 1000]);
thousands(N) -> integer_to_list(N).
