%% Conformance scenarios for gen_server (start results, calls, casts, timeouts, terminate).
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios_gen_server.py has the same name, and the
%% golden trace is golden/gen_server/<name>.trace. The server under test is
%% conf_gs (a programmable gen_server: funs sent in {do, F} run inside it,
%% and it reports calls, casts, infos, continues and terminate to the main
%% process); supervised children are conf_worker. See scenarios.erl for the
%% rules that keep traces deterministic.
%%
%% OTP 25 is recorded here; where the reference describes OTP 26 (init
%% returning {error, R}; no 'EXIT' left behind by a failed start_link) the
%% trace shows what OTP 25 does and the scenario says so.
-module(scenarios_gen_server).

-export([
         %% start results, one per init return
         gs_init_ok/0, gs_init_stop/0, gs_init_ignore/0, gs_init_error/0,
         gs_init_crash/0, gs_init_exit/0, gs_init_bad_return/0,
         gs_init_failed_start_leaves_exit/0, gs_init_stop_kills_linked_caller/0,
         gs_init_stop_unregisters_name/0, gs_init_timeout_option/0,
         gs_already_started/0, gs_start_monitor/0,
         %% handle_continue
         gs_continue_before_queued_message/0, gs_continue_after_call/0,
         %% calls
         gs_call_timeout_late_reply_dropped/0, gs_call_default_timeout/0,
         gs_call_noproc/0, gs_call_server_stops/0, gs_call_server_crashes/0,
         gs_call_calling_self/0, gs_call_reply_later/0,
         gs_call_stop_with_reply/0, gs_call_bad_return/0,
         %% casts
         gs_cast_always_ok/0,
         %% timeouts
         gs_timeout_restarted_by_messages/0, gs_timeout_zero_queued_message/0,
         gs_timeout_restarted_by_system_message/0,
         %% terminate
         gs_terminate_stop_tuples/0, gs_terminate_crash/0,
         gs_terminate_bad_return/0, gs_terminate_exit/0,
         gs_stop_results/0,
         gs_parent_exit_trap/0, gs_parent_exit_no_trap/0,
         gs_parent_normal_trap/0, gs_parent_normal_no_trap/0,
         gs_nonparent_exit_trap/0,
         gs_supervisor_shutdown/0,
         %% multi_call / abcast on the local node
         gs_multi_call_abcast/0
        ]).

%% ================================================================ helpers

%% Log every message as it arrives until Done(Message) holds (that one
%% included); no_more if nothing comes for 2 s.
until(Done) ->
    receive
        M ->
            conf:log(M),
            case Done(M) of
                true -> ok;
                false -> until(Done)
            end
    after 2000 -> conf:log(no_more)
    end.

tag(T) -> fun(M) -> is_tuple(M) andalso element(1, M) =:= T end.

%% Whatever is left in the mailbox.
rest() -> conf:log({rest, conf:flush()}).

%% A conf_gs server (not linked) reporting to main, named Role in the trace.
server(Role) ->
    Main = self(),
    {ok, P} = gen_server:start(conf_gs, fun() -> {ok, Main} end, []),
    conf:name(P, Role).

server() -> server(server).

%% A process that reports the exit reason of whoever sends it {watch, P}
%% as {watched, Reason}; the watched process waits for `watching`.
watcher() ->
    Main = self(),
    spawn(fun() ->
                  receive {watch, P} -> ok end,
                  R = monitor(process, P),
                  P ! watching,
                  receive {'DOWN', R, _, _, Reason} -> Main ! {watched, Reason} end
          end).

%% start_link a conf_gs whose init registers with a watcher, then returns
%% Init(Main). Logs the start result, the server's exit reason (seen by the
%% watcher's monitor), and drops the 'EXIT' a failed start leaves behind on
%% OTP 25 (gs_init_failed_start_leaves_exit records that one).
init_result(Init) ->
    process_flag(trap_exit, true),
    Main = self(),
    W = watcher(),
    Res = gen_server:start_link(conf_gs, fun() ->
                                                 W ! {watch, self()},
                                                 receive watching -> ok end,
                                                 Init(Main)
                                         end, []),
    case Res of
        {ok, P} ->
            conf:name(P, server),
            conf:log({start, Res}),
            conf:log({call, gen_server:call(P, hello)}),
            conf:log({stop, gen_server:stop(P)}),
            until(tag(watched));
        _ ->
            conf:log({start, Res}),
            conf:log(receive {watched, _} = M -> M after 2000 -> no_watched end),
            conf:settle(),
            receive {'EXIT', _, _} -> ok after 0 -> ok end
    end,
    rest().

sleep(Ms) -> receive after Ms -> ok end.

%% ==================================================== start results

gs_init_ok() -> init_result(fun(Main) -> {ok, Main} end).
gs_init_stop() -> init_result(fun(_) -> {stop, myreason} end).
gs_init_ignore() -> init_result(fun(_) -> ignore end).
%% OTP 26 maps {error, R} to start result {error, R} and a silent exit
%% normal; OTP 25 (recorded) treats it as a bad return value.
gs_init_error() -> init_result(fun(_) -> {error, myreason} end).
gs_init_crash() -> init_result(fun(_) -> error(boom) end).
gs_init_exit() -> init_result(fun(_) -> exit(myreason) end).
gs_init_bad_return() -> init_result(fun(_) -> wrong end).

%% A trapping caller of a failed start_link: OTP 25 leaves the 'EXIT' of
%% the dead server in the caller's mailbox (OTP 26 consumes it).
gs_init_failed_start_leaves_exit() ->
    process_flag(trap_exit, true),
    lists:foreach(fun(Init) ->
                          conf:log({start, gen_server:start_link(conf_gs, Init, [])}),
                          conf:settle(),
                          conf:log({mailbox, conf:flush()})
                  end,
                  [fun() -> {stop, myreason} end,
                   fun() -> ignore end,
                   fun() -> exit(myreason) end]).

%% A caller that does not trap exits dies with the reason of a server
%% whose init returned {stop, R}: the link is in place when it exits.
gs_init_stop_kills_linked_caller() ->
    C = spawn(fun() ->
                      gen_server:start_link(conf_gs, fun() -> {stop, myreason} end, []),
                      receive after infinity -> ok end
              end),
    conf:name(C, caller),
    monitor(process, C),
    until(tag('DOWN')),
    rest().

%% The name is free again when start_link returns the failure.
gs_init_stop_unregisters_name() ->
    process_flag(trap_exit, true),
    Main = self(),
    Res = gen_server:start_link({local, srv}, conf_gs, fun() -> {stop, myreason} end, []),
    conf:log({start, Res}),
    conf:log({whereis, whereis(srv)}),
    conf:settle(),
    receive {'EXIT', _, myreason} -> ok after 0 -> ok end,
    {ok, P} = gen_server:start_link({local, srv}, conf_gs, fun() -> {ok, Main} end, []),
    conf:name(P, server),
    conf:log({whereis, whereis(srv)}),
    conf:log({call, gen_server:call(srv, hello)}),
    conf:log({stop, gen_server:stop(srv)}),
    until(tag(terminate)),
    conf:log({whereis, whereis(srv)}),
    conf:log(receive {'EXIT', _, _} = M -> M after 0 -> no_exit end),
    rest().

%% An init slower than the start timeout: the server is killed, start
%% returns {error, timeout} and no 'EXIT' is left (both OTP 25 and 26).
gs_init_timeout_option() ->
    process_flag(trap_exit, true),
    Main = self(),
    Res = gen_server:start_link(conf_gs, fun() -> sleep(1000), {ok, Main} end,
                                [{timeout, 100}]),
    conf:log({start, Res}),
    conf:settle(),
    rest().

gs_already_started() ->
    Main = self(),
    {ok, P} = gen_server:start({local, srv}, conf_gs, fun() -> {ok, Main} end, []),
    conf:name(P, server),
    conf:log({start, gen_server:start({local, srv}, conf_gs,
                                      fun() -> Main ! init_ran, {ok, Main} end, [])}),
    conf:log({start_link, gen_server:start_link({local, srv}, conf_gs,
                                                fun() -> Main ! init_ran, {ok, Main} end, [])}),
    conf:settle(),
    rest().

gs_start_monitor() ->
    Main = self(),
    {ok, {P, _}} = Res = gen_server:start_monitor(conf_gs, fun() -> {ok, Main} end, []),
    conf:name(P, server),
    conf:log({start, Res}),
    conf:log({links, conf:info(self(), links)}),
    gen_server:cast(P, {do, fun(S) -> {stop, bye, S} end}),
    until(tag('DOWN')),
    rest().

%% ===================================================== handle_continue

%% A continue from init runs before a message already queued during init,
%% and a continue returned by handle_continue runs before it too.
gs_continue_before_queued_message() ->
    Main = self(),
    {ok, P} = gen_server:start(conf_gs,
                               fun() ->
                                       self() ! early,
                                       {ok, Main, {continue, {do, fun(S) ->
                                                                          S ! {continue, c1},
                                                                          {noreply, S, {continue, c2}}
                                                                  end}}}
                               end, []),
    conf:name(P, server),
    until(fun(M) -> M =:= {info, early} end),
    gen_server:stop(P),
    until(tag(terminate)),
    rest().

%% A continue returned with a reply runs after the reply is sent and before
%% the next message.
gs_continue_after_call() ->
    P = server(),
    Reply = gen_server:call(P, {do, fun(_From, S) ->
                                            self() ! later,
                                            {reply, ok, S, {continue, c1}}
                                    end}),
    conf:log({call, Reply}),
    until(fun(M) -> M =:= {info, later} end),
    gen_server:stop(P),
    until(tag(terminate)),
    rest().

%% ================================================================ calls

%% A reply that comes after the caller gave up is dropped (OTP 24+ alias).
gs_call_timeout_late_reply_dropped() ->
    P = server(),
    Slow = {do, fun(_From, S) -> sleep(200), {reply, late, S} end},
    conf:log(conf:attempt(fun() -> gen_server:call(P, Slow, 100) end)),
    sleep(300),
    conf:log({mailbox, conf:flush()}),
    conf:log({call, gen_server:call(P, hello)}),
    conf:log({monitors, conf:info(self(), monitors)}),
    rest().

%% call/2 waits 5 s: a reply after 4 s arrives, one after 6 s does not.
gs_call_default_timeout() ->
    P = server(),
    conf:log(conf:attempt(fun() ->
                                  gen_server:call(P, {do, fun(_, S) -> sleep(4000), {reply, in_time, S} end})
                          end)),
    conf:log(conf:attempt(fun() ->
                                  gen_server:call(P, {do, fun(_, S) -> sleep(6000), {reply, too_late, S} end})
                          end)),
    sleep(1500),
    conf:log({mailbox, conf:flush()}).

gs_call_noproc() ->
    conf:log(conf:attempt(fun() -> gen_server:call(nobody, hello) end)),
    conf:log(conf:attempt(fun() -> gen_server:call(nobody, hello, 100) end)),
    conf:log(conf:attempt(fun() -> gen_server:call({nobody, node()}, hello) end)),
    P = server(),
    gen_server:stop(P),
    until(tag(terminate)),
    conf:log(conf:attempt(fun() -> gen_server:call(P, hello) end)),
    rest().

%% The server stops without replying: the caller exits with its reason.
gs_call_server_stops() ->
    P = server(),
    monitor(process, P),
    conf:log(conf:attempt(fun() ->
                                  gen_server:call(P, {do, fun(_, S) -> {stop, myreason, S} end})
                          end)),
    until(tag('DOWN')),
    rest().

gs_call_server_crashes() ->
    P = server(),
    monitor(process, P),
    conf:log(conf:attempt(fun() ->
                                  gen_server:call(P, {do, fun(_, _) -> error(boom) end})
                          end)),
    until(tag('DOWN')),
    rest().

gs_call_calling_self() ->
    Main = self(),
    {ok, P} = gen_server:start({local, srv}, conf_gs, fun() -> {ok, Main} end, []),
    conf:name(P, server),
    Attempt = fun(Target) ->
                      {do, fun(_, S) ->
                                   {reply, conf:attempt(fun() -> gen_server:call(Target, x) end), S}
                           end}
              end,
    conf:log({call, gen_server:call(P, Attempt(P))}),
    conf:log({call, gen_server:call(P, Attempt(srv))}),
    conf:log({alive, is_process_alive(P)}),
    rest().

%% noreply now, gen_server:reply/2 later from handle_info.
gs_call_reply_later() ->
    P = server(),
    Later = {do, fun(From, S) ->
                         self() ! {do, fun(S2) ->
                                               S2 ! {reply_returned, gen_server:reply(From, later)},
                                               {noreply, S2}
                                       end},
                         {noreply, S}
                 end},
    conf:log({call, gen_server:call(P, Later)}),
    until(tag(reply_returned)),
    rest().

%% {stop, Reason, Reply, State}: the caller gets the reply, then the
%% server terminates with Reason.
gs_call_stop_with_reply() ->
    P = server(),
    monitor(process, P),
    conf:log({call, gen_server:call(P, {do, fun(_, S) -> {stop, normal, bye, S} end})}),
    until(tag('DOWN')),
    rest().

gs_call_bad_return() ->
    P = server(),
    monitor(process, P),
    conf:log(conf:attempt(fun() -> gen_server:call(P, {do, fun(_, _) -> wrong end}) end)),
    until(tag('DOWN')),
    rest().

%% ================================================================ casts

gs_cast_always_ok() ->
    conf:log({cast, gen_server:cast(nobody, hello)}),
    conf:log({cast, gen_server:cast({nobody, node()}, hello)}),
    P = server(),
    conf:log({cast, gen_server:cast(P, hello)}),
    until(tag(cast)),
    P ! {'$gen_cast', raw},
    until(tag(cast)),
    gen_server:stop(P),
    until(tag(terminate)),
    conf:log({cast, gen_server:cast(P, hello)}),
    rest().

%% ============================================================= timeouts

%% {noreply, S, 300}: each message restarts the timeout. Messages come
%% every 200 ms, so without the restart the timeout would fire before the
%% second one.
gs_timeout_restarted_by_messages() ->
    Main = self(),
    {ok, P} = gen_server:start(conf_gs, fun() -> {ok, Main, 300} end, []),
    conf:name(P, server),
    Tick = fun(N) -> {do, fun(S) -> S ! {info, N}, {noreply, S, 300} end} end,
    sleep(200),
    P ! Tick(1),
    sleep(200),
    P ! Tick(2),
    until(fun(M) -> M =:= {info, timeout} end),
    rest().

%% A zero timeout does not fire while a message is queued: the message is
%% handled first.
gs_timeout_zero_queued_message() ->
    Main = self(),
    {ok, P} = gen_server:start(conf_gs,
                               fun() ->
                                       self() ! {do, fun(S) -> S ! {info, early}, {noreply, S, 0} end},
                                       {ok, Main, 0}
                               end, []),
    conf:name(P, server),
    until(fun(M) -> M =:= {info, timeout} end),
    conf:settle(),
    rest().

%% A system message (sys:get_state) restarts the timeout too: timeout 300,
%% get_state at 200, a message at 400 comes first.
gs_timeout_restarted_by_system_message() ->
    Main = self(),
    {ok, P} = gen_server:start(conf_gs, fun() -> {ok, Main, 300} end, []),
    conf:name(P, server),
    sleep(200),
    conf:log({state, sys:get_state(P)}),
    sleep(200),
    P ! ping,
    until(fun(M) -> M =:= {info, ping} end),
    sleep(400),
    rest().

%% ============================================================ terminate

%% terminate/2 runs with the reason of every stop tuple, and the server
%% exits with that reason.
gs_terminate_stop_tuples() ->
    Cases = [{from_cast, fun(P) -> gen_server:cast(P, {do, fun(S) -> {stop, {shutdown, x}, S} end}) end},
             {from_info, fun(P) -> P ! {do, fun(S) -> {stop, myreason, S} end} end},
             {from_continue, fun(P) ->
                                     gen_server:cast(P, {do, fun(S) ->
                                                                     {noreply, S, {continue, {do, fun(S2) -> {stop, normal, S2} end}}}
                                                             end})
                             end}],
    lists:foreach(fun({Case, Trigger}) ->
                          conf:log(Case),
                          P = server(),
                          monitor(process, P),
                          Trigger(P),
                          until(tag('DOWN'))
                  end, Cases),
    rest().

gs_terminate_crash() ->
    Cases = [{from_cast, fun(P) -> gen_server:cast(P, {do, fun(_) -> error(boom) end}) end},
             {from_info, fun(P) -> P ! {do, fun(_) -> error(boom) end} end},
             {from_continue, fun(P) ->
                                     gen_server:cast(P, {do, fun(S) ->
                                                                     {noreply, S, {continue, {do, fun(_) -> error(boom) end}}}
                                                             end})
                             end}],
    lists:foreach(fun({Case, Trigger}) ->
                          conf:log(Case),
                          P = server(),
                          monitor(process, P),
                          Trigger(P),
                          until(tag('DOWN'))
                  end, Cases),
    rest().

gs_terminate_bad_return() ->
    Cases = [{from_cast, fun(P) -> gen_server:cast(P, {do, fun(_) -> wrong end}) end},
             {from_info, fun(P) -> P ! {do, fun(S) -> {reply, oops, S} end} end},
             {from_continue, fun(P) ->
                                     gen_server:cast(P, {do, fun(S) ->
                                                                     {noreply, S, {continue, {do, fun(_) -> wrong end}}}
                                                             end})
                             end}],
    lists:foreach(fun({Case, Trigger}) ->
                          conf:log(Case),
                          P = server(),
                          monitor(process, P),
                          Trigger(P),
                          until(tag('DOWN'))
                  end, Cases),
    rest().

%% exit(R) inside a callback: terminate sees R itself.
gs_terminate_exit() ->
    P = server(),
    monitor(process, P),
    gen_server:cast(P, {do, fun(_) -> exit(myexit) end}),
    until(tag('DOWN')),
    rest().

gs_stop_results() ->
    P = server(),
    conf:log({stop, gen_server:stop(P)}),
    until(tag(terminate)),
    conf:log({stop_again, conf:attempt(fun() -> gen_server:stop(P) end)}),
    conf:log({stop_unknown, conf:attempt(fun() -> gen_server:stop(nobody) end)}),
    P2 = server(s2),
    conf:log({stop, gen_server:stop(P2, {shutdown, x}, infinity)}),
    until(tag(terminate)),
    rest().

%% A server started by parent `par`; par exits with Reason. Trap says
%% whether the server traps exits (set in its init).
parent_exit(Trap, Reason) ->
    Main = self(),
    Par = spawn(fun() ->
                        {ok, P} = gen_server:start_link(conf_gs,
                                                        fun() ->
                                                                process_flag(trap_exit, Trap),
                                                                {ok, Main}
                                                        end, []),
                        Main ! {server, P},
                        receive {die, R} -> exit(R) end
                end),
    conf:name(Par, par),
    P = receive {server, S} -> S end,
    conf:name(P, server),
    RP = monitor(process, Par),
    RS = monitor(process, P),
    Par ! {die, Reason},
    receive {'DOWN', RP, _, _, _} -> ok end,
    conf:settle(),
    conf:log({alive, is_process_alive(P)}),
    case is_process_alive(P) of
        true -> gen_server:stop(P);
        false -> ok
    end,
    until(fun({'DOWN', Ref, _, _, _}) -> Ref =:= RS;
             (_) -> false
          end),
    rest().

%% Trapping: {'EXIT', Parent, R} makes the server terminate with R.
gs_parent_exit_trap() -> parent_exit(true, bye).
%% Not trapping: the exit signal kills it; terminate does not run.
gs_parent_exit_no_trap() -> parent_exit(false, bye).
%% Trapping: even a normal parent exit makes it terminate (normal).
gs_parent_normal_trap() -> parent_exit(true, normal).
%% Not trapping: a normal exit signal is ignored, the server lives on.
gs_parent_normal_no_trap() -> parent_exit(false, normal).

%% An 'EXIT' from a linked process that is not the parent is just a
%% message for handle_info.
gs_nonparent_exit_trap() ->
    Main = self(),
    {ok, P} = gen_server:start(conf_gs, fun() -> process_flag(trap_exit, true), {ok, Main} end, []),
    conf:name(P, server),
    P ! {do, fun(S) ->
                     O = spawn_link(fun() -> receive go -> exit(bye) end end),
                     conf:name(O, other),
                     O ! go,
                     {noreply, S}
             end},
    until(tag(info)),
    conf:log({alive, is_process_alive(P)}),
    gen_server:stop(P),
    until(tag(terminate)),
    rest().

%% Children of a one_for_one supervisor, stopped with it (reverse order):
%% brutal_kill never runs terminate; a timeout runs it if the child traps
%% exits; a child slower than its timeout is killed; a child that does not
%% trap exits dies of the shutdown signal without terminate.
gs_supervisor_shutdown() ->
    process_flag(trap_exit, true),
    Main = self(),
    Spec = fun(Id, Shutdown, Opts) ->
                   #{id => Id, start => {conf_worker, start_link, [Main, Id, Opts]},
                     shutdown => Shutdown}
           end,
    {ok, Sup} = conf_sup:start_link({ok, {#{strategy => one_for_one},
                                          [Spec(brutal, brutal_kill, []),
                                           Spec(timeout, 1000, []),
                                           Spec(slow, 100, [{slow_terminate, 1000}]),
                                           Spec(no_trap, 1000, [no_trap])]}}),
    conf:name(Sup, sup),
    Pids = [receive {started, Id, P} -> conf:name(P, Id) end
            || Id <- [brutal, timeout, slow, no_trap]],
    [monitor(process, P) || P <- Pids],
    exit(Sup, shutdown),
    until(tag('EXIT')),
    rest().

%% ================================================ multi_call and abcast

gs_multi_call_abcast() ->
    Main = self(),
    {ok, P} = gen_server:start({local, srv}, conf_gs, fun() -> {ok, Main} end, []),
    conf:name(P, server),
    conf:log({multi_call, gen_server:multi_call(srv, hello)}),
    conf:log({multi_call, gen_server:multi_call(nobody, hello)}),
    conf:log({abcast, gen_server:abcast(srv, hi)}),
    until(tag(cast)),
    conf:log({abcast, gen_server:abcast(nobody, hi)}),
    rest().
