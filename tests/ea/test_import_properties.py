"""Properties of the import engine over generated schools: importing is idempotent, new LAS keys never create
duplicates for pupils with an ECK iD, and pupils missing from the LAS are deactivated, never deleted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ea import importer
from ea.models import Applicatie, Leerling, School
from tests.ea.conftest import eckid
from uwlr import model

pytestmark = pytest.mark.django_db

NAMEN = st.sampled_from(["Jansen", "de Vries", "Bakker", "Visser", "Smit", "Yılmaz", "El Amrani", "Nguyen"])


@st.composite
def scholen(draw: Any) -> model.Leerlinggegevens:
    n_groepen = draw(st.integers(1, 3))
    groepen = [model.Groep(key=f"G{i}", naam=f"Groep {i + 3}", jaargroep=str(i + 3)) for i in range(n_groepen)]
    n = draw(st.integers(1, 25))
    leerlingen = []
    for i in range(n):
        leerlingen.append(
            model.Leerling(
                key=f"L{i}",
                eckid=eckid(i) if draw(st.booleans()) else None,
                achternaam=draw(NAMEN),
                roepnaam=draw(st.sampled_from(["Sam", "Noor", "Daan", "Emma", "Finn"])),
                geboortedatum=dt.date(2015, 1, 1) + dt.timedelta(days=draw(st.integers(0, 800))),
                jaargroep="5",
                groep=f"G{draw(st.integers(0, n_groepen - 1))}",
            )
        )
    return model.Leerlinggegevens(
        school=model.School(schooljaar="2025-2026", brincode="21QW"), groepen=groepen, leerlingen=leerlingen
    )


def _summary(school: School, data: model.Leerlinggegevens) -> tuple[Any, dict[str, Any]]:
    run = importer.stage(school, data)
    return run, importer.samenvatting(run)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=scholen(), weg=st.sets(st.integers(0, 24), max_size=5))
def test_import_is_idempotent_rekeys_without_duplicates_and_never_deletes(
    db: Any, data: model.Leerlinggegevens, weg: set[int]
) -> None:
    with transaction.atomic():
        app = Applicatie.objects.create(naam="R", klantcode="R", klantnaam="R")
        school = School.objects.create(applicatie=app, naam="S", brincode="21QW")
        importer.apply(importer.stage(school, data))
        n = len(data.leerlingen)
        assert Leerling.objects.filter(school=school, actief=True).count() == n

        run, s = _summary(school, data)
        assert (s["leerlingen"]["nieuw"], s["leerlingen"]["te_wijzigen"], s["te_deactiveren"]) == (0, 0, 0)
        importer.afbreken(run)

        # The LAS hands out new keys; pupils with an ECK iD are still recognised.
        for p in data.leerlingen:
            if p.eckid:
                p.key = "NEW-" + (p.key or "")
        importer.apply(importer.stage(school, data))
        assert Leerling.objects.filter(school=school).count() == n
        assert Leerling.objects.filter(school=school, actief=True).count() == n
        by_eckid = dict(Leerling.objects.filter(school=school).exclude(eckid="").values_list("eckid", "extern_key"))
        assert by_eckid == {p.eckid: p.key for p in data.leerlingen if p.eckid}

        # Pupils leaving the LAS are deactivated, not deleted (at least one pupil stays: the LAS must send one).
        gebleven = [p for i, p in enumerate(data.leerlingen) if i not in weg] or data.leerlingen[:1]
        vertrokken = {p.key for p in data.leerlingen} - {p.key for p in gebleven}
        data.leerlingen = gebleven
        importer.apply(importer.stage(school, data))
        assert Leerling.objects.filter(school=school).count() == n
        assert set(Leerling.objects.filter(school=school, actief=False).values_list("extern_key", flat=True)) == (
            vertrokken
        )
        transaction.set_rollback(True)
