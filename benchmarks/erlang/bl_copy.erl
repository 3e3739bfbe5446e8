%% Copy-on-send on real BEAM: microseconds per (payload send + small ack) for
%% payloads from a small tuple to ~1 MB; BEAM copies every message into the
%% receiver's heap, except binaries over 64 bytes (reference-counted, shared).
-module(bl_copy).
-export([main/1]).

main(#{cases := Cases, budget_s := B, max_msgs := Max}) ->
    Echo = spawn(fun echo/0),
    [begin
         Payload = payload(binary_to_atom(Kind), K),
         {Us, N} = bounded(Echo, Payload, B, Max),
         bl_util:emit("us_per_message", binary_to_list(Label), Us, "us",
                      bl_util:fmt("~w messages", [N]))
     end || [Label, Kind, K] <- Cases],
    Echo ! stop.

payload(tuple, _) -> {msg, 1, 2.5};
payload(list, K) -> lists:seq(1000, 1000 + K - 1);
payload(nested, K) ->
    [#{id => I, name => <<"n", (integer_to_binary(I))/binary>>, tags => [<<"a">>, <<"b">>]}
     || I <- lists:seq(0, K - 1)];
payload(bytes, K) -> binary:copy(<<0>>, K).

echo() ->
    receive
        {data, From, _} -> From ! ack, echo();
        stop -> ok
    end.

bounded(Echo, Payload, B, Max) ->
    End = erlang:monotonic_time(nanosecond) + round(B * 1.0e9),
    loop(Echo, Payload, End, Max, 0, []).

loop(Echo, Payload, End, Max, N, Times) when N < Max ->
    T0 = erlang:monotonic_time(nanosecond),
    eight(Echo, Payload, 8),
    T1 = erlang:monotonic_time(nanosecond),
    Ts = [(T1 - T0) / 8 / 1000 | Times],
    case T1 > End of
        true -> {bl_util:median(Ts), N + 8};
        false -> loop(Echo, Payload, End, Max, N + 8, Ts)
    end;
loop(_, _, _, _, N, Times) -> {bl_util:median(Times), N}.

eight(_, _, 0) -> ok;
eight(Echo, Payload, K) ->
    Echo ! {data, self(), Payload},
    receive ack -> ok end,
    eight(Echo, Payload, K - 1).
