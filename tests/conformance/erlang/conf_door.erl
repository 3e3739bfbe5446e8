%% conf_door: a door lock in state_functions mode with state enter calls.
%%
%% Python twin: _ConfDoor in tests/conformance/callbacks.py.
%%
%% locked: {button, B} calls collect digits and reply more / wrong, or open
%% when the code is complete; open: relocks after a 300 ms state timeout,
%% and postpones buttons until then. status replies with the state. Enter
%% calls are reported to Main as {enter, State, OldState}.
-module(conf_door).
-behaviour(gen_statem).

-export([callback_mode/0, init/1, locked/3, open/3]).

callback_mode() -> [state_functions, state_enter].

init({Main, Code}) -> {ok, locked, {Main, Code, []}}.

locked(enter, Old, {Main, _, _}) ->
    Main ! {enter, locked, Old},
    keep_state_and_data;
locked({call, From}, {button, B}, {Main, Code, Sofar}) ->
    case Sofar ++ [B] of
        Code ->
            {next_state, open, {Main, Code, []}, [{reply, From, open}]};
        Digits when length(Digits) < length(Code) ->
            {keep_state, {Main, Code, Digits}, [{reply, From, more}]};
        _ ->
            {keep_state, {Main, Code, []}, [{reply, From, wrong}]}
    end;
locked({call, From}, status, _) ->
    {keep_state_and_data, [{reply, From, locked}]}.

open(enter, Old, {Main, _, _}) ->
    Main ! {enter, open, Old},
    {keep_state_and_data, [{state_timeout, 300, relock}]};
open(state_timeout, relock, Data) ->
    {next_state, locked, Data};
open({call, _From}, {button, _}, _) ->
    {keep_state_and_data, [postpone]};
open({call, From}, status, _) ->
    {keep_state_and_data, [{reply, From, open}]}.
