%% Selective receive on real BEAM: one receive that finds its message behind
%% Q unmatched ones, and request/reply round trips (make_ref before the send,
%% so the compiler's receive marker lets the reply skip old messages) with an
%% empty mailbox and with the Q messages queued.
-module(bl_selective).
-export([main/1]).

main(#{queued := Q, matches := M, rounds := R, budget_s := B}) ->
    Srv = spawn(fun server/0),
    {RateE, DoneE} = bounded(Srv, R, B),
    Self = self(),
    [Self ! {unmatched, I} || I <- lists:seq(1, Q)],
    {RateQ, DoneQ} = bounded(Srv, R, B),
    Us = [begin
              Self ! {match, K},
              T0 = erlang:monotonic_time(nanosecond),
              receive {match, K2} when is_integer(K2) -> ok end,
              (erlang:monotonic_time(nanosecond) - T0) / 1000
          end || K <- lists:seq(1, M)],
    Case = bl_util:fmt("~s queued", [thousands(Q)]),
    bl_util:emit("match_after_queue_us", Case, bl_util:median(Us), "us",
                 bl_util:fmt("median of ~w receives", [M])),
    bl_util:emit("round_trips_per_s", "empty mailbox", RateE, "rt/s",
                 bl_util:fmt("~w round trips", [DoneE])),
    bl_util:emit("round_trips_per_s", Case, RateQ, "rt/s",
                 bl_util:fmt("~w round trips (stops after ~w s)", [DoneQ, B])),
    Srv ! stop.

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

thousands(N) when N >= 1000 -> bl_util:fmt("~w,~3..0w", [N div 1000, N rem 1000]);
thousands(N) -> integer_to_list(N).
