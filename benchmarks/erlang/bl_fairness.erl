%% Fairness on real BEAM: 4 processes count until a shared deadline, checking
%% the clock at every iteration like the Python hogs; shares and Jain's index.
-module(bl_fairness).
-export([main/1]).

main(#{hogs := H, seconds := S}) ->
    Self = self(),
    Deadline = bl_util:now_us() + round(S * 1.0e6),
    Pids = [spawn(fun() -> Self ! {count, self(), hog(Deadline, 0)} end)
            || _ <- lists:seq(1, H)],
    Counts = [receive {count, P, C} -> C end || P <- Pids],
    Sum = lists:sum(Counts),
    bl_util:emit("jain_index", "-", bl_util:jain(Counts), "index",
                 bl_util:fmt("~w hogs, ~w s; counts=~s; spawn/3, one scheduler",
                             [H, S, string:join([integer_to_list(C) || C <- Counts], "/")])),
    lists:foreach(fun({I, C}) ->
                          bl_util:emit("share", bl_util:fmt("hog ~w", [I]), C / Sum,
                                       "fraction", "")
                  end, lists:zip(lists:seq(1, H), Counts)),
    bl_util:emit("loop_iters_per_s", "-", Sum / S, "iters/s", "").

hog(Deadline, N) ->
    case bl_util:now_us() < Deadline of
        true -> hog(Deadline, N + 1);
        false -> N
    end.
