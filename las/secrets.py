"""Verification codes and autorisatiesleutels: only ever stored as a keyed hash.

A school types its verification code once; the partner sends the same string in every UWLR request
(`autorisatiesleutel`). We keep HMAC-SHA256(pepper, code) so the code can be looked up (the digest column is
unique and indexed) without being recoverable from a database dump. The pepper lives outside the database
(settings.KEY_PEPPER); during a pepper rotation the previous peppers keep matching until every row is re-keyed.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.views.decorators.debug import sensitive_variables


@sensitive_variables("pepper", "code")
def _digest(pepper: str, code: str) -> str:
    return hmac.new(pepper.encode(), code.encode(), hashlib.sha256).hexdigest()


@sensitive_variables("code")
def code_digest(code: str) -> str:
    """The digest stored for `code` under the current pepper (64 lower-case hex characters)."""
    return _digest(settings.KEY_PEPPER, code)


@sensitive_variables("code")
def code_digests(code: str) -> list[str]:
    """Digests of `code` under the current pepper first, then every previous pepper still accepted.

    Use this for look-ups (`code_hmac__in=code_digests(code)`) and uniqueness checks, so a code stored
    before a pepper rotation is still found.
    """
    peppers = [settings.KEY_PEPPER, *getattr(settings, "KEY_PEPPER_PREVIOUS", [])]
    return [_digest(pepper, code) for pepper in peppers]


@sensitive_variables("code")
def verify_code(code: str, stored_digest: str | None) -> bool:
    """Constant-time check of `code` against a stored digest (any accepted pepper)."""
    if not stored_digest:
        return False
    matched = False
    # Compare against every pepper without short-circuiting, so timing does not reveal which one matched.
    for candidate in code_digests(code):
        matched |= hmac.compare_digest(candidate, stored_digest)
    return matched
