"""Leerlingen beheren: pupils are never deleted; an import deactivates, the admin can reactivate.

Also what the pages show of the groups: stamgroepen and samengestelde groepen with their active pupils and
teachers (a deactivated teacher keeps its group links, as a deactivated pupil keeps its group, but is not shown).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from ea.models import Groep, Leerkracht, Leerling, School


def heractiveer(school: School, ids: Iterable[int]) -> int:
    return Leerling.objects.filter(school=school, pk__in=list(ids), actief=False).update(
        actief=True, deactivated_at=None
    )


def deactiveer(school: School, ids: Iterable[int]) -> int:
    return Leerling.objects.filter(school=school, pk__in=list(ids), actief=True).update(
        actief=False, deactivated_at=timezone.now()
    )


def _actieve_leerkrachten() -> Prefetch:
    return Prefetch("leerkrachten", queryset=Leerkracht.objects.filter(actief=True), to_attr="actieve_leerkrachten")


def leerlingen(school: School) -> QuerySet[Leerling]:
    """The pupils of a school for the list, with their stamgroep and samengestelde groepen in two queries."""
    samengesteld = Groep.objects.filter(gearchiveerd=False).order_by("naam")
    return (
        Leerling.objects.filter(school=school)
        .select_related("groep")
        .prefetch_related(Prefetch("samengestelde_groepen", queryset=samengesteld, to_attr="samengesteld"))
    )


def in_groep(qs: QuerySet[Leerling], groep: Groep) -> QuerySet[Leerling]:
    """The pupils of one group: its stamgroep pupils, or the members of a samengestelde groep."""
    if groep.soort == Groep.SAMENGESTELD:
        return qs.filter(samengestelde_groepen=groep)
    return qs.filter(groep=groep)


def groep(school: School, groep_id: str | None) -> Groep | None:
    if not groep_id or not groep_id.isdigit():
        return None
    return Groep.objects.filter(school=school, pk=int(groep_id)).prefetch_related(_actieve_leerkrachten()).first()


@dataclass
class GroepRegel:
    groep: Groep
    aantal: int
    leerkrachten: list[Leerkracht] = field(default_factory=list)


def groepen(school: School) -> list[GroepRegel]:
    """The school's current groups, stamgroepen first, with the number of active pupils and the active teachers."""
    qs = (
        Groep.objects.filter(school=school, gearchiveerd=False)
        .annotate(
            stam=Count("leerlingen", filter=Q(leerlingen__actief=True), distinct=True),
            samen=Count("samengestelde_leerlingen", filter=Q(samengestelde_leerlingen__actief=True), distinct=True),
        )
        .prefetch_related(_actieve_leerkrachten())
        .order_by("-soort", "naam")  # "stamgroep" sorts after "samengesteld": descending puts it first
    )
    return [
        GroepRegel(g, g.samen if g.soort == Groep.SAMENGESTELD else g.stam, g.actieve_leerkrachten)  # type: ignore[attr-defined]
        for g in qs
    ]
