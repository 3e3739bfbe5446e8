%% conf_worker: a supervised gen_server that announces its life to Main.
%%
%% Python twin: the worker functions in tests/conformance/callbacks.py.
%%
%% start_link(Main, Id[, Opts]) starts a worker that (unless Opts has
%% no_trap) traps exits, sends Main {started, Id, Pid} from its init and
%% {stopped, Id, Reason} from its terminate. {slow_terminate, Ms} makes
%% terminate sleep after announcing. It stops on the casts crash (error
%% boom) and {stop, Reason}.
%%
%% Start functions that do not start a worker (they run in the
%% supervisor): start_fail/2 announces {start_failed, Id} and returns
%% {error, nope}; start_ignore/2 announces {start_ignored, Id} and returns
%% ignore; start_once/2 starts a worker the first time it runs in a given
%% supervisor and fails like start_fail/2 afterwards.
-module(conf_worker).
-behaviour(gen_server).

-export([start_link/2, start_link/3, start_fail/2, start_ignore/2, start_once/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

start_link(Main, Id) -> start_link(Main, Id, []).

start_link(Main, Id, Opts) -> gen_server:start_link(?MODULE, {Main, Id, Opts}, []).

start_fail(Main, Id) ->
    Main ! {start_failed, Id},
    {error, nope}.

start_ignore(Main, Id) ->
    Main ! {start_ignored, Id},
    ignore.

start_once(Main, Id) ->
    case get({started_once, Id}) of
        undefined ->
            put({started_once, Id}, true),
            start_link(Main, Id);
        true ->
            start_fail(Main, Id)
    end.

init({Main, Id, Opts}) ->
    process_flag(trap_exit, not lists:member(no_trap, Opts)),
    Main ! {started, Id, self()},
    {ok, {Main, Id, Opts}}.

handle_call(Req, _From, S) -> {reply, {echo, Req}, S}.

handle_cast(crash, _S) -> error(boom);
handle_cast({stop, Reason}, S) -> {stop, Reason, S}.

handle_info(_Msg, S) -> {noreply, S}.

terminate(Reason, {Main, Id, Opts}) ->
    Main ! {stopped, Id, Reason},
    case lists:keyfind(slow_terminate, 1, Opts) of
        {slow_terminate, Ms} -> receive after Ms -> ok end;
        false -> ok
    end.
