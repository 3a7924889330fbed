"""Verification codes and autorisatiesleutels: only ever stored as a keyed hash.

A school types its verification code once; the partner sends the same string in every UWLR request
(`autorisatiesleutel`). We keep HMAC-SHA256(pepper, code) so the code can be looked up (the digest column is
unique and indexed) without being recoverable from a database dump. The pepper lives outside the database
(settings.KEY_PEPPER).

Pepper rotation wraps instead of waiting: `koppelpunt rotate-pepper` replaces every stored digest d by
HMAC(new_pepper, d) in one transaction, so no plain code is needed and no koppeling is lost, and the old
pepper moves to KEY_PEPPER_PREVIOUS (oldest first). A digest is therefore the chain
HMAC(current, HMAC(previous_n, … HMAC(previous_1, code))). A leaked old pepper alone is worthless: every
stored digest is also keyed with the current one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from django.conf import settings


def _mac(pepper: str, value: bytes) -> bytes:
    return hmac.new(pepper.encode(), value, hashlib.sha256).hexdigest().encode()


def peppers() -> list[str]:
    """Every pepper in the chain, oldest first; the current one last."""
    return [*getattr(settings, "KEY_PEPPER_PREVIOUS", []), settings.KEY_PEPPER]


def chain_digest(code: str, chain: Sequence[str]) -> str:
    value = code.encode()
    for pepper in chain:
        value = _mac(pepper, value)
    return value.decode()


def code_digest(code: str) -> str:
    """The digest stored for `code` (64 lower-case hex characters)."""
    return chain_digest(code, peppers())


def code_digests(code: str) -> list[str]:
    """Digests to look `code` up by (`code_hmac__in=code_digests(code)`). One since rotation re-keys in place."""
    return [code_digest(code)]


def wrap_digest(stored_digest: str, new_pepper: str) -> str:
    """Re-key a stored digest under an added pepper, without knowing the code."""
    return _mac(new_pepper, stored_digest.encode()).decode()


def verify_code(code: str, stored_digest: str | None) -> bool:
    """Constant-time check of `code` against a stored digest."""
    if not stored_digest:
        return False
    return hmac.compare_digest(code_digest(code), stored_digest)
