"""The LAS kinds offered in "Koppelen met LAS" (data, loaded by a data migration and by `ensure`).

Addresses of other vendors are agreed per partner contract and filled in by the application's administrator
(Django admin); our own school side's address is known: `{BASE_URL}` is replaced by this server's address.
"""

from __future__ import annotations

from typing import Any

# (naam, leerlinggegevens_url, leerresultaten_url, getrapt, volgorde)
LAS_TYPES = [
    (
        "Koppelpunt (eigen LAS)",
        "{BASE_URL}/school/uwlr/leerlinggegevens",
        "{BASE_URL}/school/uwlr/leerresultaten",
        True,
        10,
    ),
    ("ESIS", "", "", True, 20),
    ("ParnasSys", "", "", True, 30),
    ("SchoolOAS (DotCom)", "", "", False, 40),
    ("Somtoday", "", "", False, 50),
    ("Magister", "", "", False, 60),
]


def ensure(model: Any = None) -> None:
    """Create the missing LAS types (existing rows keep their admin edits). `model` for migrations."""
    if model is None:
        from ea.models import LasType as model
    for naam, lg, lr, getrapt, volgorde in LAS_TYPES:
        model.objects.get_or_create(
            naam=naam,
            defaults={"leerlinggegevens_url": lg, "leerresultaten_url": lr, "getrapt": getrapt, "volgorde": volgorde},
        )
