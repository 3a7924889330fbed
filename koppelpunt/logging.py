"""Structured (JSON lines) logging, and one access line per request.

Log records carry identifiers (koppeling id, user id, operation, counts), never keys, codes or pupil data; the
formatters additionally mask anything that looks like a secret that slipped into a message, an extra field or a
traceback.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_SECRETISH = re.compile(
    r"(?i)(autorisatiesleutel|verificatiecode|password|wachtwoord|sleutel|secret|token|pepper|key)"
    r"(\s*[=:]\s*|\"\s*:\s*\"|'\s*:\s*'|>)([^\s\"'<,;&]+)"
)
# Extra fields whose name says they hold a secret are masked whatever their value.
_SECRET_FIELD = re.compile(r"(?i)(sleutel|verificatiecode|password|wachtwoord|secret|token|pepper|^key$|_key$)")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
MASK = "***"


def mask(text: str) -> str:
    """`name=value`-like secrets in free text replaced by ***."""
    return _SECRETISH.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def _field(name: str, value: object) -> object:
    if _SECRET_FIELD.search(name) and value not in (None, ""):
        return MASK
    if isinstance(value, bool | int | float) or value is None:
        return value
    return mask(str(value))


def _message(record: logging.LogRecord) -> str:
    message = record.getMessage()
    # Django's request loggers ("Bad Request: /path") name the path: mask a token in it as the access line does.
    request = getattr(record, "request", None)
    if request is not None and hasattr(request, "path"):
        message = message.replace(str(request.path), _safe_path(request))
    return mask(message)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                if key == "request" and hasattr(value, "path"):
                    entry[key] = f"{getattr(value, 'method', '')} {_safe_path(value)}"  # not the request's repr
                    continue
                entry[key] = _field(key, value)
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One short human-readable line per record (for `koppelpunt demo`); masks secrets like JsonFormatter."""

    def format(self, record: logging.LogRecord) -> str:
        message = _message(record)
        line = f"{datetime.fromtimestamp(record.created).strftime('%H:%M:%S')} {record.levelname:<7} {message}"
        if record.exc_info:
            line += "\n" + mask(self.formatException(record.exc_info))
        return line


access_log = logging.getLogger("koppelpunt.request")


def _safe_path(request: Any) -> str:
    """The path with secret URL parts (a confirmation link's token) replaced by ***."""
    path = str(request.path)
    match = getattr(request, "resolver_match", None)
    for name, value in (getattr(match, "kwargs", None) or {}).items():
        if _SECRET_FIELD.search(name) and isinstance(value, str) and value:
            path = path.replace(value, MASK)
    return path


class RequestLogMiddleware:
    """One INFO line per request: method, path (never the query string), status, duration and ids.

    Views add identifiers through `request.log_ids` (a dict, e.g. {"koppeling_id": 7}); UWLR requests also carry
    the SOAP operation named in the SOAPAction header. Bodies, keys and personal data are never logged.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        started = time.perf_counter()
        response = self.get_response(request)
        if access_log.isEnabledFor(logging.INFO):
            extra: dict[str, object] = {
                "method": request.method,
                "path": _safe_path(request),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            # Only a user the request already loaded: looking one up here would cost a query per request.
            user = getattr(request, "_cached_user", None)
            if user is not None and user.is_authenticated:
                extra["user_id"] = user.pk
            action = request.headers.get("SOAPAction", "").strip('"')
            if action:
                extra["operation"] = action.rsplit("/", 1)[-1][:60]
            for key, value in (getattr(request, "log_ids", None) or {}).items():
                extra[str(key)] = value
            access_log.info("%s %s %s", request.method, extra["path"], response.status_code, extra=extra)
        return response
