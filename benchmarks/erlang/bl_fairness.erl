%% Fairness on real BEAM: 4 processes count until a shared deadline, checking
%% the clock at every iteration like the Python hogs; shares and Jain's index,
%% for each kind of hog (bl_hogs: n += 1, ~1 ms of lists:sum, ~1 ms of a loop).
-module(bl_fairness).
-export([main/1]).

main(#{hogs := H, seconds := S, kinds := Kinds, iter_ms := IterMs}) ->
    Sizes = bl_hogs:calibrate(IterMs),
    [run(H, S, Kind, maps:get(Kind, Sizes, 0), Sizes) || Kind <- Kinds],
    ok.

run(H, S, Kind, Size, Sizes) ->
    Self = self(),
    Deadline = bl_util:now_us() + round(S * 1.0e6),
    Pids = [spawn(fun() -> Self ! {count, self(), bl_hogs:spin(Deadline, Kind, Size)} end)
            || _ <- lists:seq(1, H)],
    Counts = [receive {count, P, C} -> C end || P <- Pids],
    Sum = lists:sum(Counts),
    Case = bl_hogs:case_of(Kind),
    Shares = [C / max(1, Sum) || C <- Counts],
    Extra = case Case of
                "-" -> "";
                _ -> "; shares=" ++ string:join([bl_util:fmt("~.3f", [X]) || X <- Shares], "/")
                         ++ "; " ++ bl_hogs:sizes_note(Sizes)
            end,
    bl_util:emit("jain_index", Case, bl_util:jain(Counts), "index",
                 bl_util:fmt("~w hogs, ~w s; counts=~s; spawn/1, one scheduler~s",
                             [H, S, string:join([integer_to_list(C) || C <- Counts], "/"),
                              Extra])),
    case Case of
        "-" ->
            lists:foreach(fun({I, X}) ->
                                  bl_util:emit("share", bl_util:fmt("hog ~w", [I]), X,
                                               "fraction", "")
                          end, lists:zip(lists:seq(1, H), Shares));
        _ -> ok
    end,
    bl_util:emit("loop_iters_per_s", Case, Sum / S, "iters/s", "").
