"""Structured (JSON lines) logging.

Log records carry identifiers (koppeling id, operation, counts), never keys, codes or pupil data; the
formatter additionally masks anything that looks like a secret that slipped into a message.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_SECRETISH = re.compile(r"(?i)(autorisatiesleutel|verificatiecode|password|sleutel|key)(\s*[=:]\s*)(\S+)")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = _SECRETISH.sub(r"\1\2***", record.getMessage())
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One short human-readable line per record (for `koppelpunt demo`); masks secrets like JsonFormatter."""

    def format(self, record: logging.LogRecord) -> str:
        message = _SECRETISH.sub(r"\1\2***", record.getMessage())
        line = f"{datetime.fromtimestamp(record.created).strftime('%H:%M:%S')} {record.levelname:<7} {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line
