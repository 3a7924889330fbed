"""The catalogue of koppelingen is data: las/fixtures/catalogus.json, loaded by a data migration.

`load_catalogue` takes the model classes as arguments so the migration can pass its historical models and
tests (whose transactional flush empties the tables) can reload it with the real ones. It is idempotent:
entries are matched on `slug`; existing rows keep admin edits unless `overwrite=True`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATALOGUS = Path(__file__).resolve().parent / "fixtures" / "catalogus.json"
VOORWAARDEN_DIR = Path(__file__).resolve().parent / "voorwaarden"


def load_catalogue(type_model: Any = None, aanbod_model: Any = None, *, overwrite: bool = False) -> int:
    """Create (or with `overwrite`, reset) every type and offer of the catalogue; returns how many offers it has."""
    if type_model is None or aanbod_model is None:
        from las.models import KoppelingAanbod, KoppelingType

        type_model, aanbod_model = KoppelingType, KoppelingAanbod
    data = json.loads(CATALOGUS.read_text(encoding="utf-8"))
    count = 0
    for entry in data["types"]:
        aanbod = entry.pop("aanbod")
        slug = entry.pop("slug")
        if overwrite:
            ktype, _ = type_model.objects.update_or_create(slug=slug, defaults=entry)
        else:
            ktype, _ = type_model.objects.get_or_create(slug=slug, defaults=entry)
        for item in aanbod:
            item = dict(item)
            item_slug = item.pop("slug")
            item["type"] = ktype
            if overwrite:
                aanbod_model.objects.update_or_create(slug=item_slug, defaults=item)
            else:
                aanbod_model.objects.get_or_create(slug=item_slug, defaults=item)
            count += 1
    return count


def voorwaarden_path(filename: str) -> Path | None:
    """The shipped terms file with this name, or None (never a path outside las/voorwaarden/)."""
    if not filename or "/" in filename or "\\" in filename or filename.startswith("."):
        return None
    path = VOORWAARDEN_DIR / filename
    return path if path.is_file() else None
