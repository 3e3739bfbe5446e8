%% Conformance scenarios for the core runtime (processes, signals, receive, timers, registry).
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios.py has the same name and must produce the same
%% trace. Scenarios run as the process named `main` in a fresh node (see
%% conf:run/3). Rules that keep traces deterministic on real OTP:
%%   * only record order, never times;
%%   * wait for facts (a DOWN, a reply) rather than for time; where a process
%%     must reach a wait first, conf:settle() gives it 50 ms;
%%   * timing scenarios use wide margins (a 100 ms timeout against 20 ms
%%     junk intervals);
%%   * messages from different senders are taken with selective receives in
%%     a fixed order, never in arrival order.
-module(scenarios).

-export([
         %% 1.2 exit signals: linked process dies (L rows)
         link_normal_no_trap/0, link_normal_trap/0,
         link_kill_no_trap/0, link_kill_trap/0,
         link_reason_no_trap/0, link_reason_trap/0,
         link_crash_no_trap/0, link_crash_trap/0,
         link_killed_no_trap/0, link_killed_trap/0,
         %% 1.2 exit signals: exit/2 (X rows)
         exit2_normal_no_trap/0, exit2_normal_trap/0,
         exit2_kill_no_trap/0, exit2_kill_trap/0,
         exit2_reason_no_trap/0, exit2_reason_trap/0,
         exit2_self_normal_no_trap/0, exit2_self_normal_trap/0,
         exit2_self_kill_trap/0,
         exit2_self_reason_no_trap/0, exit2_self_reason_trap/0,
         exit2_dead_target/0, exit1_catchable/0, exit2_busy_process/0,
         chain_exit2_kill/0, chain_exit_kill/0, chain_exit_reason/0,
         %% 1.3 links
         link_dead_no_trap/0, link_dead_trap/0, link_badarg/0,
         link_idempotent/0, link_self_noop/0, link_from_peer/0,
         unlink_then_peer_dies/0, unlink_no_trap_survives/0,
         unlink_leaves_queued_exit/0, unlink_not_linked/0,
         link_removed_after_exit/0,
         %% 1.3 monitors
         monitor_down_normal/0, monitor_down_reasons/0,
         monitor_dead_noproc/0, monitor_twice/0,
         monitor_by_name/0, monitor_name_unregistered/0,
         monitor_name_resolved_once/0, monitor_removed_after_down/0,
         monitor_self/0,
         demonitor_flush/0, demonitor_flush_info_after_down/0,
         demonitor_info_after_down/0, demonitor_info_active/0,
         demonitor_after_down/0, demonitor_leaves_queued_down/0,
         %% 1.3 spawn_link / spawn_monitor / spawn_opt
         spawn_returns_pid/0, spawn_link_crash_immediately/0,
         spawn_link_exit_immediately/0, spawn_link_normal_immediately/0,
         spawn_monitor_exit/0, spawn_monitor_crash/0,
         spawn_opt_link_monitor/0,
         is_alive_after_kill/0,
         %% 1.6 send, 1.7 registry
         send_dead_pid/0, send_unregistered_name/0, send_name_node_tuple/0,
         send_name_after_death/0,
         register_basic/0, register_badarg_taken/0,
         register_badarg_has_name/0, register_badarg_dead/0,
         register_badarg_undefined/0, register_badarg_not_atom/0,
         register_badarg_not_pid/0, unregister_unregistered/0,
         whereis_undefined/0,
         name_released_before_down/0, name_released_before_exit/0,
         %% 1.5 selective receive
         recv_selective/0, recv_oldest_message_first/0,
         recv_skipped_stay_in_order/0, recv_timeout_not_restarted/0,
         recv_after_zero/0, recv_after_as_sleep/0,
         recv_blocked_wakes_on_match/0,
         %% 1.4 ordering
         order_message_then_exit/0, order_pair_fifo/0,
         %% 1.12 timers
         timer_send_after/0, timer_start_timer/0, timer_cancel_fired/0,
         timer_cancel_pending/0, timer_order/0,
         timer_auto_cancel_on_exit/0, timer_dead_target/0,
         timer_name_delivered/0, timer_name_unregistered_dropped/0,
         timer_badarg/0,
         %% 1.10 process_info
         pinfo_status_waiting/0, pinfo_status_running/0,
         pinfo_message_queue/0, pinfo_links/0, pinfo_monitors/0,
         pinfo_registered_name/0, pinfo_dead/0, pinfo_trap_exit/0,
         pinfo_dictionary/0,
         %% 1.8 process dictionary, 1.9 process_flag
         pdict_return_values/0,
         %% 1.11 hibernation
         hibernate_wakes_on_message/0, hibernate_with_queued_message/0,
         flag_trap_exit_old_value/0, flag_priority_old_value/0,
         %% the two trace printers agree
         format_selfcheck/0
        ]).
%% Not a scenario (arity 1): the function a hibernated process wakes into.
-export([hib_wake/1]).

%% ================================================================ helpers

%% A process that forwards every message to Main as {a_got,M}, runs
%% {do,Fun} in itself, and ends normally on stop.
agent_loop(Main) ->
    receive
        stop -> ok;
        {do, F} -> F(), agent_loop(Main);
        M -> Main ! {a_got, M}, agent_loop(Main)
    end.

%% Spawn a named agent, trapping exits or not, and wait until it is ready.
agent(Name, Trap) ->
    Main = self(),
    P = spawn(fun() ->
                      process_flag(trap_exit, Trap),
                      Main ! {ready, self()},
                      agent_loop(Main)
              end),
    conf:name(P, Name),
    receive {ready, P} -> ok end,
    P.

%% A process that only waits for stop (so its mailbox fills up).
idle(Name) ->
    Main = self(),
    P = spawn(fun() -> Main ! {ready, self()}, receive stop -> ok end end),
    conf:name(P, Name),
    receive {ready, P} -> ok end,
    P.

%% The pid of a process that has already exited normally.
dead_pid(Name) ->
    {P, R} = spawn_monitor(fun() -> ok end),
    conf:name(P, Name),
    receive {'DOWN', R, process, P, _} -> ok end,
    P.

down(R) ->
    receive {'DOWN', R, _, _, _} = D -> D after 2000 -> no_down end.

%% What happened to agent P after a signal: what it forwarded, whether it
%% lives, and how it ended once told to stop.
aftermath(P, R) ->
    conf:settle(),
    conf:drain(a_got),
    conf:log({alive, is_process_alive(P)}),
    P ! stop,
    conf:log(down(R)).

%% L rows: agent a (trapping or not) is linked to b; b runs Exit on go.
link_signal(Trap, Exit) ->
    Main = self(),
    A = spawn(fun() ->
                      process_flag(trap_exit, Trap),
                      B = spawn_link(fun() -> receive go -> Exit() end end),
                      Main ! {b, B},
                      agent_loop(Main)
              end),
    conf:name(A, a),
    B = receive {b, Pb} -> Pb end,
    conf:name(B, b),
    RA = monitor(process, A),
    RB = monitor(process, B),
    B ! go,
    conf:log(down(RB)),
    aftermath(A, RA).

%% X rows: main sends exit(P, Reason) to agent p.
exit_signal(Trap, Reason) ->
    P = agent(p, Trap),
    R = monitor(process, P),
    conf:log({exit_returned, exit(P, Reason)}),
    aftermath(P, R).

%% exit(self(), Reason) inside agent p.
exit_self(Trap, Reason) ->
    Main = self(),
    P = agent(p, Trap),
    R = monitor(process, P),
    P ! {do, fun() ->
                     Ret = exit(self(), Reason),
                     Main ! {a_got, {after_exit, Ret}}
             end},
    aftermath(P, R).

%% a - b - c, all linked, none trapping; every one is an agent.
chain() ->
    Main = self(),
    A = spawn(fun() ->
                      B = spawn_link(fun() ->
                                             C = spawn_link(fun() -> agent_loop(Main) end),
                                             Main ! {c, C},
                                             agent_loop(Main)
                                     end),
                      Main ! {b, B},
                      agent_loop(Main)
              end),
    conf:name(A, a),
    B = receive {b, Pb} -> Pb end,
    conf:name(B, b),
    C = receive {c, Pc} -> Pc end,
    conf:name(C, c),
    Refs = [monitor(process, P) || P <- [A, B, C]],
    {A, Refs}.

log_downs(Refs) ->
    lists:foreach(fun(R) -> conf:log(down(R)) end, Refs).

%% ================================================ 1.2 exit signals, L rows

link_normal_no_trap() -> link_signal(false, fun() -> ok end).
link_normal_trap() -> link_signal(true, fun() -> ok end).
link_kill_no_trap() -> link_signal(false, fun() -> exit(kill) end).
link_kill_trap() -> link_signal(true, fun() -> exit(kill) end).
link_reason_no_trap() -> link_signal(false, fun() -> exit(boom) end).
link_reason_trap() -> link_signal(true, fun() -> exit(boom) end).
link_crash_no_trap() -> link_signal(false, fun() -> error(boom) end).
link_crash_trap() -> link_signal(true, fun() -> error(boom) end).
%% b is killed by exit(self(), kill): it dies `killed`, and `killed` travels.
link_killed_no_trap() -> link_signal(false, fun() -> exit(self(), kill) end).
link_killed_trap() -> link_signal(true, fun() -> exit(self(), kill) end).

%% ================================================ 1.2 exit signals, X rows

exit2_normal_no_trap() -> exit_signal(false, normal).
exit2_normal_trap() -> exit_signal(true, normal).
exit2_kill_no_trap() -> exit_signal(false, kill).
exit2_kill_trap() -> exit_signal(true, kill).
exit2_reason_no_trap() -> exit_signal(false, boom).
exit2_reason_trap() -> exit_signal(true, boom).
exit2_self_normal_no_trap() -> exit_self(false, normal).
exit2_self_normal_trap() -> exit_self(true, normal).
exit2_self_kill_trap() -> exit_self(true, kill).
exit2_self_reason_no_trap() -> exit_self(false, boom).
exit2_self_reason_trap() -> exit_self(true, boom).

exit2_dead_target() ->
    P = dead_pid(p),
    conf:log({exit_returned, exit(P, boom)}),
    conf:log({exit_returned, exit(P, kill)}).

exit1_catchable() ->
    conf:log(conf:attempt(fun() -> exit(foo) end)),
    conf:log(conf:attempt(fun() -> exit({shutdown, x}) end)),
    conf:log({alive, is_process_alive(self())}).

%% Signals reach a process that never calls receive (and main only runs
%% again if the busy process is preempted).
exit2_busy_process() ->
    Main = self(),
    P = spawn(fun() -> Main ! {started, self()}, busy(0) end),
    conf:name(P, p),
    R = monitor(process, P),
    receive {started, P} -> ok end,
    conf:log({alive, is_process_alive(P)}),
    exit(P, boom),
    conf:log(down(R)).

busy(N) -> busy(N + 1).

chain_exit2_kill() ->
    {A, Refs} = chain(),
    exit(A, kill),
    log_downs(Refs).

chain_exit_kill() ->
    {A, Refs} = chain(),
    A ! {do, fun() -> exit(kill) end},
    log_downs(Refs).

chain_exit_reason() ->
    {A, Refs} = chain(),
    A ! {do, fun() -> exit(boom) end},
    log_downs(Refs).

%% ================================================================ 1.3 links

link_dead_no_trap() ->
    P = dead_pid(p),
    conf:log({link, conf:attempt(fun() -> link(P) end)}),
    conf:log({links, conf:info(self(), links)}).

link_dead_trap() ->
    process_flag(trap_exit, true),
    P = dead_pid(p),
    conf:log({link, conf:attempt(fun() -> link(P) end)}),
    conf:log(receive {'EXIT', _, _} = M -> M after 2000 -> no_exit end),
    conf:log({links, conf:info(self(), links)}).

link_badarg() ->
    conf:log({link, conf:attempt(fun() -> link(foo) end)}).

link_idempotent() ->
    process_flag(trap_exit, true),
    P = agent(p, false),
    conf:log({link, link(P)}),
    conf:log({link, link(P)}),
    conf:log({my_links, conf:info(self(), links)}),
    conf:log({p_links, conf:info(P, links)}),
    P ! stop,
    conf:log(receive {'EXIT', _, _} = M -> M after 2000 -> no_exit end),
    conf:log(receive M2 -> {extra, M2} after 200 -> no_more end).

link_self_noop() ->
    conf:log({link, link(self())}),
    conf:log({links, conf:info(self(), links)}),
    conf:log({unlink, unlink(self())}).

link_from_peer() ->
    process_flag(trap_exit, true),
    Main = self(),
    P = agent(p, false),
    P ! {do, fun() -> link(Main) end},
    conf:settle(),
    conf:log({my_links, conf:info(self(), links)}),
    P ! {do, fun() -> exit(boom) end},
    conf:log(receive {'EXIT', _, _} = M -> M after 2000 -> no_exit end).

unlink_then_peer_dies() ->
    process_flag(trap_exit, true),
    P = agent(p, false),
    link(P),
    conf:log({unlink, unlink(P)}),
    conf:log({my_links, conf:info(self(), links)}),
    conf:log({p_links, conf:info(P, links)}),
    R = monitor(process, P),
    P ! {do, fun() -> exit(boom) end},
    conf:log(down(R)),
    conf:log(receive M -> {extra, M} after 200 -> no_more end).

unlink_no_trap_survives() ->
    P = agent(p, false),
    link(P),
    unlink(P),
    R = monitor(process, P),
    P ! {do, fun() -> exit(boom) end},
    conf:log(down(R)),
    conf:settle(),
    conf:log(survived).

unlink_leaves_queued_exit() ->
    process_flag(trap_exit, true),
    P = agent(p, false),
    link(P),
    R = monitor(process, P),
    P ! {do, fun() -> exit(boom) end},
    conf:log(down(R)),
    conf:settle(),
    conf:log({queued, conf:info(self(), message_queue_len)}),
    conf:log({unlink, unlink(P)}),
    conf:log(receive {'EXIT', _, _} = M -> M after 0 -> no_exit end).

unlink_not_linked() ->
    P = agent(p, false),
    conf:log({unlink, unlink(P)}),
    conf:log({p_links, conf:info(P, links)}).

link_removed_after_exit() ->
    process_flag(trap_exit, true),
    P = agent(p, false),
    link(P),
    conf:log({my_links, conf:info(self(), links)}),
    P ! stop,
    conf:log(receive {'EXIT', _, _} = M -> M after 2000 -> no_exit end),
    conf:log({my_links, conf:info(self(), links)}).

%% ============================================================= 1.3 monitors

monitor_down_normal() ->
    P = agent(p, false),
    R = monitor(process, P),
    conf:log({monitor, R}),
    P ! stop,
    conf:log(down(R)).

monitor_down_reasons() ->
    Cases = [{p1, fun(P) -> P ! {do, fun() -> exit(boom) end} end},
             {p2, fun(P) -> P ! {do, fun() -> exit(kill) end} end},
             {p3, fun(P) -> exit(P, kill) end},
             {p4, fun(P) -> P ! {do, fun() -> error(boom) end} end},
             {p5, fun(P) -> P ! {do, fun() -> exit({shutdown, bye}) end} end},
             {p6, fun(P) -> exit(P, {shutdown, bye}) end},
             {p7, fun(P) -> exit(P, {error, [1, <<"x">>, #{k => v}]}) end}],
    lists:foreach(fun({Name, Trigger}) ->
                          P = agent(Name, false),
                          R = monitor(process, P),
                          Trigger(P),
                          conf:log(down(R))
                  end, Cases).

monitor_dead_noproc() ->
    P = dead_pid(p),
    R = monitor(process, P),
    conf:log({monitor, R}),
    conf:log(down(R)).

monitor_twice() ->
    P = agent(p, false),
    R1 = monitor(process, P),
    R2 = monitor(process, P),
    conf:log({distinct, R1 =/= R2}),
    conf:log({monitored_by, conf:info(P, monitored_by)}),
    P ! stop,
    conf:log(down(R1)),
    conf:log(down(R2)).

monitor_by_name() ->
    P = agent(p, false),
    register(srv, P),
    R = monitor(process, srv),
    conf:log({monitored_by, conf:info(P, monitored_by)}),
    P ! stop,
    conf:log(down(R)).

monitor_name_unregistered() ->
    R = monitor(process, nobody),
    conf:log(down(R)).

monitor_name_resolved_once() ->
    P1 = agent(p1, false),
    P2 = agent(p2, false),
    register(srv, P1),
    R = monitor(process, srv),
    unregister(srv),
    register(srv, P2),
    exit(P1, kill),
    conf:log(down(R)),
    conf:log({p2_alive, is_process_alive(P2)}),
    conf:log({whereis, whereis(srv)}).

monitor_removed_after_down() ->
    P = agent(p, false),
    R = monitor(process, P),
    conf:log({monitors, conf:info(self(), monitors)}),
    P ! stop,
    conf:log(down(R)),
    conf:log({monitors, conf:info(self(), monitors)}).

monitor_self() ->
    R = monitor(process, self()),
    conf:log({monitors, conf:info(self(), monitors)}),
    conf:log({demonitor, erlang:demonitor(R, [info])}),
    conf:log({monitors, conf:info(self(), monitors)}).

%% Make p exit with a DOWN for R queued (a second monitor tells us it died).
queued_down() ->
    P = agent(p, false),
    R = monitor(process, P),
    R2 = monitor(process, P),
    P ! stop,
    receive {'DOWN', R2, _, _, _} -> ok end,
    conf:settle(),
    conf:log({queued, conf:info(self(), message_queue_len)}),
    R.

demonitor_flush() ->
    R = queued_down(),
    conf:log({demonitor, erlang:demonitor(R, [flush])}),
    conf:log({queued, conf:info(self(), message_queue_len)}).

demonitor_flush_info_after_down() ->
    R = queued_down(),
    conf:log({demonitor, erlang:demonitor(R, [flush, info])}),
    conf:log({queued, conf:info(self(), message_queue_len)}).

demonitor_info_after_down() ->
    R = queued_down(),
    conf:log({demonitor, erlang:demonitor(R, [info])}),
    conf:log({queued, conf:info(self(), message_queue_len)}),
    conf:log(down(R)).

demonitor_info_active() ->
    P = agent(p, false),
    R = monitor(process, P),
    conf:log({demonitor, erlang:demonitor(R, [info])}),
    conf:log({monitored_by, conf:info(P, monitored_by)}),
    P ! stop,
    conf:log(receive {'DOWN', _, _, _, _} = D -> D after 200 -> no_down end).

demonitor_after_down() ->
    P = agent(p, false),
    R = monitor(process, P),
    P ! stop,
    conf:log(down(R)),
    conf:log({demonitor, erlang:demonitor(R)}),
    conf:log({demonitor, erlang:demonitor(R, [info])}).

demonitor_leaves_queued_down() ->
    R = queued_down(),
    conf:log({demonitor, erlang:demonitor(R)}),
    conf:log(receive {'DOWN', R, _, _, _} = D -> D after 0 -> no_down end).

%% ======================================= spawn_link, spawn_monitor, spawn_opt

spawn_returns_pid() ->
    Main = self(),
    P = spawn(fun() -> Main ! {hello, self()} end),
    conf:name(P, child),
    receive {hello, Q} = M ->
            conf:log(M),
            conf:log({same, P =:= Q})
    end.

spawn_link_crash_immediately() ->
    process_flag(trap_exit, true),
    P = spawn_link(fun() -> error(boom) end),
    conf:name(P, child),
    conf:log(receive {'EXIT', _, _} = M -> M after 2000 -> no_exit end).

spawn_link_exit_immediately() ->
    process_flag(trap_exit, true),
    P = spawn_link(fun() -> exit(boom) end),
    conf:name(P, child),
    conf:log(receive {'EXIT', _, _} = M -> M after 2000 -> no_exit end).

spawn_link_normal_immediately() ->
    process_flag(trap_exit, true),
    P = spawn_link(fun() -> ok end),
    conf:name(P, child),
    conf:log(receive {'EXIT', _, _} = M -> M after 2000 -> no_exit end).

spawn_monitor_exit() ->
    {P, R} = spawn_monitor(fun() -> exit(boom) end),
    conf:name(P, child),
    conf:log({spawned, P, R}),
    conf:log(down(R)).

spawn_monitor_crash() ->
    {P, R} = spawn_monitor(fun() -> error(boom) end),
    conf:name(P, child),
    conf:log(down(R)).

spawn_opt_link_monitor() ->
    process_flag(trap_exit, true),
    {P, R} = spawn_opt(fun() -> exit(boom) end, [link, monitor]),
    conf:name(P, child),
    conf:log({spawned, P, R}),
    conf:log(down(R)),
    conf:log(receive {'EXIT', _, _} = M -> M after 2000 -> no_exit end).

is_alive_after_kill() ->
    P = agent(p, false),
    conf:log({alive, is_process_alive(P)}),
    exit(P, kill),
    conf:log({alive, is_process_alive(P)}),
    conf:log({self_alive, is_process_alive(self())}).

%% ================================================== 1.6 send, 1.7 registry

send_dead_pid() ->
    P = dead_pid(p),
    conf:log({send, conf:attempt(fun() -> P ! hello end)}).

send_unregistered_name() ->
    conf:log({send, conf:attempt(fun() -> nobody ! hello end)}).

%% Settles on a real node a point OTP's documentation leaves open.
send_name_node_tuple() ->
    P = agent(p, false),
    register(foo, P),
    conf:log({send, conf:attempt(fun() -> {foo, node()} ! hello end)}),
    conf:log(receive {a_got, _} = M -> M after 2000 -> nothing end),
    conf:log({send, conf:attempt(fun() -> {nobody, node()} ! hello end)}).

send_name_after_death() ->
    P = agent(p, false),
    register(foo, P),
    R = monitor(process, P),
    exit(P, kill),
    conf:log(down(R)),
    conf:log({send, conf:attempt(fun() -> foo ! hello end)}).

register_basic() ->
    P = agent(p, false),
    conf:log({register, register(foo, P)}),
    conf:log({whereis, whereis(foo)}),
    conf:log({member, lists:member(foo, registered())}),
    conf:log({send, foo ! hello}),
    conf:log(receive {a_got, _} = M -> M after 2000 -> nothing end),
    conf:log({registered_name, conf:info(P, registered_name)}),
    conf:log({unregister, unregister(foo)}),
    conf:log({whereis, whereis(foo)}),
    conf:log({member, lists:member(foo, registered())}),
    conf:log({registered_name, conf:info(P, registered_name)}).

register_badarg_taken() ->
    P1 = agent(p1, false),
    P2 = agent(p2, false),
    conf:log({register, conf:attempt(fun() -> register(foo, P1) end)}),
    conf:log({register, conf:attempt(fun() -> register(foo, P2) end)}),
    conf:log({whereis, whereis(foo)}).

register_badarg_has_name() ->
    P = agent(p, false),
    conf:log({register, conf:attempt(fun() -> register(foo, P) end)}),
    conf:log({register, conf:attempt(fun() -> register(bar, P) end)}),
    conf:log({register, conf:attempt(fun() -> register(foo, P) end)}),
    conf:log({whereis, whereis(bar)}).

register_badarg_dead() ->
    P = dead_pid(p),
    conf:log({register, conf:attempt(fun() -> register(foo, P) end)}),
    conf:log({whereis, whereis(foo)}).

register_badarg_undefined() ->
    conf:log({register, conf:attempt(fun() -> register(undefined, self()) end)}).

register_badarg_not_atom() ->
    conf:log({register, conf:attempt(fun() -> register(42, self()) end)}).

register_badarg_not_pid() ->
    conf:log({register, conf:attempt(fun() -> register(foo, 42) end)}).

unregister_unregistered() ->
    conf:log({unregister, conf:attempt(fun() -> unregister(nobody) end)}).

whereis_undefined() ->
    conf:log({whereis, whereis(nobody)}).

name_released_before_down() ->
    P = agent(p, false),
    register(srv, P),
    R = monitor(process, P),
    exit(P, kill),
    receive
        {'DOWN', R, _, _, Reason} ->
            conf:log({down, Reason}),
            conf:log({whereis, whereis(srv)}),
            conf:log({register, conf:attempt(fun() -> register(srv, self()) end)})
    after 2000 -> conf:log(no_down)
    end,
    conf:log({whereis, whereis(srv)}).

name_released_before_exit() ->
    process_flag(trap_exit, true),
    P = agent(p, false),
    link(P),
    register(srv, P),
    P ! {do, fun() -> exit(boom) end},
    receive
        {'EXIT', P, Reason} ->
            conf:log({exit, Reason}),
            conf:log({whereis, whereis(srv)}),
            conf:log({register, conf:attempt(fun() -> register(srv, self()) end)})
    after 2000 -> conf:log(no_exit)
    end,
    conf:log({whereis, whereis(srv)}).

%% ======================================================= 1.5 selective receive

recv_selective() ->
    self() ! a, self() ! b, self() ! c,
    conf:log(receive c -> got_c end),
    conf:log({messages, conf:info(self(), messages)}),
    conf:log({rest, conf:flush()}).

%% Oldest message first, whatever the clause order.
recv_oldest_message_first() ->
    self() ! b, self() ! a,
    conf:log(receive a -> {first, a}; b -> {first, b} end),
    conf:log({rest, conf:flush()}).

recv_skipped_stay_in_order() ->
    [self() ! M || M <- [{x, 1}, {y, 1}, {x, 2}, {y, 2}, {x, 3}]],
    conf:log(receive {y, _} = M1 -> M1 end),
    conf:log(receive {y, _} = M2 -> M2 end),
    conf:log(receive {y, _} = M3 -> M3 after 0 -> no_y end),
    conf:log({rest, conf:flush()}).

recv_timeout_not_restarted() ->
    Main = self(),
    J = spawn(fun() -> junk(Main, 1) end),
    conf:name(J, j),
    conf:log(receive x -> got_x after 100 -> timeout end),
    conf:log(receive junk_done -> junk_done after 5000 -> no_junk_done end),
    conf:log({rest, conf:flush()}).

%% 20 junk messages, one every 20 ms.
junk(Main, N) when N > 20 -> Main ! junk_done;
junk(Main, N) ->
    receive after 20 -> ok end,
    Main ! {junk, N},
    junk(Main, N + 1).

recv_after_zero() ->
    conf:log(receive x -> got_x after 0 -> timeout end),
    self() ! junk,
    conf:log(receive x -> got_x after 0 -> timeout end),
    self() ! x,
    conf:log(receive x -> got_x after 0 -> timeout end),
    conf:log({rest, conf:flush()}).

recv_after_as_sleep() ->
    self() ! m,
    conf:log(receive after 50 -> slept end),
    conf:log({messages, conf:info(self(), messages)}).

recv_blocked_wakes_on_match() ->
    Main = self(),
    P = spawn(fun() ->
                      Main ! {ready, self()},
                      receive
                          {match, _} = M -> Main ! {p_got, M, conf:flush()}
                      end
              end),
    conf:name(P, p),
    receive {ready, P} -> ok end,
    P ! junk1,
    P ! junk2,
    conf:settle(),
    conf:log({status, conf:info(P, status)}),
    conf:log({p_messages, conf:info(P, messages)}),
    P ! {match, 1},
    conf:log(receive {p_got, _, _} = M -> M after 2000 -> nothing end).

%% ================================================================ 1.4 ordering

order_message_then_exit() ->
    P = agent(p, true),
    R = monitor(process, P),
    P ! m1,
    exit(P, boom),
    P ! m2,
    aftermath(P, R).

order_pair_fifo() ->
    Main = self(),
    P = spawn(fun() -> [Main ! {n, N} || N <- lists:seq(1, 10)] end),
    conf:name(P, p),
    conf:log([receive {n, N} -> N after 2000 -> timeout end || _ <- lists:seq(1, 10)]).

%% ================================================================ 1.12 timers

timer_send_after() ->
    R = erlang:send_after(50, self(), hello),
    conf:log({timer, R}),
    conf:log(receive hello -> got_hello after 2000 -> timeout end),
    conf:log({rest, conf:flush()}).

timer_start_timer() ->
    R = erlang:start_timer(50, self(), hello),
    conf:log({timer, R}),
    conf:log(receive {timeout, _, _} = M -> M after 2000 -> timeout end).

timer_cancel_fired() ->
    R = erlang:send_after(10, self(), hello),
    conf:log(receive hello -> got_hello after 2000 -> timeout end),
    conf:log({cancel, conf:timer_left(erlang:cancel_timer(R))}),
    conf:log({read, conf:timer_left(erlang:read_timer(R))}).

timer_cancel_pending() ->
    R = erlang:send_after(200, self(), hello),
    conf:log({read, conf:timer_left(erlang:read_timer(R))}),
    conf:log({cancel, conf:timer_left(erlang:cancel_timer(R))}),
    conf:log({cancel, conf:timer_left(erlang:cancel_timer(R))}),
    conf:log({read, conf:timer_left(erlang:read_timer(R))}),
    conf:log(receive hello -> got_hello after 400 -> timeout end).

timer_order() ->
    erlang:send_after(150, self(), late),
    erlang:send_after(50, self(), early),
    conf:log(receive M1 -> M1 after 2000 -> timeout end),
    conf:log(receive M2 -> M2 after 2000 -> timeout end).

timer_auto_cancel_on_exit() ->
    P = agent(p, false),
    T = erlang:send_after(500, P, hello),
    R = monitor(process, P),
    exit(P, kill),
    conf:log(down(R)),
    conf:log({cancel, conf:timer_left(erlang:cancel_timer(T))}).

timer_dead_target() ->
    P = dead_pid(p),
    T = erlang:send_after(500, P, hello),
    conf:log({cancel, conf:timer_left(erlang:cancel_timer(T))}).

timer_name_delivered() ->
    P = agent(p, false),
    register(foo, P),
    erlang:send_after(50, foo, hello),
    conf:log(receive {a_got, _} = M -> M after 2000 -> nothing end).

timer_name_unregistered_dropped() ->
    P = agent(p, false),
    register(foo, P),
    T = erlang:send_after(100, foo, hello),
    unregister(foo),
    conf:log({read, conf:timer_left(erlang:read_timer(T))}),
    receive after 300 -> ok end,
    conf:log({read, conf:timer_left(erlang:read_timer(T))}),
    conf:drain(a_got),
    conf:log({alive, is_process_alive(P)}),
    conf:log({whereis, whereis(foo)}).

timer_badarg() ->
    conf:log({infinity, conf:attempt(fun() -> erlang:send_after(infinity, self(), x) end)}),
    conf:log({negative, conf:attempt(fun() -> erlang:send_after(-1, self(), x) end)}),
    conf:log({start_timer, conf:attempt(fun() -> erlang:start_timer(-1, self(), x) end)}),
    conf:log({rest, conf:flush()}).

%% ========================================================= 1.10 process_info

pinfo_status_waiting() ->
    P = idle(p),
    conf:settle(),
    conf:log({status, conf:info(P, status)}).

pinfo_status_running() ->
    conf:log({status, conf:info(self(), status)}).

pinfo_message_queue() ->
    P = idle(p),
    P ! a, P ! b, P ! c,
    conf:log({message_queue_len, conf:info(P, message_queue_len)}),
    conf:log({messages, conf:info(P, messages)}),
    conf:log({my_queue_len, conf:info(self(), message_queue_len)}).

pinfo_links() ->
    process_flag(trap_exit, true),
    P1 = agent(p1, false),
    P2 = agent(p2, false),
    link(P1),
    link(P2),
    conf:log({my_links, conf:info(self(), links)}),
    conf:log({p1_links, conf:info(P1, links)}),
    conf:log({p2_links, conf:info(P2, links)}).

pinfo_monitors() ->
    P = agent(p, false),
    Q = agent(q, false),
    register(q, Q),
    monitor(process, P),
    monitor(process, q),
    conf:log({monitors, conf:info(self(), monitors)}),
    conf:log({p_monitored_by, conf:info(P, monitored_by)}),
    conf:log({q_monitored_by, conf:info(Q, monitored_by)}),
    conf:log({p_monitors, conf:info(P, monitors)}).

pinfo_registered_name() ->
    P = agent(p, false),
    conf:log({registered_name, conf:info(P, registered_name)}),
    register(foo, P),
    conf:log({registered_name, conf:info(P, registered_name)}),
    R = monitor(process, P),
    exit(P, kill),
    down(R),
    conf:log({registered_name, conf:info(P, registered_name)}).

pinfo_dead() ->
    P = dead_pid(p),
    lists:foreach(fun(Item) -> conf:log({Item, conf:info(P, Item)}) end,
                  [status, message_queue_len, messages, links, monitors,
                   monitored_by, registered_name, dictionary, trap_exit]).

pinfo_trap_exit() ->
    conf:log({trap_exit, conf:info(self(), trap_exit)}),
    process_flag(trap_exit, true),
    conf:log({trap_exit, conf:info(self(), trap_exit)}),
    P = agent(p, true),
    conf:log({p_trap_exit, conf:info(P, trap_exit)}).

pinfo_dictionary() ->
    Main = self(),
    P = agent(p, false),
    conf:log({dictionary, conf:info(P, dictionary)}),
    P ! {do, fun() -> put(k2, two), put(k1, one), Main ! {a_got, put_done} end},
    conf:log(receive {a_got, _} = M -> M after 2000 -> nothing end),
    conf:log({dictionary, conf:info(P, dictionary)}).

%% ============================================== 1.8 dictionary, 1.9 flags

pdict_return_values() ->
    conf:log({put, put(a, 1)}),
    conf:log({put, put(a, 2)}),
    conf:log({get, get(a)}),
    conf:log({get, get(b)}),
    put(b, 3),
    conf:log({get_keys, conf:sorted(get_keys())}),
    conf:log({get_all, conf:pairs(get())}),
    conf:log({erase, erase(a)}),
    conf:log({erase, erase(a)}),
    put(c, 4),
    conf:log({erase_all, conf:pairs(erase())}),
    conf:log({get_all, conf:pairs(get())}).

flag_trap_exit_old_value() ->
    conf:log({old, process_flag(trap_exit, true)}),
    conf:log({old, process_flag(trap_exit, true)}),
    conf:log({old, process_flag(trap_exit, false)}),
    conf:log({now, conf:info(self(), trap_exit)}).

flag_priority_old_value() ->
    conf:log({old, process_flag(priority, high)}),
    conf:log({now, conf:info(self(), priority)}),
    conf:log({old, process_flag(priority, low)}),
    conf:log({old, process_flag(priority, normal)}),
    conf:log({now, conf:info(self(), priority)}).

%% ======================================================== 1.11 hibernation

hib_wake(Main) ->
    receive M -> Main ! {woke, M} end.

hibernate_wakes_on_message() ->
    Main = self(),
    P = spawn(fun() ->
                      Main ! {ready, self()},
                      erlang:hibernate(?MODULE, hib_wake, [Main])
              end),
    conf:name(P, p),
    receive {ready, P} -> ok end,
    conf:settle(),
    conf:log({status, conf:info(P, status)}),
    conf:log({alive, is_process_alive(P)}),
    P ! hello,
    conf:log(receive {woke, _} = M -> M after 2000 -> nothing end).

hibernate_with_queued_message() ->
    Main = self(),
    P = spawn(fun() ->
                      receive go -> ok end,
                      erlang:hibernate(?MODULE, hib_wake, [Main])
              end),
    conf:name(P, p),
    P ! go,
    P ! hello,
    conf:log(receive {woke, _} = M -> M after 2000 -> nothing end).

%% ================================================== the printers agree

format_selfcheck() ->
    conf:log(['EXIT', 'DOWN', 'after', 'a b', 'it\'s', 'a\\b', '', 'Caps',
              nonode@nohost, ok_2]),
    conf:log([0, -5, 123456789012345678901234567890]),
    conf:log([true, false, undefined, {}, [], {[]}, [{}]]),
    conf:log([<<>>, <<"hi">>, <<"q\"b\\s\n", 0, 255>>]),
    conf:log(#{b => 2, a => [1], {k} => #{}}),
    conf:log({self(), self(), make_ref()}),
    R = make_ref(),
    conf:log([R, make_ref(), R]),
    P = spawn(fun() -> ok end),
    conf:log({unnamed, P}),
    conf:name(P, late_name),
    conf:log({named, P}),
    conf:log(conf:sorted([c, {b}, [a], 10, 9, b])).
