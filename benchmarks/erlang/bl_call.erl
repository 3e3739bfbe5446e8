%% gen_server:call/2 on real BEAM: calls per second against a trivial server,
%% made from a fresh client process.
-module(bl_call).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2]).

main(#{calls := N, reps := Reps}) ->
    {ok, Srv} = gen_server:start(?MODULE, [], []),
    Rates = [once(Srv, N) || _ <- lists:seq(1, Reps)],
    gen_server:stop(Srv),
    bl_util:emit("calls_per_s", "-", bl_util:median(Rates), "calls/s",
                 bl_util:fmt("~w calls; gen_server:call/2; ~s",
                             [N, bl_util:runs_note(Rates)])).

once(Srv, N) ->
    Self = self(),
    spawn(fun() ->
                  T0 = bl_util:now_us(),
                  calls(Srv, N),
                  Self ! {done, bl_util:now_us() - T0}
          end),
    receive {done, Us} -> N / (Us / 1.0e6) end.

calls(_, 0) -> ok;
calls(Srv, K) -> pong = gen_server:call(Srv, ping), calls(Srv, K - 1).

init([]) -> {ok, nostate}.
handle_call(ping, _From, S) -> {reply, pong, S}.
handle_cast(_, S) -> {noreply, S}.
