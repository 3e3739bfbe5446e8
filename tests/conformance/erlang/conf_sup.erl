%% conf_sup: a supervisor whose init/1 returns its argument.
%%
%% Python twin: _ConfSup in tests/conformance/callbacks.py.
-module(conf_sup).
-behaviour(supervisor).

-export([start_link/1, init/1]).

start_link(InitResult) -> supervisor:start_link(?MODULE, InitResult).

init(InitResult) -> InitResult.
