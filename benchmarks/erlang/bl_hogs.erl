%% The hogs of fairness and latency on real BEAM (the twin of
%% benchmarks/hogs.py): processes that loop until a deadline, with three kinds
%% of iteration:
%%   <<"n += 1">>       a clock check and a count, the quickest iteration;
%%   <<"C call">>       lists:sum(lists:seq(1, Size)), the literal twin of
%%                      Python's sum(range(Size)); on BEAM it is Erlang code;
%%   <<"Python loop">>  a tail-recursive loop of Size steps.
%% Both slow kinds are calibrated here to about IterMs milliseconds each. BEAM
%% preempts inside them (every function call costs a reduction), where beamlet
%% can preempt a Python loop but not a C call.
-module(bl_hogs).
-export([spin/3, calibrate/1, case_of/1, case_of/2, sizes_note/1]).

spin(Deadline, <<"n += 1">>, _) -> count(Deadline, 0);
spin(Deadline, Kind, Size) -> slow(Deadline, Kind, Size, 0).

count(Deadline, N) ->
    case bl_util:now_us() < Deadline of
        true -> count(Deadline, N + 1);
        false -> N
    end.

slow(Deadline, Kind, Size, N) ->
    case bl_util:now_us() < Deadline of
        true -> body(Kind, Size), slow(Deadline, Kind, Size, N + 1);
        false -> N
    end.

body(<<"C call">>, Size) -> lists:sum(lists:seq(1, Size));
body(<<"Python loop">>, Size) -> loop(Size, 0).

loop(0, Acc) -> Acc;
loop(K, Acc) -> loop(K - 1, Acc + K).

%% #{Kind => Size} with one iteration of Kind lasting about IterMs here:
%% scaled from a first guess three times, each from a median of 15 timings.
calibrate(IterMs) ->
    maps:from_list([{K, calibrate(K, IterMs)} || K <- [<<"C call">>, <<"Python loop">>]]).

calibrate(Kind, IterMs) ->
    lists:foldl(fun(_, Size) -> max(1, round(Size * IterMs / iteration_ms(Kind, Size))) end,
                10000, [1, 2, 3]).

iteration_ms(Kind, Size) ->
    bl_util:median([begin
                        T0 = erlang:monotonic_time(nanosecond),
                        body(Kind, Size),
                        max(1, erlang:monotonic_time(nanosecond) - T0) / 1.0e6
                    end || _ <- lists:seq(1, 15)]).

%% The case of a row, as benchmarks/hogs.py names it.
case_of(<<"n += 1">>) -> "-";
case_of(Kind) -> label(Kind).

case_of(_, 0) -> "0 hogs";
case_of(Kind, N) -> bl_util:fmt("~w ~s", [N, label(Kind)]).

label(<<"n += 1">>) -> "hogs";
label(<<"C call">>) -> "C-call hogs";
label(<<"Python loop">>) -> "Python-loop hogs".

sizes_note(Sizes) ->
    "one iteration (" ++
        string:join([bl_util:fmt("~s: ~w -> ~.2f ms", [K, S, iteration_ms(K, S)])
                     || {K, S} <- lists:sort(maps:to_list(Sizes))], ", ") ++
        ", median of 15, Erlang code: BEAM preempts inside it)".
