"""Leerlingen beheren: pupils are never deleted; an import deactivates, the admin can reactivate."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from ea.models import Leerling, School


def heractiveer(school: School, ids: Iterable[int]) -> int:
    return Leerling.objects.filter(school=school, pk__in=list(ids), actief=False).update(
        actief=True, deactivated_at=None
    )


def deactiveer(school: School, ids: Iterable[int]) -> int:
    return Leerling.objects.filter(school=school, pk__in=list(ids), actief=True).update(
        actief=False, deactivated_at=timezone.now()
    )
