%% Fan-out on real BEAM: one process sends a request to each of N gen_servers
%% with gen_server:send_request/4 into a request-id collection and collects
%% the replies with receive_response/3 (delete = true); complete fan-outs
%% per second.
-module(bl_fanout).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2]).

main(#{servers := N, fanouts := F, reps := Reps}) ->
    Servers = [begin {ok, S} = gen_server:start(?MODULE, [], []), S end
               || _ <- lists:seq(1, N)],
    Rates = [once(Servers, F) || _ <- lists:seq(1, Reps)],
    [gen_server:stop(S) || S <- Servers],
    bl_util:emit("fanouts_per_s", "request-id collection", bl_util:median(Rates),
                 "fanouts/s",
                 bl_util:fmt("~w servers x ~w fan-outs; gen_server:send_request/4, "
                             "receive_response/3; ~w replies/s; ~s",
                             [N, F, round(bl_util:median(Rates) * N),
                              bl_util:runs_note(Rates)])).

once(Servers, F) ->
    Self = self(),
    spawn(fun() ->
                  T0 = bl_util:now_us(),
                  [fan_out(Servers) || _ <- lists:seq(1, F)],
                  Self ! {done, bl_util:now_us() - T0}
          end),
    receive {done, Us} -> F / (Us / 1.0e6) end.

fan_out(Servers) ->
    {Col, _} = lists:foldl(fun(S, {C, I}) ->
                                   {gen_server:send_request(S, ping, I, C), I + 1}
                           end, {gen_server:reqids_new(), 0}, Servers),
    N = length(Servers),
    N = collect(Col, 0).

collect(Col, Acc) ->
    case gen_server:receive_response(Col, infinity, true) of
        no_request -> Acc;
        {{reply, pong}, _Label, Col2} -> collect(Col2, Acc + 1)
    end.

init([]) -> {ok, nostate}.
handle_call(ping, _From, S) -> {reply, pong, S}.
handle_cast(_, S) -> {noreply, S}.
