%% Conformance scenarios for gen_event: handlers added, called, swapped,
%% removed, crashing; supervised handlers and gen_event_EXIT; stop.
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios_gen_event.py has the same name, and the golden
%% trace is golden/gen_event/<name>.trace. The handler is conf_eh (see its
%% header): it reports init, events, infos and terminate to main, so the
%% order of handlers shows in the trace. Every message a handler sends to
%% main is sent before the manager answers the request that caused it, so
%% main logs them in a fixed order.
-module(scenarios_gen_event).

-export([
         ge_add_notify_which/0, ge_init_results/0, ge_crashing_handler/0,
         ge_bad_return/0, ge_remove_handler/0, ge_delete_handler/0,
         ge_call/0, ge_swap_handler/0, ge_swap_from_callback/0,
         ge_sup_handler_exit/0, ge_sup_handler_owner_dies/0,
         ge_swap_sup_handler/0, ge_handle_info/0, ge_send_request/0,
         ge_parent_exit/0, ge_no_manager/0
        ]).

%% ================================================================ helpers

mgr() ->
    {ok, M} = gen_event:start(),
    conf:name(M, mgr).

h(Name) -> {self(), Name}.

%% Everything in the mailbox, in order.
rest() -> conf:log({rest, conf:flush()}).

log_all() -> lists:foreach(fun conf:log/1, conf:flush()).

stop(M) ->
    conf:log({stop, gen_event:stop(M)}),
    log_all().

%% ================================================================ scenarios

%% Handlers are kept newest first: which_handlers, event order, get_state and
%% stop all show it.
ge_add_notify_which() ->
    M = mgr(),
    conf:log({add, gen_event:add_handler(M, conf_eh, h(a))}),
    conf:log({add, gen_event:add_handler(M, {conf_eh, 2}, h(b))}),
    conf:log({which, gen_event:which_handlers(M)}),
    ok = gen_event:notify(M, one),
    conf:log({sync_notify, gen_event:sync_notify(M, two)}),
    log_all(),
    conf:log({state, [{Mod, Id, Name} || {Mod, Id, {_, Name}} <- sys:get_state(M)]}),
    stop(M),
    rest().

%% init's other answers are returned by add_handler; nothing is added.
ge_init_results() ->
    M = mgr(),
    conf:log({add, gen_event:add_handler(M, conf_eh, {init, fun() -> {error, nope} end})}),
    conf:log({add, gen_event:add_handler(M, conf_eh, {init, fun() -> error(boom) end})}),
    conf:log({add, gen_event:add_handler(M, conf_eh, {init, fun() -> junk end})}),
    conf:log({add, gen_event:add_handler(M, conf_eh, {init, fun() -> exit(bye) end})}),
    conf:log({which, gen_event:which_handlers(M)}),
    stop(M),
    rest().

%% A handler that crashes is removed (its terminate gets {error, {'EXIT', R}});
%% the others and the manager go on.
ge_crashing_handler() ->
    M = mgr(),
    gen_event:add_handler(M, conf_eh, h(a)),
    gen_event:add_handler(M, {conf_eh, 2}, h(b)),
    log_all(),
    gen_event:sync_notify(M, {do, fun({_, b}) -> error(boom);
                                     ({Main, Name} = S) -> Main ! {event, Name, crash}, {ok, S}
                                  end}),
    log_all(),
    conf:log({which, gen_event:which_handlers(M)}),
    gen_event:sync_notify(M, after_crash),
    log_all(),
    stop(M),
    rest().

%% A bad return value removes the handler too; terminate gets {error, Value}.
ge_bad_return() ->
    M = mgr(),
    gen_event:add_handler(M, conf_eh, h(a)),
    gen_event:sync_notify(M, {do, fun(_) -> wrong end}),
    log_all(),
    conf:log({which, gen_event:which_handlers(M)}),
    stop(M),
    rest().

ge_remove_handler() ->
    M = mgr(),
    gen_event:add_handler(M, conf_eh, h(a)),
    gen_event:add_handler(M, {conf_eh, 2}, h(b)),
    gen_event:sync_notify(M, {do, fun({_, a}) -> remove_handler;
                                     (S) -> {ok, S}
                                  end}),
    log_all(),
    conf:log({which, gen_event:which_handlers(M)}),
    stop(M),
    rest().

%% delete_handler returns what terminate returned.
ge_delete_handler() ->
    M = mgr(),
    gen_event:add_handler(M, conf_eh, h(a)),
    gen_event:add_handler(M, {conf_eh, x}, h(b)),
    conf:log({delete, gen_event:delete_handler(M, conf_eh, bye)}),
    conf:log({delete, gen_event:delete_handler(M, conf_eh, bye)}),
    conf:log({delete, gen_event:delete_handler(M, {conf_eh, y}, bye)}),
    conf:log({delete, gen_event:delete_handler(M, {conf_eh, x}, see_you)}),
    log_all(),
    conf:log({which, gen_event:which_handlers(M)}),
    stop(M),
    rest().

ge_call() ->
    M = mgr(),
    gen_event:add_handler(M, conf_eh, h(a)),
    gen_event:add_handler(M, {conf_eh, 2}, h(b)),
    conf:log({call, gen_event:call(M, conf_eh, hello)}),
    conf:log({call, gen_event:call(M, {conf_eh, 2}, hello)}),
    conf:log({call, gen_event:call(M, {conf_eh, 3}, hello)}),
    conf:log({call, gen_event:call(M, conf_eh, {do, fun(_) -> {remove_handler, gone} end})}),
    conf:log({call, gen_event:call(M, {conf_eh, 2}, {do, fun(_) -> error(boom) end})}),
    log_all(),
    conf:log({which, gen_event:which_handlers(M)}),
    stop(M),
    conf:log({call, conf:attempt(fun() -> gen_event:call(M, conf_eh, hello) end)}),
    rest().

%% swap_handler: the old handler's terminate(Args1) result goes to the new
%% handler's init as {Args2, Result}; a missing old handler gives error.
ge_swap_handler() ->
    M = mgr(),
    gen_event:add_handler(M, conf_eh, h(a)),
    gen_event:add_handler(M, {conf_eh, z}, h(z)),
    log_all(),
    conf:log({swap, gen_event:swap_handler(M, {conf_eh, out}, {{conf_eh, b},
                                                               {swap, self(), b}})}),
    log_all(),
    conf:log({which, gen_event:which_handlers(M)}),
    conf:log({swap, gen_event:swap_handler(M, {conf_eh, nothing},
                                           {{conf_eh, c}, {swap, self(), c}})}),
    log_all(),
    conf:log({swap, gen_event:swap_handler(M, {conf_eh, nothing},
                                           {{conf_eh, d}, {init, fun() -> {error, no} end}})}),
    conf:log({which, gen_event:which_handlers(M)}),
    stop(M),
    rest().

%% A handler returning swap_handler is replaced where it stands.
ge_swap_from_callback() ->
    M = mgr(),
    Main = self(),
    gen_event:add_handler(M, conf_eh, h(a)),
    gen_event:add_handler(M, {conf_eh, z}, h(z)),
    log_all(),
    gen_event:sync_notify(M, {do, fun({_, a} = S) ->
                                         {swap_handler, out, S, {conf_eh, b}, {swap, Main, b}};
                                     (S) -> {ok, S}
                                  end}),
    log_all(),
    conf:log({which, gen_event:which_handlers(M)}),
    gen_event:sync_notify(M, after_swap),
    log_all(),
    stop(M),
    rest().

%% The process that added a supervised handler hears when it goes, and why.
ge_sup_handler_exit() ->
    M = mgr(),
    conf:log({add, gen_event:add_sup_handler(M, conf_eh, h(a))}),
    conf:log({links, lists:member(M, element(2, process_info(self(), links)))}),
    gen_event:delete_handler(M, conf_eh, bye),
    log_all(),
    gen_event:add_sup_handler(M, conf_eh, h(b)),
    gen_event:sync_notify(M, {do, fun(_) -> error(boom) end}),
    log_all(),
    gen_event:add_sup_handler(M, conf_eh, h(c)),
    gen_event:sync_notify(M, {do, fun(_) -> remove_handler end}),
    log_all(),
    gen_event:add_sup_handler(M, {conf_eh, 1}, h(d)),
    stop(M),
    rest().

%% When the process that added a supervised handler dies, the handler goes
%% (terminate gets {stop, Reason}) and every other handler's handle_info
%% sees the 'EXIT'.
ge_sup_handler_owner_dies() ->
    M = mgr(),
    Main = self(),
    gen_event:add_handler(M, conf_eh, h(a)),
    Owner = spawn(fun() ->
                          gen_event:add_sup_handler(M, {conf_eh, owned}, {Main, owned}),
                          Main ! added,
                          receive go -> exit(bye) end
                  end),
    conf:name(Owner, owner),
    receive added -> ok end,
    log_all(),
    R = monitor(process, Owner),
    Owner ! go,
    receive {'DOWN', R, _, _, _} -> ok end,
    conf:log({which, gen_event:which_handlers(M)}),
    log_all(),
    stop(M),
    rest().

%% swap_sup_handler: the old handler's supervisor hears {swapped, New, Pid}.
ge_swap_sup_handler() ->
    M = mgr(),
    conf:log({add, gen_event:add_sup_handler(M, conf_eh, h(a))}),
    conf:log({swap, gen_event:swap_sup_handler(M, {conf_eh, out},
                                               {{conf_eh, b}, {swap, self(), b}})}),
    log_all(),
    conf:log({which, gen_event:which_handlers(M)}),
    gen_event:delete_handler(M, {conf_eh, b}, bye),
    log_all(),
    stop(M),
    rest().

%% A message that is not a request goes to every handler's handle_info.
ge_handle_info() ->
    M = mgr(),
    gen_event:add_handler(M, conf_eh, h(a)),
    gen_event:add_handler(M, {conf_eh, 2}, h(b)),
    log_all(),
    M ! hello,
    M ! {three, element, tuple},
    gen_event:sync_notify(M, sync),
    log_all(),
    stop(M),
    rest().

%% Asynchronous requests to a handler; a handler's error comes back as
%% {error, Why}.
ge_send_request() ->
    M = mgr(),
    gen_event:add_handler(M, conf_eh, h(a)),
    log_all(),
    R1 = gen_event:send_request(M, conf_eh, hello),
    conf:log({receive_response, gen_event:receive_response(R1, 1000)}),
    R2 = gen_event:send_request(M, {conf_eh, 9}, hello),
    conf:log({missing, gen_event:wait_response(R2, 1000)}),
    C0 = gen_event:reqids_new(),
    C1 = gen_event:send_request(M, conf_eh, one, label_1, C0),
    C2 = gen_event:send_request(M, conf_eh, {do, fun(_) -> error(boom) end}, label_2, C1),
    {Resp1, L1, C3} = gen_event:receive_response(C2, 1000, true),
    conf:log({Resp1, L1, gen_event:reqids_size(C3)}),
    {Resp2, L2, C4} = gen_event:receive_response(C3, 1000, true),
    conf:log({Resp2, L2, gen_event:reqids_size(C4)}),
    log_all(),
    stop(M),
    R3 = gen_event:send_request(M, conf_eh, hello),
    conf:log({dead, gen_event:receive_response(R3, 1000)}),
    rest().

%% A manager whose parent exits stops its handlers (terminate(stop, S)) and
%% exits with the same reason.
ge_parent_exit() ->
    Main = self(),
    Parent = spawn(fun() ->
                           {ok, M} = gen_event:start_link(),
                           Main ! {mgr, M},
                           receive go -> exit(bye) end
                   end),
    conf:name(Parent, parent),
    M = receive {mgr, P} -> conf:name(P, mgr) end,
    gen_event:add_handler(M, conf_eh, h(a)),
    log_all(),
    R = monitor(process, M),
    Parent ! go,
    receive {'DOWN', R, _, _, Reason} -> conf:log({mgr_down, Reason}) end,
    log_all(),
    rest().

%% Requests to a manager that is not there.
ge_no_manager() ->
    M = mgr(),
    stop(M),
    conf:log({notify_name, conf:attempt(fun() -> gen_event:notify(nobody, x) end)}),
    conf:log({notify_pid, conf:attempt(fun() -> gen_event:notify(M, x) end)}),
    conf:log({sync_notify, conf:attempt(fun() -> gen_event:sync_notify(M, x) end)}),
    conf:log({which, conf:attempt(fun() -> gen_event:which_handlers(nobody) end)}),
    conf:log({add, conf:attempt(fun() -> gen_event:add_handler(M, conf_eh, h(a)) end)}),
    conf:log({stop, conf:attempt(fun() -> gen_event:stop(M) end)}),
    rest().
