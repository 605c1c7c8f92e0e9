"""Request parameters checked at the edge: each bad value becomes a BadParameter sentence."""
from __future__ import annotations

import datetime
import re
from typing import Any

from service.errors import BadParameter
from service.search import FILTER_FIELDS, MODES, Filters

MAX_QUERY_CHARS = 500
MAX_HISTORY_TURNS = 20
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


def text_param(value: Any, name: str, limit: int = MAX_QUERY_CHARS, required: bool = True) -> str:
    """A non-empty string of at most `limit` characters, stripped."""
    if value is None:
        if required:
            raise BadParameter(f"The parameter {name!r} is required.")
        return ""
    if not isinstance(value, str):
        raise BadParameter(f"The parameter {name!r} must be a string, not {type(value).__name__}.")
    value = value.replace("\x00", "").strip()
    if required and not value:
        raise BadParameter(f"The parameter {name!r} must not be empty.")
    if len(value) > limit:
        raise BadParameter(f"The parameter {name!r} is {len(value)} characters long; at most {limit} are allowed.")
    return value


def int_param(value: Any, name: str, default: int, low: int, high: int) -> int:
    """An integer in [low, high]; strings of digits are accepted (query strings)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BadParameter(f"The parameter {name!r} must be a whole number from {low} to {high}.")
    try:
        number = int(value) if isinstance(value, (int, str)) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise BadParameter(f"The parameter {name!r} must be a whole number from {low} to {high}; got {str(value)[:40]!r}.")
    return number


def date_param(value: Any, name: str) -> str:
    """A calendar date written YYYY-MM-DD (returned as given), or "" when absent."""
    if value is None or value == "":
        return ""
    text = value.strip() if isinstance(value, str) else ""
    try:
        valid = bool(_ISO_DATE.fullmatch(text)) and bool(datetime.date.fromisoformat(text))
    except ValueError:
        valid = False
    if not valid:
        raise BadParameter(f"The parameter {name!r} must be a date written YYYY-MM-DD, such as 2024-03-31; "
                           f"got {str(value)[:40]!r}.")
    return text


def bool_param(value: Any, name: str) -> bool | None:
    """true/false (also 1/0, yes/no), or None when absent."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadParameter(f"The parameter {name!r} must be true or false; got {str(value)[:40]!r}.")


def mode_param(value: Any) -> str:
    if value in (None, ""):
        return "hybrid"
    if value not in MODES:
        raise BadParameter(f"The parameter 'mode' must be one of {', '.join(MODES)}.")
    return value


def filters_param(source: Any) -> Filters:
    """Filters from query-string arguments or a JSON object."""
    if source is None:
        return Filters()
    if not hasattr(source, "get"):
        raise BadParameter("The 'filters' must be an object with issuer, level, region, year, section or area.")
    unknown = [key for key in source.keys() if key not in FILTER_FIELDS] if isinstance(source, dict) else []
    if unknown:
        raise BadParameter(f"Unknown filter {unknown[0]!r}; filters are {', '.join(FILTER_FIELDS)}.")
    values = {}
    for name in FILTER_FIELDS:
        raw = source.get(name)
        if name == "year":
            values[name] = int_param(raw, "year", 0, 1949, 2100) or None if raw not in (None, "") else None
        else:
            values[name] = text_param(raw, name, limit=50, required=False) if raw is not None else ""
    return Filters(**values)


def history_param(value: Any) -> list[dict]:
    """Chat history: a list of {question, answer} objects, the most recent last."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadParameter("The 'history' must be a list of {question, answer} objects.")
    if len(value) > MAX_HISTORY_TURNS:
        value = value[-MAX_HISTORY_TURNS:]
    turns = []
    for turn in value:
        if not isinstance(turn, dict):
            raise BadParameter("Each turn of 'history' must be an object with 'question' and 'answer'.")
        question = text_param(turn.get("question"), "history.question", required=False)
        resolved = text_param(turn.get("resolved_question"), "history.resolved_question", required=False)
        answer = text_param(turn.get("answer"), "history.answer", limit=20_000, required=False)
        turns.append({"question": question, "resolved_question": resolved, "answer": answer})
    return turns
