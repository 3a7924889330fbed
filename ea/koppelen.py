"""Koppelen met LAS: requesting a connection, clearing old external numbers, and calling the LAS."""

from __future__ import annotations

from django.db import transaction

from ea.models import Groep, Leerling, School


def verwijder_nummers(school: School) -> tuple[int, int]:
    """"Verwijder nummers": clear the external numbers of the school's groups and pupils; nothing is deleted.

    Lasting LinkRules are kept, so a re-activated connection still finds the records linked by hand.
    """
    with transaction.atomic():
        groepen = Groep.objects.filter(school=school).exclude(extern_key="").update(extern_key="")
        leerlingen = (
            Leerling.objects.filter(school=school).exclude(extern_key="", eckid="").update(extern_key="", eckid="")
        )
    return groepen, leerlingen
