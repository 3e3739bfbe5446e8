"""Tools: schemas from signatures and docstrings, argument checks, result text."""

from typing import Literal

import pytest

import vm
from stdlib.agents import tool
from stdlib.agents.tools import result_text, tool_spec, validate_arguments


@tool
def search(query: str, limit: int = 5, exact: bool = False, tags: list[str] = (),
           mode: Literal["fast", "deep"] = "fast", since: float | None = None) -> list:
    """Search the notes for words.

    Args:
        query: the words to look for
        limit: how many notes to return
            at most (a continued line)
        exact (bool): whole words only
    """
    return []


def sphinx_style(path: str, count: int):
    """Read a file.

    :param path: where the file is
    :param int count: how many lines
    """


def test_schema_from_signature_and_google_docstring():
    spec = tool_spec(search)
    assert spec["name"] == "search"
    assert spec["description"] == "Search the notes for words."
    p = spec["parameters"]
    assert p["required"] == ["query"]
    assert p["additionalProperties"] is False
    props = p["properties"]
    assert props["query"] == {"type": "string", "description": "the words to look for"}
    assert props["limit"] == {"type": "integer", "default": 5,
                              "description": "how many notes to return at most (a continued line)"}
    assert props["exact"]["type"] == "boolean"
    assert props["exact"]["description"] == "whole words only"
    assert props["tags"]["type"] == "array" and props["tags"]["items"] == {"type": "string"}
    assert props["mode"]["enum"] == ["fast", "deep"]
    assert props["since"]["type"] == ["number", "null"]


def test_sphinx_docstring_and_defaults():
    spec = tool_spec(sphinx_style)
    props = spec["parameters"]["properties"]
    assert props["path"]["description"] == "where the file is"
    assert props["count"]["description"] == "how many lines"
    assert spec["timeout"] == 30.0 and spec["policy"] == "error" and spec["blocking"] is None


def test_options_are_checked_at_definition():
    with pytest.raises(vm.BadArg, match="unknown option 'timout'"):
        tool(timout=3)
    with pytest.raises(vm.BadArg, match="policy"):
        tool(sphinx_style, policy="explode")
    with pytest.raises(vm.BadArg, match=r"\*args"):
        def star(*args):
            pass
        tool(star)


def test_given_schema_and_name():
    @tool(name="lookup-v2", schema={"type": "object", "properties": {"k": {"type": "string"}}},
          timeout=2.5, policy="crash")
    def lookup(k):
        return k
    spec = tool_spec(lookup)
    assert (spec["name"], spec["timeout"], spec["policy"]) == ("lookup-v2", 2.5, "crash")
    assert lookup("x") == "x"  # still an ordinary function


def test_argument_checks_speak_to_the_model():
    spec = tool_spec(search)
    assert validate_arguments(spec, {"query": "otp"}) is None
    assert "needs query" in validate_arguments(spec, {})
    assert "no parameter colour" in validate_arguments(spec, {"query": "x", "colour": 1})
    assert "limit must be integer" in validate_arguments(spec, {"query": "x", "limit": "5"})
    assert "limit must be integer" in validate_arguments(spec, {"query": "x", "limit": True})
    assert "one of" in validate_arguments(spec, {"query": "x", "mode": "slow"})
    assert validate_arguments(spec, {"query": "x", "since": None}) is None
    assert "not usable" in validate_arguments(spec, ("invalid_json", "arguments are not valid"))


def test_result_text():
    assert result_text("hi") == "hi"
    assert result_text({"a": [1, 2]}) == '{"a": [1, 2]}'
    assert result_text(None) == "null"
    assert result_text("x" * 30000).endswith("more characters cut]")
