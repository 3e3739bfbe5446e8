%% Helpers for the Erlang side of beamlet's benchmark suite: clock, statistics,
%% memory probes, and the output line the Python harness parses:
%%   @@ TAB metric TAB case TAB value TAB unit TAB note [TAB samples]
-module(bl_util).
-export([now_us/0, median/1, pct/2, jain/1, emit/5, emit/6, rss_bytes/0,
         runs_note/1, fmt/2]).

now_us() -> erlang:monotonic_time(microsecond).

median(L) ->
    S = lists:sort(L),
    N = length(S),
    case N rem 2 of
        1 -> lists:nth(N div 2 + 1, S);
        0 -> (lists:nth(N div 2, S) + lists:nth(N div 2 + 1, S)) / 2
    end.

%% Nearest-rank percentile, P in (0, 100].
pct(L, P) ->
    S = lists:sort(L),
    N = length(S),
    K = max(1, min(N, ceil(P / 100 * N))),
    lists:nth(K, S).

jain(Xs) ->
    Sum = lists:sum(Xs),
    Sq = lists:sum([X * X || X <- Xs]),
    case Sq of
        0 -> 0.0;
        _ -> Sum * Sum / (length(Xs) * Sq)
    end.

%% VmRSS of this BEAM (the OS process), in bytes.
rss_bytes() ->
    {ok, Bin} = file:read_file("/proc/self/status"),
    [Line] = [L || L <- binary:split(Bin, <<"\n">>, [global]),
                   binary:match(L, <<"VmRSS:">>) =/= nomatch],
    [_, Kb | _] = string:lexemes(binary_to_list(Line), " \t"),
    list_to_integer(Kb) * 1024.

runs_note(Rates) when length(Rates) =:= 1 -> "1 run";
runs_note(Rates) ->
    fmt("median of ~w; runs=~w", [length(Rates), [round(R) || R <- Rates]]).

fmt(F, A) -> lists:flatten(io_lib:format(F, A)).

emit(Metric, Case, Value, Unit, Note) -> emit(Metric, Case, Value, Unit, Note, []).

emit(Metric, Case, Value, Unit, Note, Samples) ->
    V = case Value of
            undefined -> "null";
            _ -> fmt("~p", [float(Value)])
        end,
    S = string:join([fmt("~p", [float(X)]) || X <- Samples], ","),
    io:format("@@\t~s\t~s\t~s\t~s\t~s\t~s~n",
              [Metric, Case, V, Unit, Note, S]).
