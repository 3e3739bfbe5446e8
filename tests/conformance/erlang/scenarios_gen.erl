%% Conformance scenarios for asynchronous requests (gen's send_request family,
%% OTP 25): single requests, request-id collections, timeouts that keep or
%% abandon a request, late replies, dead servers.
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios_gen.py has the same name, and the golden trace
%% is golden/gen/<name>.trace. The servers are conf_gs (see its header) and,
%% for gen_statem, conf_sm. Raw reply messages are never logged: OTP's
%% {[alias|ReqId], Reply} is beamlet's (ReqId, Reply).
-module(scenarios_gen).

-export([
         %% one request
         sr_reply/0, sr_wait_timeout_then_reply/0,
         sr_receive_timeout_late_reply_dropped/0, sr_server_crashes/0,
         sr_dead_server/0, sr_check_response/0, sr_abs_timeout/0,
         sr_statem/0,
         %% collections
         sr_reqids_basic/0, sr_reqids_delete_false/0,
         sr_reqids_receive_timeout_abandons_all/0, sr_reqids_wait_timeout_keeps/0,
         sr_reqids_check_response/0, sr_reqids_badarg/0, sr_reqids_dead_server/0,
         %% multi_call on top
         sr_multi_call_timeout/0
        ]).

%% ================================================================ helpers

server(Role) ->
    Main = self(),
    {ok, P} = gen_server:start(conf_gs, fun() -> {ok, Main} end, []),
    conf:name(P, Role).

server() -> server(server).

sleep(Ms) -> receive after Ms -> ok end.

rest() -> conf:log({rest, conf:flush()}).

%% A request whose reply a helper process sends Ms later.
slow(X, Ms) ->
    {do, fun(From, S) ->
                 spawn(fun() -> sleep(Ms), gen_server:reply(From, X) end),
                 {noreply, S}
         end}.

crash() ->
    {do, fun(_From, _S) -> error(boom) end}.

%% A collection result with the collection shown by its size.
col({Resp, Label, Col}) -> {Resp, Label, gen_server:reqids_size(Col)};
col(Other) -> Other.

%% ================================================================ one request

sr_reply() ->
    P = server(),
    R = gen_server:send_request(P, hello),
    conf:log({wait, gen_server:wait_response(R, infinity)}),
    R2 = gen_server:send_request(P, again),
    conf:log({receive_response, gen_server:receive_response(R2, 1000)}),
    gen_server:stop(P),
    rest().

sr_wait_timeout_then_reply() ->
    P = server(),
    R = gen_server:send_request(P, slow(late, 200)),
    conf:log({wait, gen_server:wait_response(R, 50)}),
    conf:log({wait, gen_server:wait_response(R, 1000)}),
    conf:log({wait, gen_server:wait_response(R, 0)}),
    gen_server:stop(P),
    rest().

sr_receive_timeout_late_reply_dropped() ->
    P = server(),
    R = gen_server:send_request(P, slow(late, 200)),
    conf:log({receive_response, gen_server:receive_response(R, 50)}),
    sleep(400),
    conf:log({mailbox, conf:flush()}),
    conf:log({call, gen_server:call(P, still_there)}),
    gen_server:stop(P),
    rest().

sr_server_crashes() ->
    P = server(),
    R = gen_server:send_request(P, crash()),
    conf:log({receive_response, gen_server:receive_response(R, 1000)}),
    conf:log({terminate, receive {terminate, T} -> T end}),
    rest().

sr_dead_server() ->
    P = server(),
    gen_server:stop(P),
    receive {terminate, _} -> ok end,
    R1 = gen_server:send_request(P, hello),
    conf:log({by_pid, gen_server:receive_response(R1, 1000)}),
    R2 = gen_server:send_request(nobody, hello),
    conf:log({by_name, gen_server:receive_response(R2, 1000)}),
    R3 = gen_server:send_request({nobody, node()}, hello),
    conf:log({by_name_node, gen_server:wait_response(R3, 1000)}),
    rest().

sr_check_response() ->
    P = server(),
    R = gen_server:send_request(P, hello),
    Msg = receive M -> M end,
    conf:log({other, gen_server:check_response(hello, R)}),
    conf:log({check, gen_server:check_response(Msg, R)}),
    Q = server(other),
    R2 = gen_server:send_request(Q, crash()),
    receive {terminate, _} -> ok end,
    Down = receive {'DOWN', _, _, _, _} = D -> D end,
    conf:log({not_this_one, gen_server:check_response(Down, R)}),
    conf:log({check_down, gen_server:check_response(Down, R2)}),
    gen_server:stop(P),
    rest().

sr_abs_timeout() ->
    P = server(),
    R = gen_server:send_request(P, slow(late, 200)),
    Deadline = erlang:monotonic_time(millisecond) + 50,
    conf:log({receive_response, gen_server:receive_response(R, {abs, Deadline})}),
    R2 = gen_server:send_request(P, now),
    Past = erlang:monotonic_time(millisecond) - 1000,
    sleep(50),
    conf:log({past_deadline, gen_server:receive_response(R2, {abs, Past})}),
    sleep(300),
    gen_server:stop(P),
    rest().

sr_statem() ->
    Main = self(),
    H = fun({call, From}, X, _S, _D) -> {keep_state_and_data, [{reply, From, {got, X}}]};
           (_, _, _, _) -> keep_state_and_data
        end,
    {ok, P} = gen_statem:start(conf_sm, fun() -> {ok, s, {Main, H}} end, []),
    conf:name(P, sm),
    R = gen_statem:send_request(P, hello),
    conf:log({receive_response, gen_statem:receive_response(R, 1000)}),
    C = gen_statem:send_request(P, a, label_a, gen_statem:reqids_new()),
    C2 = gen_statem:send_request(P, b, label_b, C),
    conf:log({size, gen_statem:reqids_size(C2)}),
    {Resp1, L1, C3} = gen_statem:receive_response(C2, 1000, true),
    conf:log({Resp1, L1}),
    {Resp2, L2, C4} = gen_statem:wait_response(C3, 1000, true),
    conf:log({Resp2, L2}),
    conf:log({empty, gen_statem:wait_response(C4, 1000, true)}),
    gen_statem:stop(P),
    receive {terminate, _, _} -> ok end,
    conf:log({events, conf:flush()}).

%% ================================================================ collections

sr_reqids_basic() ->
    P = server(),
    C0 = gen_server:reqids_new(),
    conf:log({new, gen_server:reqids_size(C0), gen_server:reqids_to_list(C0)}),
    C1 = gen_server:send_request(P, one, label_1, C0),
    C2 = gen_server:send_request(P, two, label_2, C1),
    C3 = gen_server:send_request(P, three, label_3, C2),
    conf:log({sizes, gen_server:reqids_size(C0), gen_server:reqids_size(C1),
              gen_server:reqids_size(C3)}),
    conf:log({labels, lists:sort([L || {_, L} <- gen_server:reqids_to_list(C3)])}),
    R1 = gen_server:receive_response(C3, 1000, true),
    conf:log(col(R1)),
    R2 = gen_server:receive_response(element(3, R1), 1000, true),
    conf:log(col(R2)),
    R3 = gen_server:receive_response(element(3, R2), 1000, true),
    conf:log(col(R3)),
    conf:log({empty, gen_server:receive_response(element(3, R3), 1000, true)}),
    gen_server:stop(P),
    rest().

sr_reqids_delete_false() ->
    P = server(),
    C = gen_server:send_request(P, one, label_1, gen_server:reqids_new()),
    R1 = gen_server:wait_response(C, 1000, false),
    conf:log(col(R1)),
    conf:log({same, element(3, R1) =:= C}),
    conf:log({again, gen_server:wait_response(C, 100, false)}),
    ReqId = gen_server:send_request(P, two),
    C2 = gen_server:reqids_add(ReqId, label_2, C),
    conf:log(col(gen_server:receive_response(C2, 1000, false))),
    gen_server:stop(P),
    rest().

sr_reqids_receive_timeout_abandons_all() ->
    P = server(),
    C1 = gen_server:send_request(P, slow(late_1, 200), label_1, gen_server:reqids_new()),
    C2 = gen_server:send_request(P, slow(late_2, 250), label_2, C1),
    conf:log({receive_response, gen_server:receive_response(C2, 50, true)}),
    sleep(500),
    conf:log({mailbox, conf:flush()}),
    conf:log({still_two, gen_server:reqids_size(C2)}),
    conf:log({nothing_comes, gen_server:wait_response(C2, 100, true)}),
    gen_server:stop(P),
    rest().

sr_reqids_wait_timeout_keeps() ->
    P = server(),
    C1 = gen_server:send_request(P, slow(late_1, 200), label_1, gen_server:reqids_new()),
    conf:log({wait, gen_server:wait_response(C1, 50, true)}),
    conf:log({wait, col(gen_server:wait_response(C1, 1000, true))}),
    gen_server:stop(P),
    rest().

sr_reqids_check_response() ->
    P = server(),
    C = gen_server:send_request(P, hello, label_h, gen_server:reqids_new()),
    Msg = receive M -> M end,
    conf:log({other, gen_server:check_response(junk, C, true)}),
    conf:log({empty, gen_server:check_response(Msg, gen_server:reqids_new(), true)}),
    conf:log({keep, col(gen_server:check_response(Msg, C, false))}),
    conf:log({delete, col(gen_server:check_response(Msg, C, true))}),
    gen_server:stop(P),
    rest().

sr_reqids_badarg() ->
    P = server(),
    R = gen_server:send_request(P, hello),
    C = gen_server:reqids_add(R, label, gen_server:reqids_new()),
    conf:log({twice, conf:attempt(fun() -> gen_server:reqids_add(R, other, C) end)}),
    conf:log({not_a_ref, conf:attempt(fun() -> gen_server:reqids_add(nope, l, C) end)}),
    conf:log({bad_timeout, conf:attempt(fun() -> gen_server:wait_response(R, -1) end)}),
    conf:log({receive_response, col(gen_server:receive_response(C, 1000, true))}),
    gen_server:stop(P),
    rest().

sr_reqids_dead_server() ->
    P = server(),
    Dead = server(dead),
    gen_server:stop(Dead),
    receive {terminate, _} -> ok end,
    C1 = gen_server:send_request(Dead, hello, to_dead, gen_server:reqids_new()),
    C2 = gen_server:send_request(nobody, hello, to_nobody, C1),
    C3 = gen_server:send_request(P, hello, to_live, C2),
    Rs = [col(gen_server:receive_response(C3, 1000, false)) || _ <- [1, 2, 3]],
    conf:log({results, conf:sorted(Rs)}),
    gen_server:stop(P),
    rest().

%% ================================================================ multi_call

sr_multi_call_timeout() ->
    Main = self(),
    {ok, P} = gen_server:start({local, srv}, conf_gs, fun() -> {ok, Main} end, []),
    conf:name(P, server),
    conf:log({multi_call, gen_server:multi_call([node()], srv, slow(late, 200), 50)}),
    sleep(400),
    conf:log({mailbox, conf:flush()}),
    conf:log({multi_call, gen_server:multi_call([node()], srv, hello, 1000)}),
    gen_server:stop(P),
    rest().
