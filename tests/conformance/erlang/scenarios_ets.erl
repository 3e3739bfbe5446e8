%% Conformance scenarios for ETS: table types, access rights, ownership and
%% heirs, traversal, match specifications, counters, badarg cases.
%%
%% Every exported arity-0 function is a scenario; its Python twin in
%% tests/conformance/scenarios_ets.py has the same name, and the golden trace
%% is golden/ets/<name>.trace. Translation rules (see the Python module):
%% positions count from 1 here and from 0 in Python; objects of set and bag
%% tables are logged sorted (their traversal order is the hash order here,
%% insertion order in beamlet: unspecified in both); conf's own table
%% (conf_trace) exists on this side only, so scenarios never list ets:all().
-module(scenarios_ets).

-export([ets_set_basics/0, ets_set_exact_keys/0, ets_ordered_set_equal_keys/0,
         ets_bag/0, ets_duplicate_bag/0, ets_ordered_traversal/0, ets_hash_traversal/0,
         ets_access_protected/0, ets_access_private/0, ets_access_public/0,
         ets_owner_death_deletes/0, ets_heir_on_owner_death/0, ets_heir_dead_first/0,
         ets_give_away/0, ets_give_away_then_death/0, ets_match_spec_guards/0,
         ets_match_and_match_object/0, ets_select_limit/0, ets_select_count_delete/0,
         ets_update_counter_forms/0, ets_update_counter_errors/0,
         ets_update_element_take/0, ets_errors_badarg/0, ets_named_rename_whereis/0,
         ets_insert_new_and_delete_all/0, ets_keypos/0]).

a(F) -> conf:attempt(F).

%% Run F in a fresh process, return what it returned.
other(F) ->
    Self = self(),
    spawn(fun() -> Self ! {other_result, F()} end),
    receive {other_result, R} -> R end.

%% A process that creates a table with Opts, tells main, then waits for stop.
owner(Role, Name, Opts) ->
    Self = self(),
    P = spawn(fun() ->
                      T = ets:new(Name, Opts),
                      ets:insert(T, {a, 1}),
                      Self ! {made, T},
                      receive stop -> ok end
              end),
    conf:name(P, Role),
    receive {made, T} -> {P, T} end.

sorted(L) -> conf:sorted(L).

ets_set_basics() ->
    T = ets:new(t, [set]),
    conf:log({insert, ets:insert(T, {a, 1})}),
    ets:insert(T, [{b, 2}, {c, 3}]),
    ets:insert(T, {a, 10}),
    conf:log({lookup, ets:lookup(T, a), ets:lookup(T, zz)}),
    conf:log({member, ets:member(T, b), ets:member(T, zz)}),
    conf:log({insert_new, ets:insert_new(T, {b, 0}), ets:insert_new(T, {d, 4})}),
    conf:log({delete, ets:delete(T, c), ets:lookup(T, c)}),
    conf:log({all, sorted(ets:tab2list(T))}),
    conf:log({info, ets:info(T, size), ets:info(T, type), ets:info(T, protection),
              ets:info(T, named_table), ets:info(T, heir)}).

ets_set_exact_keys() ->
    T = ets:new(t, [set]),
    ets:insert(T, [{1, int}, {1.0, float}, {true, atom}]),
    conf:log({lookup, ets:lookup(T, 1), ets:lookup(T, 1.0), ets:lookup(T, true)}),
    conf:log({size, ets:info(T, size)}),
    conf:log({match, ets:match(T, {1, '$1'})}).

ets_ordered_set_equal_keys() ->
    T = ets:new(t, [ordered_set]),
    ets:insert(T, [{1, int}, {1.0, float}]),
    conf:log({all, ets:tab2list(T)}),
    conf:log({lookup, ets:lookup(T, 1), ets:member(T, 1)}),
    conf:log({match_exact, ets:match(T, {1, '$1'}), ets:match(T, {1.0, '$1'})}).

ets_bag() ->
    T = ets:new(t, [bag]),
    [ets:insert(T, {k, V}) || V <- [1, 2, 1, 3]],
    conf:log({one_by_one, ets:lookup(T, k)}),
    T2 = ets:new(t2, [bag]),
    ets:insert(T2, [{k, 1}, {k, 2}, {k, 1}, {k, 3}]),
    conf:log({from_a_list, ets:lookup(T2, k)}),
    ets:delete_object(T, {k, 2}),
    conf:log({delete_object, ets:lookup(T, k), ets:info(T, size)}),
    conf:log({lookup_element, ets:lookup_element(T, k, 2)}),
    conf:log({update_counter, a(fun() -> ets:update_counter(T, k, 1) end)}).

ets_duplicate_bag() ->
    T = ets:new(t, [duplicate_bag]),
    ets:insert(T, [{k, 1}, {k, 2}, {k, 1}]),
    ets:insert(T, {k, 1}),
    conf:log({lookup, ets:lookup(T, k), ets:info(T, size)}),
    ets:delete_object(T, {k, 1}),
    conf:log({delete_object, ets:lookup(T, k)}),
    ets:insert(T, [{j, 1}, {j, 1}]),
    conf:log({take, ets:take(T, j), ets:lookup(T, j)}).

ets_ordered_traversal() ->
    T = ets:new(t, [ordered_set]),
    ets:insert(T, [{K} || K <- [5, b, 1, {1}, [x], 2.5, a, {0, 0}]]),
    conf:log({forward, walk(T, ets:first(T), fun ets:next/2)}),
    conf:log({backward, walk(T, ets:last(T), fun ets:prev/2)}),
    conf:log({from_absent, ets:next(T, 3), ets:prev(T, 3), ets:prev(T, 0), ets:next(T, [y])}),
    conf:log({empty, ets:first(ets:new(e, [ordered_set])), ets:last(ets:new(e, [set]))}).

walk(_T, '$end_of_table', _Step) -> [];
walk(T, K, Step) -> [K | walk(T, Step(T, K), Step)].

ets_hash_traversal() ->
    T = ets:new(t, [set]),
    ets:insert(T, [{K, K} || K <- lists:seq(1, 20)]),
    Keys = walk(T, ets:first(T), fun ets:next/2),
    conf:log({all_once, lists:sort(Keys) =:= lists:seq(1, 20)}),
    conf:log({last_is_first, ets:last(T) =:= ets:first(T)}),
    conf:log({absent, a(fun() -> ets:next(T, absent) end)}),
    conf:log({empty, ets:first(ets:new(e, [bag]))}).

access(T) ->
    other(fun() ->
                  [{lookup, a(fun() -> ets:lookup(T, a) end)},
                   {select, a(fun() -> ets:select(T, [{'_', [], ['$_']}]) end)},
                   {first, a(fun() -> ets:first(T) end)},
                   {insert, a(fun() -> ets:insert(T, {b, 2}) end)},
                   {update_counter, a(fun() -> ets:update_counter(T, a, 1) end)},
                   {delete, a(fun() -> ets:delete(T, b) end)},
                   {info, a(fun() -> ets:info(T, size) end)},
                   {give_away, a(fun() -> ets:give_away(T, self(), gift) end)}]
          end).

ets_access_protected() ->
    T = ets:new(t, [protected]),
    ets:insert(T, {a, 1}),
    [conf:log(X) || X <- access(T)],
    conf:log({owner_sees, ets:tab2list(T)}).

ets_access_private() ->
    T = ets:new(t, [private]),
    ets:insert(T, {a, 1}),
    [conf:log(X) || X <- access(T)],
    conf:log({owner_sees, ets:tab2list(T)}).

ets_access_public() ->
    T = ets:new(t, [public]),
    ets:insert(T, {a, 1}),
    [conf:log(X) || X <- access(T)],
    conf:log({owner_sees, sorted(ets:tab2list(T))}),
    conf:log({delete_by_other, other(fun() -> ets:delete(T) end), ets:info(T)}).

ets_owner_death_deletes() ->
    {P, T} = owner(owner, named, [named_table, public]),
    R = monitor(process, P),
    exit(P, kill),
    receive {'DOWN', R, process, P, Reason} -> conf:log({down, Reason, ets:info(T)}) end,
    conf:log({name_free, ets:new(named, [named_table])}).

ets_heir_on_owner_death() ->
    process_flag(trap_exit, true),
    Self = self(),
    P = spawn(fun() ->
                      T = ets:new(tab, [named_table, {heir, Self, hdata}]),
                      ets:insert(T, {a, 1}),
                      Self ! made,
                      receive stop -> exit(boom) end
              end),
    conf:name(P, owner),
    link(P),
    monitor(process, P),
    receive made -> ok end,
    P ! stop,
    conf:settle(),
    [conf:log(M) || M <- conf:flush()],
    conf:log({owner, ets:info(tab, owner), heir, ets:info(tab, heir)}),
    conf:log({contents, ets:lookup(tab, a)}),
    conf:log({now_writable, ets:insert(tab, {b, 2})}).

ets_heir_dead_first() ->
    Heir = spawn(fun() -> receive _ -> ok end end),
    conf:name(Heir, heir),
    {P, T} = owner(owner, t, [{heir, Heir, data}]),
    HR = monitor(process, Heir),
    exit(Heir, kill),
    receive {'DOWN', HR, _, _, _} -> ok end,
    conf:log({heir_shown, ets:info(T, heir)}),
    R = monitor(process, P),
    P ! stop,
    receive {'DOWN', R, _, _, _} -> ok end,
    conf:log({after_owner, ets:info(T)}),
    conf:log({no_transfer, conf:flush()}).

ets_give_away() ->
    Self = self(),
    T = ets:new(t, []),
    Taker = spawn(fun() ->
                          M = receive X -> X end,
                          Self ! {got, M, a(fun() -> ets:insert(element(2, M), {mine, 1}) end)},
                          receive stop -> ok end
                  end),
    conf:name(Taker, taker),
    Dead = spawn(fun() -> ok end),
    conf:name(Dead, dead),
    DR = monitor(process, Dead),
    receive {'DOWN', DR, _, _, _} -> ok end,
    conf:log({to_self, a(fun() -> ets:give_away(T, self(), x) end)}),
    conf:log({to_dead, a(fun() -> ets:give_away(T, Dead, x) end)}),
    conf:log({to_name, a(fun() -> ets:give_away(T, taker, x) end)}),
    conf:log({given, ets:give_away(T, Taker, #{gift => 1})}),
    receive {got, M, W} -> conf:log({taker_got, M, W}) end,
    conf:log({owner, ets:info(T, owner)}),
    conf:log({again, a(fun() -> ets:give_away(T, self(), x) end)}),
    conf:log({old_owner_writes, a(fun() -> ets:insert(T, {x, 1}) end)}),
    Taker ! stop.

ets_give_away_then_death() ->
    Self = self(),
    T = ets:new(t, [{heir, Self, from_heir}]),
    B = spawn(fun() -> receive {'ETS-TRANSFER', _, _, _} -> ok end,
                       Self ! have_it,
                       receive stop -> ok end end),
    conf:name(B, b),
    ets:give_away(T, B, gift),
    receive have_it -> ok end,
    R = monitor(process, B),
    B ! stop,
    receive {'DOWN', R, _, _, _} -> ok end,
    [conf:log(M) || M <- conf:flush()],
    conf:log({owner, ets:info(T, owner)}).

ets_match_spec_guards() ->
    T = ets:new(t, [ordered_set]),
    ets:insert(T, [{K, K * K} || K <- lists:seq(1, 10)]),
    ets:insert(T, {text, nan}),
    conf:log({big, ets:select(T, [{{'$1', '$2'}, [{'>', '$2', 50}, {is_integer, '$2'}], ['$1']}])}),
    conf:log({between, ets:select(T, [{{'$1', '$2'},
                                       [{'andalso', {'>', '$1', 2}, {'<', '$1', 5}}],
                                       [{{'$2', '$1', sq}}]}])}),
    conf:log({rem4, ets:select(T, [{{'$1', '_'}, [{'==', {'rem', '$1', 4}, 0}], ['$$']}])}),
    conf:log({clauses, ets:select(T, [{{'$1', '_'}, [{'=:=', '$1', 3}], ['$_']},
                                     {{'$1', '_'}, [{'=:=', '$1', 4}], [{const, {four, '$1'}}]}])}),
    conf:log({guard_error, ets:select(T, [{{'$1', '$2'}, [{'>', {'+', '$2', 1}, 90}], ['$1']}])}),
    conf:log({body_error, ets:select(T, [{{'$1', '$2'}, [{'<', '$1', 3}], [{'div', '$2', 0}]}])}),
    conf:log({element, ets:select(T, [{'$1', [{'==', {element, 2, '$1'}, 49}], [{element, 1, '$1'}]}])}),
    conf:log({term_order, ets:select(T, [{{'$1', '_'}, [{'>', '$1', 9}], ['$1']}])}),
    conf:log({list_body, ets:select(T, [{{'$1', '$2'}, [{'<', '$1', 3}], [['$1', {'*', '$1', 2}]]}])}),
    conf:log({unknown_fun, a(fun() -> ets:select(T, [{{'$1', '_'}, [], [{frob, '$1'}]}]) end)}),
    conf:log({unbound, a(fun() -> ets:select(T, [{{'$1', '_'}, [], ['$2']}]) end)}).

ets_match_and_match_object() ->
    T = ets:new(t, [duplicate_bag]),
    ets:insert(T, [{k, 1, 1}, {k, 1, 1.0}, {k, 2, 3}, {k, [1, 2], {x, y}}, {k, true, 1}]),
    conf:log({same_twice, ets:match(T, {k, '$1', '$1'})}),
    conf:log({ones, sorted(ets:match_object(T, {'_', 1, '_'}))}),
    conf:log({nested, ets:match(T, {'_', ['$1', '_'], {'_', '$2'}})}),
    conf:log({atom_true, ets:match_object(T, {k, true, '_'})}),
    conf:log({order, sorted(ets:match(T, {'_', '$2', '$1'}))}),
    conf:log({match_delete, ets:match_delete(T, {k, 1, '_'}), ets:info(T, size)}).

ets_select_limit() ->
    T = ets:new(t, [ordered_set]),
    ets:insert(T, [{K, K * K} || K <- lists:seq(1, 10)]),
    MS = [{{'$1', '_'}, [], ['$1']}],
    {R1, C1} = ets:select(T, MS, 4),
    {R2, C2} = ets:select(C1),
    {R3, C3} = ets:select(C2),
    conf:log({chunks, R1, R2, R3, ets:select(C3)}),
    {M1, MC} = ets:match(T, {'$1', '_'}, 3),
    {M2, _} = ets:match(MC),
    conf:log({match_chunks, M1, M2}),
    {O1, _} = ets:match_object(T, {'_', 100}, 5),
    conf:log({match_object_chunk, O1}),
    conf:log({none, ets:select(T, [{{'$1', '_'}, [{'>', '$1', 100}], ['$1']}], 3)}).

ets_select_count_delete() ->
    [begin
         T = ets:new(t, [Type, public]),
         ets:insert(T, [{K rem 5, K} || K <- lists:seq(0, 19)]),
         N = ets:select_count(T, [{{'_', '$1'}, [{'>=', '$1', 10}], [true]}]),
         D = ets:select_delete(T, [{{'$1', '_'}, [{'==', '$1', 2}], [true]}]),
         NotTrue = ets:select_delete(T, [{{'$1', '_'}, [], ['$1']}]),
         ets:match_delete(T, {3, '_'}),
         conf:log({Type, N, D, NotTrue, sorted(ets:tab2list(T))})
     end || Type <- [set, ordered_set, bag, duplicate_bag]].

ets_update_counter_forms() ->
    T = ets:new(t, [ordered_set]),
    ets:insert(T, {c, 5, 0}),
    conf:log({incr, ets:update_counter(T, c, 1)}),
    conf:log({pos, ets:update_counter(T, c, {3, 10})}),
    conf:log({list, ets:update_counter(T, c, [{2, 1}, {2, 10}])}),
    conf:log({threshold_down, ets:update_counter(T, c, {2, -100, 0, 7})}),
    conf:log({threshold_up, ets:update_counter(T, c, {3, 100, 50, -1})}),
    conf:log({default, ets:update_counter(T, new, 5, {ignored, 10})}),
    conf:log({objects, ets:tab2list(T)}).

ets_update_counter_errors() ->
    T = ets:new(t, [set]),
    ets:insert(T, {c, 5, x}),
    conf:log({not_integer, a(fun() -> ets:update_counter(T, c, {3, 1}) end)}),
    conf:log({the_key, a(fun() -> ets:update_counter(T, c, {1, 1}) end)}),
    conf:log({half_applied, a(fun() -> ets:update_counter(T, c, [{2, 1}, {9, 1}]) end)}),
    conf:log({missing, a(fun() -> ets:update_counter(T, nope, 1) end)}),
    conf:log({short_default, a(fun() -> ets:update_counter(T, nope, {3, 1}, {nope, 0}) end)}),
    conf:log({not_int_incr, a(fun() -> ets:update_counter(T, c, {2, x}) end)}),
    conf:log({unchanged, ets:lookup(T, c)}).

ets_update_element_take() ->
    T = ets:new(t, [set]),
    ets:insert(T, {k, 1, 2}),
    conf:log({update, ets:update_element(T, k, {3, two}), ets:update_element(T, k, [{2, [1]}])}),
    conf:log({missing, ets:update_element(T, nope, {2, 0})}),
    conf:log({key, a(fun() -> ets:update_element(T, k, {1, new}) end)}),
    conf:log({outside, a(fun() -> ets:update_element(T, k, {5, 0}) end)}),
    conf:log({object, ets:lookup(T, k)}),
    conf:log({lookup_element, ets:lookup_element(T, k, 3),
              a(fun() -> ets:lookup_element(T, nope, 2) end),
              a(fun() -> ets:lookup_element(T, k, 4) end)}),
    conf:log({take, ets:take(T, k), ets:take(T, k), ets:info(T, size)}),
    B = ets:new(b, [bag]),
    conf:log({bag_update_element, a(fun() -> ets:update_element(B, k, {2, 0}) end)}).

ets_errors_badarg() ->
    T = ets:new(t, [set]),
    conf:log({not_a_tuple, a(fun() -> ets:insert(T, [{a, 1}, not_a_tuple]) end), ets:tab2list(T)}),
    conf:log({empty_tuple, a(fun() -> ets:insert(T, {}) end)}),
    conf:log({bad_option, a(fun() -> ets:new(x, [bogus]) end)}),
    conf:log({bad_keypos, a(fun() -> ets:new(x, [{keypos, 0}]) end)}),
    ets:new(taken, [named_table]),
    conf:log({name_taken, a(fun() -> ets:new(taken, [named_table]) end)}),
    conf:log({unknown_table, a(fun() -> ets:lookup(no_such_table, k) end)}),
    conf:log({info_unknown_item, a(fun() -> ets:info(T, bogus) end)}),
    conf:log({info_no_table, ets:info(no_such_table), ets:info(no_such_table, size)}),
    ets:delete(T),
    conf:log({deleted, a(fun() -> ets:lookup(T, k) end), a(fun() -> ets:delete(T) end),
              ets:info(T)}),
    conf:log({select_bad_limit, a(fun() -> ets:select(taken, [{'_', [], [true]}], 0) end)}).

ets_named_rename_whereis() ->
    T = ets:new(users, [named_table, public]),
    conf:log({named, T, ets:info(users, name), ets:info(users, named_table)}),
    conf:log({whereis, ets:whereis(users) =:= ets:info(users, id), ets:whereis(nobody)}),
    conf:log({rename, ets:rename(users, people), ets:info(users), ets:info(people, name)}),
    U = ets:new(users, []),
    conf:log({unnamed_rename, ets:rename(U, other) =:= U, ets:info(U, name)}),
    conf:log({whereis_unnamed, ets:whereis(other)}).

ets_insert_new_and_delete_all() ->
    T = ets:new(t, [set]),
    ets:insert(T, {a, 1}),
    conf:log({refused, ets:insert_new(T, [{b, 1}, {a, 2}]), sorted(ets:tab2list(T))}),
    conf:log({accepted, ets:insert_new(T, [{b, 1}, {c, 1}]), sorted(ets:tab2list(T))}),
    conf:log({same_key_in_list, ets:insert_new(T, [{x, 1}, {x, 2}]), ets:lookup(T, x)}),
    conf:log({delete_all, ets:delete_all_objects(T), ets:info(T, size), ets:tab2list(T)}).

ets_keypos() ->
    T = ets:new(t, [{keypos, 2}, ordered_set]),
    ets:insert(T, [{alice, 3, 0}, {bob, 1, 0}, {carol, 2, 0}]),
    conf:log({by_second, ets:tab2list(T), ets:lookup(T, 1), ets:info(T, keypos)}),
    conf:log({counter, ets:update_counter(T, 3, 1), ets:update_counter(T, 3, {3, 5, 3, 0})}),
    conf:log({the_key, a(fun() -> ets:update_counter(T, 3, {2, 1}) end)}),
    conf:log({too_short, a(fun() -> ets:insert(T, {only_one}) end)}),
    conf:log({select_key, ets:select(T, [{{'$1', 2, '_'}, [], ['$1']}])}),
    conf:log({lookup_element, ets:lookup_element(T, 3, 1)}).
