"""Samengestelde groepen (niveaugroepen, clusters): imported as groups of their own kind, with their pupils and
teachers; each import makes the membership what the LAS sent, in the import's one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ea import importer
from ea.models import Groep, ImportRun, Leerkracht, Leerling, StagedGroep, StagedLeerling
from tests.ea.conftest import gegevens, goedgekeurde_koppeling, importeer, leerling
from uwlr import model

pytestmark = pytest.mark.django_db

G5A = model.Groep(key="G5A", naam="Groep 5a", jaargroep="5")
G1 = model.Groep(key="G1", naam="Groep 1", jaargroep="1")
PLUS = model.SamengesteldeGroep(key="N1", naam="Rekenen plus")
LEES = model.SamengesteldeGroep(key="N2", naam="Leesclub")


def school_data(
    piet: tuple[str, ...] = ("N1", "N2"),
    sara: tuple[str, ...] | None = ("N1",),
    noor: tuple[str, ...] = (),
    anna: tuple[str, ...] = ("N1",),
) -> model.Leerlinggegevens:
    """Piet and Sara in 5a, Noor in 1; Anna teaches 5a (+ `anna` samengestelde groepen), Kees the Leesclub.
    `sara=None`: Sara is not in the LAS any more."""
    leerlingen = [leerling("L1", "Jansen", "Piet", "G5A", samengestelde_groepen=list(piet))]
    if sara is not None:
        leerlingen.append(leerling("L2", "Visser", "Sara", "G5A", samengestelde_groepen=list(sara)))
    leerlingen.append(leerling("L3", "Smit", "Noor", "G1", samengestelde_groepen=list(noor)))
    data = gegevens(
        groepen=[G5A, G1],
        leerlingen=leerlingen,
        leerkrachten=[
            model.Leerkracht(
                key="T1",
                achternaam="Bakker",
                roepnaam="Anna",
                emailadres="a.bakker@school.example",
                groepen=[model.LeerkrachtGroep(key="G5A")]
                + [model.LeerkrachtGroep(key=k, samengesteld=True) for k in anna],
            ),
            model.Leerkracht(
                key="T2",
                achternaam="Mulder",
                roepnaam="Kees",
                emailadres="k.mulder@school.example",
                groepen=[model.LeerkrachtGroep(key="N2", samengesteld=True)],
            ),
        ],
    )
    data.samengestelde_groepen = [PLUS, LEES]
    return data


def run_import(school: Any, data: model.Leerlinggegevens) -> dict[str, int]:
    return importer.apply(importer.stage(school, data))


def leden(school: Any) -> dict[str, set[str]]:
    """Pupil key → keys of its samengestelde groepen."""
    out: dict[str, set[str]] = {}
    for ll in Leerling.objects.filter(school=school).prefetch_related("samengestelde_groepen"):
        out[ll.extern_key] = {g.extern_key for g in ll.samengestelde_groepen.all()}
    return out


def groepen_van(key: str) -> set[str]:
    return set(Leerkracht.objects.get(extern_key=key).groepen.values_list("extern_key", flat=True))


def membership_rows() -> list[tuple[int, int, int]]:
    through = Leerling.samengestelde_groepen.through
    return list(through.objects.order_by("id").values_list("id", "leerling_id", "groep_id"))


def test_first_import_stores_groups_and_membership_and_repeat_is_a_no_op(school: Any) -> None:
    run = importer.stage(school, school_data())
    assert importer.samenvatting(run)["groepen"]["nieuw"] == 4
    result = importer.apply(run)
    assert (result["lidmaatschappen_toegevoegd"], result["lidmaatschappen_verwijderd"]) == (3, 0)

    soorten = dict(Groep.objects.filter(school=school).values_list("extern_key", "soort"))
    assert soorten == {"G5A": "stamgroep", "G1": "stamgroep", "N1": "samengesteld", "N2": "samengesteld"}
    assert leden(school) == {"L1": {"N1", "N2"}, "L2": {"N1"}, "L3": set()}
    assert Leerling.objects.get(extern_key="L1").groep.extern_key == "G5A"  # the stamgroep stays the stamgroep
    assert groepen_van("T1") == {"G5A", "N1"} and groepen_van("T2") == {"N2"}

    before = membership_rows()
    run = importer.stage(school, school_data())
    s = importer.samenvatting(run)
    for soort in ("groepen", "leerkrachten", "leerlingen"):
        assert (s[soort]["nieuw"], s[soort]["te_wijzigen"]) == (0, 0), soort
    assert not any(importer.apply(run).values())
    assert membership_rows() == before  # not even rewritten


def test_membership_follows_the_las(school: Any) -> None:
    run_import(school, school_data())
    # Piet leaves the Leesclub, Noor joins it, Sara left the school, Anna no longer teaches Rekenen plus.
    data = school_data(piet=("N1",), sara=None, noor=("N2",), anna=())
    run = importer.stage(school, data)
    s = importer.samenvatting(run)
    assert (s["leerlingen"]["te_wijzigen"], s["te_deactiveren"]) == (2, 1)  # Piet and Noor change; Sara goes
    assert s["leerkrachten"]["te_wijzigen"] == 1
    result = importer.apply(run)
    assert (result["lidmaatschappen_toegevoegd"], result["lidmaatschappen_verwijderd"]) == (1, 2)
    assert leden(school) == {"L1": {"N1"}, "L2": set(), "L3": {"N2"}}
    piet = Leerling.objects.get(extern_key="L1")
    assert piet.actief and piet.groep.extern_key == "G5A"  # leaving a samengestelde groep is not leaving school
    assert not Leerling.objects.get(extern_key="L2").actief
    assert groepen_van("T1") == {"G5A"} and groepen_van("T2") == {"N2"}

    assert not any(run_import(school, school_data(piet=("N1",), sara=None, noor=("N2",), anna=())).values())

    # A new niveaugroep for a pupil who is otherwise unchanged.
    data = school_data(piet=("N1", "N3"), sara=None, noor=("N2",), anna=())
    data.samengestelde_groepen.append(model.SamengesteldeGroep(key="N3", naam="Schaakclub"))
    run = importer.stage(school, data)
    assert importer.samenvatting(run)["leerlingen"]["te_wijzigen"] == 1
    importer.apply(run)
    assert leden(school)["L1"] == {"N1", "N3"}
    assert Groep.objects.get(extern_key="N3").soort == Groep.SAMENGESTELD


def test_pupil_not_imported_keeps_its_membership(school: Any) -> None:
    run_import(school, school_data())
    run = importer.stage(school, school_data(piet=()))
    piet = StagedLeerling.objects.get(run=run, key="L1")
    importer.zet_besluit(run, "leerling", piet.pk, "niet")
    importer.apply(run)
    assert leden(school)["L1"] == {"N1", "N2"}


def test_group_not_imported_keeps_its_membership(school: Any) -> None:
    run_import(school, school_data())
    run = importer.stage(school, school_data(piet=("N1",)))
    importer.zet_besluit(run, "groep", StagedGroep.objects.get(run=run, key="N2").pk, "niet")
    assert importer.samenvatting(run)["leerlingen"]["te_wijzigen"] == 0
    assert not any(importer.apply(run).values())
    assert leden(school)["L1"] == {"N1", "N2"}


def test_failed_apply_leaves_membership_unchanged(school: Any, monkeypatch: Any) -> None:
    run_import(school, school_data())
    before = membership_rows()
    data = school_data(piet=(), noor=("N1", "N2"))
    data.leerlingen.append(leerling("L9", "Nieuw", "Kind", "G1", samengestelde_groepen=["N1"]))
    run = importer.stage(school, data)
    # The last write of the transaction fails: the removals before it and everything else are undone.
    monkeypatch.setattr(Leerling.samengestelde_groepen.through.objects, "bulk_create", _refuse)
    with pytest.raises(importer.ImportFout):
        importer.apply(run)
    assert membership_rows() == before
    assert not Leerling.objects.filter(extern_key="L9").exists()
    run.refresh_from_db()
    assert run.state == ImportRun.FAILED


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("the database went away")


def test_pages_show_the_membership(client: Client, beheerder: Any, school: Any, fake_las: Any) -> None:
    """From a real (getrapt) LAS through the wizard to the pupil and group pages, in Dutch."""
    fake_las.data = school_data()
    goedgekeurde_koppeling(school, fake_las, getrapt=True)
    client.force_login(beheerder)
    importeer(client, school)
    run = ImportRun.objects.get(state=ImportRun.STAGED)
    client.post(reverse("ea:import_samenvatting", args=[school.pk, run.pk]), {"actie": "importeren"})
    assert leden(school) == {"L1": {"N1", "N2"}, "L2": {"N1"}, "L3": set()}

    url = reverse("ea:leerlingen", args=[school.pk])
    page = client.get(url).content.decode()
    assert "Samengestelde groepen" in page
    plus, lees = Groep.objects.get(extern_key="N1"), Groep.objects.get(extern_key="N2")
    assert f'<a href="?groep={plus.pk}">Rekenen plus</a>, <a href="?groep={lees.pk}">Leesclub</a>' not in page
    assert f'<a href="?groep={lees.pk}">Leesclub</a>, <a href="?groep={plus.pk}">Rekenen plus</a>' in page

    page = client.get(url, {"status": "groepen"}).content.decode()
    assert "Actieve leerlingen" in page and "Soort" in page
    rij = page.split('data-key="N1"')[1].split("</tr>")[0]
    assert ">samengestelde groep<" in rij and "<td>2</td>" in rij and "Anna Bakker" in rij

    page = client.get(url, {"groep": plus.pk}).content.decode()
    assert "Rekenen plus" in page and "Anna Bakker" in page and "Alle leerlingen" in page
    assert "Piet Jansen" in page and "Sara Visser" in page and "Noor Smit" not in page

    # A teacher who left the LAS is no longer shown with the group.
    fake_las.data = school_data()
    fake_las.data.leerkrachten.pop(0)
    importeer(client, school)
    run = ImportRun.objects.get(state=ImportRun.STAGED)
    client.post(reverse("ea:import_samenvatting", args=[school.pk, run.pk]), {"actie": "importeren"})
    assert not Leerkracht.objects.get(extern_key="T1").actief
    page = client.get(url, {"groep": plus.pk}).content.decode()
    assert "Anna Bakker" not in page and "Piet Jansen" in page
