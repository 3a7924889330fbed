"""Teachers who left the LAS: deactivated (never deleted) by an import that carries the whole teacher list,
reactivated when they come back; hand-made teachers and partial answers deactivate nobody."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ea import importer
from ea.importer import bulk as bulk_module
from ea.models import ImportRun, Leerkracht, Leerling, StagedLeerkracht
from tests.ea.conftest import gegevens, goedgekeurde_koppeling, importeer, leerling
from uwlr import model

pytestmark = pytest.mark.django_db

G5A = model.Groep(key="G5A", naam="Groep 5a", jaargroep="5")
G1 = model.Groep(key="G1", naam="Groep 1", jaargroep="1")


def anna() -> model.Leerkracht:
    return model.Leerkracht(
        key="T1",
        achternaam="Bakker",
        roepnaam="Anna",
        emailadres="a.bakker@school.example",
        groepen=[model.LeerkrachtGroep(key="G5A")],
    )


def kees() -> model.Leerkracht:
    return model.Leerkracht(
        key="T2",
        achternaam="Mulder",
        roepnaam="Kees",
        emailadres="k.mulder@school.example",
        groepen=[model.LeerkrachtGroep(key="G1")],
    )


def school_data(*leerkrachten: model.Leerkracht) -> model.Leerlinggegevens:
    return gegevens(
        groepen=[G5A, G1],
        leerlingen=[leerling("L1", "Jansen", "Piet", "G5A"), leerling("L3", "Smit", "Noor", "G1")],
        leerkrachten=list(leerkrachten),
    )


def run_import(school: Any, data: model.Leerlinggegevens, **kw: Any) -> dict[str, int]:
    return importer.apply(importer.stage(school, data, **kw))


def teachers(school: Any) -> list[tuple[Any, ...]]:
    fields = ("id", "extern_key", "achternaam", "email", "actief", "deactivated_at")
    return list(Leerkracht.objects.filter(school=school).order_by("id").values_list(*fields))


@pytest.fixture
def handmatig(school: Any) -> Leerkracht:
    """A teacher the school created in the application itself: no LAS key, never touched by an import."""
    return Leerkracht.objects.create(school=school, achternaam="Eigen", roepnaam="Ed", email="ed@school.example")


def test_missing_teacher_is_deactivated_then_reactivated_and_repeats_are_no_ops(
    school: Any, handmatig: Leerkracht
) -> None:
    run_import(school, school_data(anna(), kees()))
    t2 = Leerkracht.objects.get(extern_key="T2")
    assert t2.actief and t2.deactivated_at is None

    run = importer.stage(school, school_data(anna()))
    s = importer.samenvatting(run)
    assert (s["leerkrachten_te_deactiveren"], s["te_deactiveren"]) == (1, 0)
    result = importer.apply(run)
    assert (result["leerkrachten_gedeactiveerd"], result["leerlingen_gedeactiveerd"]) == (1, 0)
    t2.refresh_from_db()
    assert not t2.actief and t2.deactivated_at is not None
    assert Leerkracht.objects.filter(pk=t2.pk).exists()  # never deleted
    handmatig.refresh_from_db()
    assert handmatig.actief and handmatig.deactivated_at is None
    assert Leerkracht.objects.get(extern_key="T1").actief

    # The same answer again: nothing to deactivate, nothing written, the timestamp stays the first one.
    before = teachers(school)
    run = importer.stage(school, school_data(anna()))
    s = importer.samenvatting(run)
    assert s["leerkrachten_te_deactiveren"] == 0
    assert (s["leerkrachten"]["nieuw"], s["leerkrachten"]["te_wijzigen"]) == (0, 0)
    assert not any(importer.apply(run).values())
    assert teachers(school) == before

    # Kees is back in the LAS: the same record, active again, no timestamp.
    run = importer.stage(school, school_data(anna(), kees()))
    s = importer.samenvatting(run)
    assert (s["leerkrachten"]["nieuw"], s["leerkrachten"]["te_wijzigen"], s["leerkrachten_te_deactiveren"]) == (
        0,
        1,
        0,
    )
    assert importer.apply(run)["leerkrachten_gewijzigd"] == 1
    t2.refresh_from_db()
    assert t2.actief and t2.deactivated_at is None
    assert Leerkracht.objects.filter(school=school).count() == 3
    before = teachers(school)
    assert not any(run_import(school, school_data(anna(), kees())).values())
    assert teachers(school) == before


def test_answers_without_the_whole_teacher_list_deactivate_nobody(school: Any, handmatig: Leerkracht) -> None:
    run_import(school, school_data(anna(), kees()))
    before = teachers(school)

    # A HaalLeerkrachten answer for one group (no structure): not the whole list.
    alleen_g5a = model.Leerlinggegevens(school=model.School(schooljaar="2025-2026"), leerkrachten=[anna()])
    run = importer.stage(school, alleen_g5a)
    assert not run.leerkrachten_compleet and importer.samenvatting(run)["leerkrachten_te_deactiveren"] == 0
    assert importer.apply(run)["leerkrachten_gedeactiveerd"] == 0
    # A whole-school answer of a data set without teachers: "not sent" is not "everybody left".
    run = importer.stage(school, school_data())
    assert not run.leerkrachten_compleet
    assert importer.apply(run)["leerkrachten_gedeactiveerd"] == 0
    # The caller knows better than the shape: a pull it knows to be partial.
    assert run_import(school, school_data(anna()), leerkrachten_compleet=False)["leerkrachten_gedeactiveerd"] == 0
    assert teachers(school) == before

    # ... or complete (HaalLeerkrachten for every group and the key-less reference).
    assert run_import(school, alleen_g5a, leerkrachten_compleet=True)["leerkrachten_gedeactiveerd"] == 1
    assert not Leerkracht.objects.get(extern_key="T2").actief
    handmatig.refresh_from_db()
    assert handmatig.actief


def test_teacher_set_to_not_import_is_not_missing(school: Any) -> None:
    run_import(school, school_data(anna(), kees()))
    run = importer.stage(school, school_data(anna(), kees()))
    row = StagedLeerkracht.objects.get(run=run, key="T2")
    importer.zet_besluit(run, "leerkracht", row.pk, "niet")
    assert importer.samenvatting(run)["leerkrachten_te_deactiveren"] == 0
    assert importer.apply(run)["leerkrachten_gedeactiveerd"] == 0
    assert Leerkracht.objects.get(extern_key="T2").actief


def test_teacher_linked_by_hand_becomes_a_las_teacher(school: Any, handmatig: Leerkracht) -> None:
    """A hand-made teacher the wizard links to a LAS teacher takes its key: from then on the LAS decides."""
    run_import(school, school_data(anna()))
    run = importer.stage(school, school_data(anna(), kees()))
    importer.koppel_handmatig(run, "leerkracht", StagedLeerkracht.objects.get(run=run, key="T2").pk, handmatig.pk)
    importer.apply(run)
    handmatig.refresh_from_db()
    assert handmatig.extern_key == "T2" and handmatig.actief
    assert run_import(school, school_data(anna()))["leerkrachten_gedeactiveerd"] == 1
    handmatig.refresh_from_db()
    assert not handmatig.actief


def test_failed_apply_deactivates_nobody(school: Any, monkeypatch: Any) -> None:
    run_import(school, school_data(anna(), kees()))
    before = teachers(school)
    data = school_data(anna())
    data.leerlingen.append(leerling("L9", "Nieuw", "Kind", "G1"))
    run = importer.stage(school, data)
    assert importer.samenvatting(run)["leerkrachten_te_deactiveren"] == 1

    # The database refuses the new pupil (NOT NULL school) after the teachers were written.
    def failing(rows: Any, converters: Any) -> Any:
        out = real(rows, converters)
        if out and len(out[0]) == 11:  # the new-pupil insert
            out[0] = (None, *out[0][1:])
        return out

    real = bulk_module._convert
    monkeypatch.setattr(bulk_module, "_convert", failing)
    with pytest.raises(importer.ImportFout):
        importer.apply(run)
    assert teachers(school) == before
    run.refresh_from_db()
    assert run.state == ImportRun.FAILED


def test_summary_screen_shows_teachers_next_to_pupils(
    client: Client, beheerder: Any, school: Any, fake_las: Any
) -> None:
    """Through the wizard and a real (getrapt) LAS: the merged stepped pull is a whole-school answer too."""
    run_import(school, school_data(anna(), kees()))
    Leerling.objects.create(school=school, achternaam="Weg", roepnaam="Wim", extern_key="L8", groep_id=None)
    fake_las.data = school_data(anna())
    fake_las.data.leerlingen.pop()  # Noor left too
    goedgekeurde_koppeling(school, fake_las, getrapt=True)
    client.force_login(beheerder)
    importeer(client, school)
    assert fake_las.calls[0] == "HaalStructuur" and "HaalLeerkrachten" in fake_las.calls
    run = ImportRun.objects.get(state=ImportRun.STAGED)
    assert run.leerkrachten_compleet
    url = reverse("ea:import_samenvatting", args=[school.pk, run.pk])
    page = client.get(url).content.decode()
    assert re.search(r'id="te-deactiveren">1 leerling van een geïmporteerde groep', page)
    assert re.search(r'id="leerkrachten-te-deactiveren">1 leerkracht uit het LAS staat daar niet meer in', page)
    page = client.post(url, {"actie": "importeren"}, follow=True).content.decode()
    assert "1 leerkracht(en) die niet meer in het LAS staan, zijn gedeactiveerd." in page
    assert not Leerkracht.objects.get(extern_key="T2").actief
    assert not Leerling.objects.get(extern_key="L3").actief
    assert Leerling.objects.get(extern_key="L8").actief  # in no group: not the import's to judge
