"""The JSON parser of every API view: strict JSON, no NUL or lone surrogates, bounded nesting.

PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8, so either one used
to reach the database as a 500; deep nesting used to exhaust Python's recursion limit. Each is now a
400 naming where in the body the bad value sits, e.g. {"rows[3].customer": ["..."]}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.parsers import JSONParser

# Nesting beyond this is never a valid body for this API (the deepest real one is rows → row → value).
DEFAULT_MAX_DEPTH = 32
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def max_depth() -> int:
    return int(getattr(settings, "CVD_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def _where(path: list[str | int]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "body"


def _label(key: str) -> str:
    # A key is shown in the error; its own bad characters must not reach the answer either.
    return _BAD_CHARACTER.sub("\ufffd", key)[:100]


def _problem(text: str) -> str | None:
    match = _BAD_CHARACTER.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "NUL characters (\\u0000) are not allowed."
    return "Unpaired surrogate characters (\\ud800–\\udfff) are not allowed; send valid UTF-16 pairs."


def _looks_bad(value: Any, limit: int) -> bool:
    """Fast pass: is there any bad string or too deep a container? (No paths kept: 300,000 ids take ~30 ms.)"""
    search = _BAD_CHARACTER.search
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str:
            if search(item):
                return True
            continue
        if kind is not dict and kind is not list:
            continue
        if depth >= limit:
            return True
        children = item.values() if kind is dict else item
        if kind is dict and any(search(key) for key in item):
            return True
        for child in children:
            child_kind = type(child)
            if child_kind is str:
                if search(child):
                    return True
            elif child_kind is dict or child_kind is list:
                stack.append((child, depth + 1))
    return False


def check_json_value(value: Any, *, depth_limit: int | None = None) -> None:
    """Raise a ValidationError naming the first string with NUL / a lone surrogate, or nesting past the limit.

    Iterative, so a value built deeper than the recursion limit is checked without recursion; the path
    of the bad value is worked out only when there is one.
    """
    limit = max_depth() if depth_limit is None else depth_limit
    if not _looks_bad(value, limit):
        return
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            problem = _problem(item)
            if problem:
                raise serializers.ValidationError({_where(path): [problem]})
        elif isinstance(item, (dict, list)):
            if len(path) >= limit:
                raise serializers.ValidationError(
                    {_where(path[:3]) if path else "body": [f"JSON is nested deeper than {limit} levels."]}
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    problem = _problem(key)
                    if problem:
                        raise serializers.ValidationError({_where([*path, _label(key)]): [f"In a key: {problem}"]})
                    stack.append((child, [*path, key]))
            else:
                stack.extend((child, [*path, index]) for index, child in enumerate(item))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONParser(JSONParser):
    """JSONParser that refuses NaN/Infinity, NUL, lone surrogates and deep nesting with a 400."""

    def parse(self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding) if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            raise serializers.ValidationError({"body": [f"The body is not valid {encoding}: byte {exc.start}."]}) from exc
        try:
            data = json.loads(text, parse_constant=_no_constants)
        except RecursionError as exc:
            raise serializers.ValidationError({"body": [f"JSON is nested deeper than {max_depth()} levels."]}) from exc
        except ValueError as exc:
            raise serializers.ValidationError({"body": [f"JSON parse error - {exc}"]}) from exc
        if not isinstance(data, (dict, list)):
            # Named after the field the view reads its body into (`rows` for batches), else "body".
            field = getattr(parser_context.get("view"), "json_body_field", "body")
            raise serializers.ValidationError({field: ["Send a JSON object (or, for batches, a list of objects)."]})
        check_json_value(data)
        return data
