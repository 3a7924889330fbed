from __future__ import annotations

from typing import Any


def is_school_user(user: Any) -> bool:
    """True for a user who administers koppelingen for at least one vestiging."""
    return False
