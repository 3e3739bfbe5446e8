%% Conformance scenarios for persistent_term.
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios_persistent_term.py has the same name, and the
%% golden trace is golden/persistent_term/<name>.trace. OTP itself keeps
%% terms here (the Python side keeps none), so counts are logged as
%% differences and listings are filtered to the scenario's own keys.
-module(scenarios_persistent_term).

-export([pt_put_get_erase/0, pt_exact_keys/0, pt_overwrite_and_list/0]).

a(F) -> conf:attempt(F).

count() -> maps:get(count, persistent_term:info()).

mine() ->
    lists:sort([KV || {K, _} = KV <- persistent_term:get(),
                      is_tuple(K), tuple_size(K) =:= 2, element(1, K) =:= scen]).

pt_put_get_erase() ->
    conf:log({put, persistent_term:put({scen, k}, {v, [1, 2]})}),
    conf:log({get, persistent_term:get({scen, k})}),
    conf:log({default, persistent_term:get({scen, missing}, fallback)}),
    conf:log({missing, a(fun() -> persistent_term:get({scen, missing}) end)}),
    conf:log({erase, persistent_term:erase({scen, k}), persistent_term:erase({scen, k})}),
    conf:log({gone, persistent_term:get({scen, k}, gone)}).

pt_exact_keys() ->
    Before = count(),
    persistent_term:put({scen, 1}, int),
    persistent_term:put({scen, 1.0}, float),
    persistent_term:put({scen, true}, atom),
    conf:log({gets, persistent_term:get({scen, 1}), persistent_term:get({scen, 1.0}),
              persistent_term:get({scen, true})}),
    conf:log({count, count() - Before}).

pt_overwrite_and_list() ->
    Before = count(),
    persistent_term:put({scen, a}, 1),
    persistent_term:put({scen, a}, 2),
    persistent_term:put({scen, a}, 2),
    persistent_term:put({scen, b}, #{x => [y]}),
    conf:log({get, persistent_term:get({scen, a}), persistent_term:get({scen, b})}),
    conf:log({listed, mine()}),
    conf:log({count, count() - Before}),
    persistent_term:erase({scen, a}),
    conf:log({after_erase, mine(), count() - Before}).
