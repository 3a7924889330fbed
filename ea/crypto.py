"""Encryption at rest of the autorisatiesleutels the application sends to a LAS.

The key is derived with HKDF-SHA256 from settings.FIELD_ENCRYPTION_KEY, so any string works as that setting
(a Fernet key would otherwise have to be exactly 32 url-safe base64 bytes).
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_INFO = b"koppelpunt ea autorisatiesleutel v1"


@cache
def _fernet(secret: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


class SleutelOnleesbaar(Exception):
    """The stored key cannot be decrypted (FIELD_ENCRYPTION_KEY changed or the value was tampered with)."""


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SleutelOnleesbaar("De opgeslagen autorisatiesleutel kan niet worden ontsleuteld.") from None


def mask(value: str) -> str:
    """Show only enough of a key to recognise it: the last four characters (fewer for short keys)."""
    visible = 4 if len(value) >= 12 else min(2, max(len(value) - 4, 0))
    return "\u2022" * 8 + (value[-visible:] if visible else "")
