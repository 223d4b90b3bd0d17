from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogmem.core import errors
from ogmem.llm import jsonparse


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [1, 2]}',
        '  \n{"a": 1, "b": [1, 2]}\n',
        '```json\n{"a": 1, "b": [1, 2]}\n```',
        '```\n{"a": 1, "b": [1, 2]}\n```',
        'Here you go:\n```JSON\n{"a": 1, "b": [1, 2]}\n```\nLet me know!',
        'Sure. {"a": 1, "b": [1, 2]} Hope that helps.',
        'I used {braces} in prose first. {"a": 1, "b": [1, 2]}',
        'Open { brace, then the answer: {"a": 1, "b": [1, 2]}',
    ],
)
def test_extracts_the_object(text: str) -> None:
    assert jsonparse.extract_json_object(text) == {"a": 1, "b": [1, 2]}


def test_braces_and_quotes_inside_strings_do_not_end_the_object() -> None:
    obj = {"text": 'a } and a { and an escaped \\" quote', "n": {"deep": "}"}}
    text = f"Result: {json.dumps(obj)} -- done }}"

    assert jsonparse.extract_json_object(text) == obj


def test_first_object_wins() -> None:
    assert jsonparse.extract_json_object('{"a": 1} and {"b": 2}') == {"a": 1}


def test_fenced_block_wins_over_prose_braces() -> None:
    text = 'Think {step}.\n```json\n{"a": 1}\n```\nAlso {"b": 2}'

    assert jsonparse.extract_json_object(text) == {"a": 1}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no object found"),
        ("no json here at all", "no object found"),
        ("[1, 2, 3]", "top level is an array"),
        ('"just a string"', "top level is a string"),
        ("42", "top level is a number"),
        ("true", "top level is a boolean"),
        ("null", "top level is null"),
        ('```json\n[{"a": 1}]\n```', "top level is an array"),
        ('Answer: {"a": 1,}', "invalid JSON at position 16"),
        ("{'a': 1}", "invalid JSON at position 1"),
        ('Truncated: {"a": [1, 2', "invalid JSON at position"),
    ],
)
def test_rejects_with_a_clear_reason(text: str, reason: str) -> None:
    with pytest.raises(errors.LLMResponseError, match="not a JSON object") as caught:
        jsonparse.extract_json_object(text)

    assert reason in str(caught.value)


def test_a_fragment_of_a_truncated_object_is_not_returned() -> None:
    with pytest.raises(errors.LLMResponseError, match="invalid JSON at position"):
        jsonparse.extract_json_object('{"outer": {"inner": 1}, "cut": [')


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(errors.LLMResponseError, match="nested too deeply"):
        jsonparse.extract_json_object('{"a":' * 100_000)


def test_many_stray_braces_stay_cheap() -> None:
    text = "{ " * 200_000 + '{"a": 1}'

    assert jsonparse.extract_json_object(text) == {"a": 1}


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_json_objects = st.dictionaries(st.text(), _json_values, max_size=5)
# Prose excludes braces (they would be candidate objects) and backticks (they would make fences).
_prose = st.text(alphabet=st.characters(blacklist_characters="{}`"), max_size=40)


@given(obj=_json_objects, before=_prose, after=_prose, indent=st.sampled_from([None, 2]))
def test_object_in_prose_round_trips(
    obj: dict[str, Any], before: str, after: str, indent: int | None
) -> None:
    text = before + json.dumps(obj, indent=indent) + after

    assert jsonparse.extract_json_object(text) == obj


@given(obj=_json_objects, before=_prose, after=_prose, lang=st.sampled_from(["", "json", "JSON"]))
def test_object_in_fence_round_trips(
    obj: dict[str, Any], before: str, after: str, lang: str
) -> None:
    text = f"{before}\n```{lang}\n{json.dumps(obj, ensure_ascii=False)}\n```\n{after}"

    assert jsonparse.extract_json_object(text) == obj
