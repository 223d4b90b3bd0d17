"""Lenient extraction of the JSON object an LLM was asked to answer with.

Models wrap JSON in Markdown fences or surround it with prose even when told not to. The answer's
object is, in order of preference:

1. the whole text, when it is JSON;
2. the first fenced block (```json ... ``` or plain ```) whose content is JSON;
3. the first ``{`` from which a complete JSON object parses, with any prose before and after it
   (a broken candidate is skipped as a whole, so a fragment of a truncated object is never
   returned).

Example::

    >>> extract_json_object('Sure! ```json\\n{"a": 1}\\n``` Anything else?')
    {'a': 1}
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from ogmem.core import errors

# The info string is optional and free-form (json, JSON, jsonc, ...); the opening line must end
# with a newline, which also keeps fences from matching inside JSON strings (where \n is escaped).
_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)
# An object starts with a key or is empty; testing that first keeps prose braces away from the
# decoder, whose errors cost time proportional to their position (they compute line and column).
_OBJECT_START = re.compile(r'\{\s*["}]')
_DECODER = json.JSONDecoder()
_NO_VALUE = object()


def extract_json_object(text: str) -> dict[str, Any]:
    """Return the JSON object in an LLM answer.

    Parameters:
        text: the model's answer.

    Returns:
        The decoded object; never a list, string or number.

    Raises:
        errors.LLMResponseError: no object found, the candidate is invalid JSON (with the
            position), or the answer's JSON value is not an object.
    """
    for candidate in (text.strip(), *_fenced_blocks(text)):
        value = _loads_or_missing(candidate)
        if value is not _NO_VALUE:
            return _require_object(value)
    return _first_embedded_object(text)


def _fenced_blocks(text: str) -> list[str]:
    return [match.group(1).strip() for match in _FENCE.finditer(text)]


def _loads_or_missing(candidate: str) -> object:
    try:
        return json.loads(candidate)
    except (ValueError, RecursionError):
        return _NO_VALUE


def _require_object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.LLMResponseError(
            f"LLM answer is not a JSON object: top level is {_json_type(value)}"
        )
    return value


def _first_embedded_object(text: str) -> dict[str, Any]:
    # raw_decode tracks strings and escapes itself and stops at the object's closing brace, so
    # braces inside string values and prose after the object are handled.
    first_error: json.JSONDecodeError | None = None
    candidate = _OBJECT_START.search(text)
    while candidate is not None:
        start = candidate.start()
        try:
            value, _end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            first_error = first_error or exc
            # Resume after the error rather than inside the broken candidate: that keeps the scan
            # linear, and a fragment of a truncated object is not the answer.
            candidate = _OBJECT_START.search(text, max(exc.pos, start + 1))
        except RecursionError as exc:
            raise errors.LLMResponseError(
                "LLM answer is not a JSON object: JSON nested too deeply"
            ) from exc
        else:
            return cast(dict[str, Any], value)  # a value that starts with "{" is an object
    raise _not_found(text, first_error)


def _not_found(text: str, error: json.JSONDecodeError | None) -> errors.LLMResponseError:
    brace = text.find("{")
    if error is None and brace != -1:
        # Only prose-like braces ({name}, {'a': 1}); decode the first one to say what is wrong.
        try:
            _DECODER.raw_decode(text, brace)
        except json.JSONDecodeError as exc:
            error = exc
    if error is None:
        return errors.LLMResponseError("LLM answer is not a JSON object: no object found")
    return errors.LLMResponseError(
        f"LLM answer is not a JSON object: invalid JSON at position {error.pos} "
        f"(line {error.lineno}, column {error.colno}): {error.msg}"
    )


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
