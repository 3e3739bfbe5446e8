%% Supervisor restarts on real BEAM: fresh one_for_one supervisors, each with
%% one permanent worker that reports its pid when started; the worker is
%% killed and the next one awaited. SASL/logger reports are switched off.
-module(bl_restart).
-behaviour(supervisor).
-export([main/1, init/1, start_worker/1]).

main(#{sups := Sups, restarts := R}) ->
    logger:set_primary_config(level, none),
    Us = [one_supervisor(R) || _ <- lists:seq(1, Sups)],
    Rates = [round(R / (U / 1.0e6)) || U <- Us],
    bl_util:emit("restarts_per_s", "-", Sups * R / (lists:sum(Us) / 1.0e6), "restarts/s",
                 bl_util:fmt("~w fresh supervisors x ~w restarts; OTP supervisor, "
                             "one_for_one, brutal_kill; per-supervisor rates=~w",
                             [Sups, R, Rates])).

one_supervisor(R) ->
    {ok, Sup} = supervisor:start_link(?MODULE, self()),
    unlink(Sup),
    First = receive {worker, P} -> P end,
    T0 = bl_util:now_us(),
    restart_loop(First, R),
    T1 = bl_util:now_us(),
    exit(Sup, shutdown),
    T1 - T0.

restart_loop(_, 0) -> ok;
restart_loop(Old, K) ->
    exit(Old, kill),
    receive {worker, New} -> restart_loop(New, K - 1) end.

init(Notify) ->
    Child = #{id => worker, start => {?MODULE, start_worker, [Notify]},
              restart => permanent, shutdown => brutal_kill, type => worker},
    {ok, {#{strategy => one_for_one, intensity => 1000000, period => 1}, [Child]}}.

start_worker(Notify) ->
    Pid = spawn_link(fun() -> receive never -> ok end end),
    Notify ! {worker, Pid},
    {ok, Pid}.
