%% conf: trace helper for the beamlet conformance scenarios (Erlang side).
%%
%% The Python twin is tests/conformance/trace.py; the two must print exactly
%% the same canonical text for the same behaviour. Rules (shared with
%% trace.py, see its header for the Python-side mappings):
%%
%%   * one canonical term per line, no spaces;
%%   * atoms bare when they match [a-z][A-Za-z0-9_@]* and are not reserved
%%     words, otherwise quoted with '' ('EXIT', 'DOWN'); \ and ' escaped;
%%   * integers as digits; tuples {a,b}; lists [a,b] (improper: [a|b]);
%%     binaries <<"...">> (printable ASCII as is, " \ and the rest as \xHH);
%%     maps #{k=>v} with pairs sorted by the printed key;
%%   * pids print as <name>: conf:name(Pid, Name) gives a role name, an
%%     unnamed pid gets <pN> by first appearance;
%%   * refs print as #refN, numbered by first appearance;
%%   * crash reasons: an exit reason {Reason, Stacktrace} (what error(Reason)
%%     leaves behind) prints as {crash,Reason}; Python's vm.Crash prints the
%%     same way, so scenarios never see language-specific crash details.
%%
%% Each scenario runs in a fresh node (see run/3): the scenario function is
%% the body of a process named `main`; when it ends abnormally the runner
%% logs {main_exit,Reason}. The trace lives in a public ETS table so any
%% process may log; scenarios keep logging causally ordered.
-module(conf).

-export([main/1, run/3]).
-export([name/2, log/1, fmt/1]).
-export([attempt/1, info/2, pairs/1, sorted/1, timer_left/1,
         settle/0, flush/0, drain/1]).

-define(T, conf_trace).

%% ---------------------------------------------------------------- runner

%% erl -noshell -run conf main Module Scenario OutFile
main([Mod, Fun, Out]) ->
    try
        run(list_to_atom(Mod), list_to_atom(Fun), Out)
    after
        erlang:halt(0)
    end.

run(Mod, Fun, Out) ->
    logger:set_primary_config(level, none),
    ?T = ets:new(?T, [named_table, public, set]),
    ets:insert(?T, [{ref_counter, 0}, {pid_counter, 0}, {line_counter, 0}]),
    {Pid, Ref} = spawn_monitor(fun() ->
                                       name(self(), main),
                                       Mod:Fun()
                               end),
    receive
        {'DOWN', Ref, process, Pid, normal} -> ok;
        {'DOWN', Ref, process, Pid, Reason} -> log({main_exit, Reason})
    after 30000 ->
            log(scenario_timeout)
    end,
    N = ets:lookup_element(?T, line_counter, 2),
    Lines = [[ets:lookup_element(?T, {line, I}, 2), $\n] || I <- lists:seq(1, N)],
    ok = file:write_file(Out, Lines).

%% ---------------------------------------------------------------- logging

name(Pid, Name) when is_pid(Pid), is_atom(Name) ->
    ets:insert(?T, {{pid, Pid}, atom_to_list(Name)}),
    Pid.

log(Term) ->
    Text = fmt(Term),
    I = ets:update_counter(?T, line_counter, 1),
    ets:insert(?T, {{line, I}, Text}),
    ok.

fmt(Term) ->
    lists:flatten(p(Term)).

p(T) when is_atom(T) -> atom(T);
p(T) when is_integer(T) -> integer_to_list(T);
p(T) when is_float(T) -> float_to_list(T, [short]);
p(T) when is_pid(T) -> "<" ++ pid_name(T) ++ ">";
p(T) when is_reference(T) -> "#ref" ++ integer_to_list(ref_num(T));
p(T) when is_binary(T) -> "<<\"" ++ bin(binary_to_list(T)) ++ "\">>";
p({Reason, Stack} = T) when is_list(Stack), Stack =/= [] ->
    case is_stacktrace(Stack) of
        true -> "{crash," ++ p(Reason) ++ "}";
        false -> tuple(T)
    end;
p(T) when is_tuple(T) -> tuple(T);
p(T) when is_list(T) -> "[" ++ list(T) ++ "]";
p(T) when is_map(T) ->
    Pairs = [{p(K), p(V)} || {K, V} <- maps:to_list(T)],
    "#{" ++ join([K ++ "=>" ++ V || {K, V} <- lists:keysort(1, Pairs)]) ++ "}";
p(T) when is_function(T) -> "#fun";
p(T) when is_port(T) -> "#port".

tuple(T) -> "{" ++ join([p(E) || E <- tuple_to_list(T)]) ++ "}".

list([]) -> "";
list([H]) -> p(H);
list([H | T]) when is_list(T) -> p(H) ++ "," ++ list(T);
list([H | T]) -> p(H) ++ "|" ++ p(T).

join([]) -> "";
join([X]) -> X;
join([X | Xs]) -> X ++ "," ++ join(Xs).

is_stacktrace(Stack) ->
    lists:all(fun({M, F, A, Loc}) when is_atom(M), is_atom(F), is_list(Loc),
                                       (is_integer(A) orelse is_list(A)) -> true;
                 (_) -> false
              end, Stack).

atom(A) ->
    S = atom_to_list(A),
    case bare(S) andalso not lists:member(S, reserved()) of
        true -> S;
        false -> "'" ++ lists:flatmap(fun($') -> "\\'";
                                         ($\\) -> "\\\\";
                                         (C) -> [C]
                                      end, S) ++ "'"
    end.

bare([C | Cs]) when C >= $a, C =< $z ->
    lists:all(fun(X) -> (X >= $a andalso X =< $z) orelse (X >= $A andalso X =< $Z)
                            orelse (X >= $0 andalso X =< $9)
                            orelse X =:= $_ orelse X =:= $@
              end, Cs);
bare(_) -> false.

reserved() ->
    ["after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr",
     "bxor", "case", "catch", "cond", "div", "end", "fun", "if", "let", "not",
     "of", "or", "orelse", "receive", "rem", "try", "when", "xor"].

bin(Bytes) ->
    lists:flatmap(fun(B) when B >= 32, B =< 126, B =/= $", B =/= $\\ -> [B];
                     (B) -> lists:flatten(io_lib:format("\\x~2.16.0b", [B]))
                  end, Bytes).

pid_name(Pid) ->
    case ets:lookup(?T, {pid, Pid}) of
        [{_, Name}] -> Name;
        [] ->
            N = ets:update_counter(?T, pid_counter, 1),
            Name = "p" ++ integer_to_list(N),
            ets:insert(?T, {{pid, Pid}, Name}),
            Name
    end.

ref_num(Ref) ->
    case ets:lookup(?T, {ref, Ref}) of
        [{_, N}] -> N;
        [] ->
            N = ets:update_counter(?T, ref_counter, 1),
            ets:insert(?T, {{ref, Ref}, N}),
            N
    end.

%% ---------------------------------------------------------------- helpers

%% Run F and describe its outcome: {ok,Value}, {error,Reason} (error:R, so
%% badarg and noproc come out as {error,badarg} / {error,noproc}),
%% {exit,Reason} or {throw,Value}.
attempt(F) ->
    try F() of
        V -> {ok, V}
    catch
        error:R -> {error, R};
        exit:R -> {exit, R};
        throw:R -> {throw, R}
    end.

%% process_info/2 reduced to the bare value, with list items in canonical
%% order: undefined for a dead process, [] for registered_name with no name.
info(Pid, Item) ->
    case process_info(Pid, Item) of
        undefined -> undefined;
        [] -> [];
        {Item, V} when Item =:= links; Item =:= monitors;
                       Item =:= monitored_by; Item =:= dictionary ->
            sorted(V);
        {Item, V} -> V
    end.

%% A list of {Key,Value} pairs (get/0, erase/0) in canonical order.
pairs(L) -> sorted(L).

%% Sort a list by the printed form of its elements.
sorted(L) ->
    Keyed = [{fmt(X), X} || X <- L],
    [X || {_, X} <- lists:keysort(1, Keyed)].

%% cancel_timer/read_timer: false, or the atom number for time left.
timer_left(false) -> false;
timer_left(N) when is_integer(N) -> number.

%% Give every process time to reach its next wait.
settle() ->
    receive after 50 -> ok end.

%% Every message now in the mailbox, oldest first.
flush() ->
    receive M -> [M | flush()] after 0 -> [] end.

%% Log every queued {Tag,_} message, oldest first.
drain(Tag) ->
    receive
        {Tag, _} = M -> log(M), drain(Tag)
    after 0 -> ok
    end.
