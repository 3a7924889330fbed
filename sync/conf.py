"""Settings of the nightly sync. Each is a Django setting when present, else an environment variable, else the
default, so a deployment sets them in its environment and a test overrides them with `settings`."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    # Local time (Europe/Amsterdam) after which the scheduler plans the night's sync of every connection.
    "KOPPELPUNT_SYNC_TIME": "02:30",
    # A claim whose heartbeat is older than this is taken back (the worker died); keep it well above the longest
    # single step (an HTTP call to a LAS is bounded by KOPPELPUNT_LAS_TIMEOUT).
    "KOPPELPUNT_SYNC_LEASE_SECONDS": 600,
    "KOPPELPUNT_LAS_TIMEOUT": 120,
    # A LAS that is down or answers a Server fault: try again after base·2^(n-1) seconds, at most max seconds.
    "KOPPELPUNT_RETRY_BASE_SECONDS": 60,
    "KOPPELPUNT_RETRY_MAX_SECONDS": 6 * 3600,
    "KOPPELPUNT_SYNC_MAX_ATTEMPTS": 4,
    "KOPPELPUNT_PUSH_MAX_ATTEMPTS": 12,
    # Results per BrengLeerresultaten message.
    "KOPPELPUNT_PUSH_BATCH": 2000,
    # A planned job whose queue message may have been lost is sent to the queue again after this long.
    "KOPPELPUNT_REQUEUE_SECONDS": 600,
}


def get(name: str) -> Any:
    default = DEFAULTS[name]
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    if isinstance(default, int) and not isinstance(value, int):
        try:
            value = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    return value


def sync_time() -> dt.time:
    raw = str(get("KOPPELPUNT_SYNC_TIME")).strip()
    try:
        hours, minutes = raw.split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ImproperlyConfigured(f"KOPPELPUNT_SYNC_TIME must be HH:MM (e.g. 02:30), not {raw!r}") from None


def backoff(attempt: int) -> dt.timedelta:
    """Wait before attempt `attempt + 1`, after `attempt` failed ones: exponential, capped."""
    base = get("KOPPELPUNT_RETRY_BASE_SECONDS")
    seconds = min(base * 2 ** max(attempt - 1, 0), get("KOPPELPUNT_RETRY_MAX_SECONDS"))
    return dt.timedelta(seconds=seconds)
