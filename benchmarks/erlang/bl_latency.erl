%% Latency on real BEAM: a process waits 10 ms in a loop and records each
%% wake-up's lateness, alone and beside N spinning processes of each kind
%% (bl_hogs). Two ways to wait: a timer (receive after) and, as the twin of
%% vm.to_thread(time.sleep, 0.01), a 10 ms wait on a dirty I/O scheduler
%% (erts_debug:dirty_io/2: BEAM's own pool for blocking work).
-module(bl_latency).
-export([main/1]).

main(#{period_ms := Period, seconds := S, hogs := H, kinds := Kinds, wakers := Wakers,
       iter_ms := IterMs}) ->
    Sizes = bl_hogs:calibrate(IterMs),
    SizesNote = bl_hogs:sizes_note(Sizes),
    lists:foreach(
      fun(W) ->
              Quiet = run(W, <<"n += 1">>, 0, 0, Period, S),
              Q99 = emit_lateness(W, <<"n += 1">>, 0, Quiet, S, ""),
              lists:foreach(
                fun(Kind) ->
                        L = run(W, Kind, H, maps:get(Kind, Sizes, 0), Period, S),
                        Note = case Kind of <<"n += 1">> -> ""; _ -> "; " ++ SizesNote end,
                        P99 = emit_lateness(W, Kind, H, L, S, Note),
                        bl_util:emit("p99_added_by_hogs_ms", added_case(W, Kind, H),
                                     P99 - Q99, "ms",
                                     bl_util:fmt("p99 ~.2f ms with ~s, ~.2f ms with none",
                                                 [P99, case_of(W, Kind, H), Q99]))
                end, Kinds)
      end, Wakers).

emit_lateness(W, Kind, H, L, S, Extra) ->
    Case = case_of(W, Kind, H),
    Note = bl_util:fmt("~w samples in ~w s; ~s~s", [length(L), S, how(W), Extra]),
    bl_util:emit("lateness_ms_p50", Case, bl_util:pct(L, 50), "ms", Note, L),
    bl_util:emit("lateness_ms_p99", Case, bl_util:pct(L, 99), "ms", Note),
    bl_util:emit("lateness_ms_max", Case, lists:max(L), "ms", Note),
    bl_util:pct(L, 99).

how(<<"sleep">>) -> "receive after";
how(<<"to_thread">>) -> "erts_debug:dirty_io(wait, Period) on a dirty I/O scheduler".

case_of(<<"sleep">>, Kind, H) -> bl_hogs:case_of(Kind, H);
case_of(W, Kind, H) -> bl_util:fmt("~s, ~s", [W, bl_hogs:case_of(Kind, H)]).

added_case(<<"sleep">>, <<"n += 1">>, _) -> "-";
added_case(W, Kind, H) -> case_of(W, Kind, H).

run(W, Kind, Hogs, Size, Period, S) ->
    Self = self(),
    Deadline = bl_util:now_us() + round(S * 1.0e6),
    spawn(fun() -> Self ! {late, sleeper(W, Deadline, Period, [])} end),
    receive after 1 -> ok end,
    [spawn(fun() -> bl_hogs:spin(Deadline, Kind, Size) end) || _ <- lists:seq(1, Hogs)],
    receive {late, L} -> lists:reverse(L) end.

%% Wait Period again and again until the deadline (at least once).
sleeper(W, Deadline, Period, Acc) ->
    T0 = bl_util:now_us(),
    wait(W, Period),
    T1 = bl_util:now_us(),
    Acc1 = [(T1 - T0 - Period * 1000) / 1000 | Acc],
    case T1 < Deadline of
        true -> sleeper(W, Deadline, Period, Acc1);
        false -> Acc1
    end.

wait(<<"sleep">>, Period) -> receive after Period -> ok end;
wait(<<"to_thread">>, Period) -> erts_debug:dirty_io(wait, Period).
