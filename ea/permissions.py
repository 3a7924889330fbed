from __future__ import annotations

from typing import Any


def is_application_user(user: Any) -> bool:
    """True for an application admin or a service-desk (klantenservice) user."""
    return False
