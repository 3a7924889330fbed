"""The application side against our own school side over real HTTP (Django's live server): the UWLR client
fetches the school getrapt from /school/uwlr/leerlinggegevens, the wizard engine imports it, and changes in the
LAS (a pupil leaving, a pupil moving group, the school pausing the koppeling) arrive as they should."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from ea import importer, koppelen
from ea.forms import huidig_schooljaar
from ea.models import Groep, LasKoppeling, LasType, Leerkracht, Leerling
from tests.ea.own_las import SLEUTEL, las_data, own_las_endpoint, rekenwereld_koppeling, seed_own_las

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not own_las_endpoint(), reason="the school side has no UWLR endpoint in this checkout"),
]


@pytest.fixture
def koppeling(live_server: Any, settings: Any) -> LasKoppeling:
    settings.BASE_URL = live_server.url
    seed_own_las(las_data(huidig_schooljaar()))
    k: LasKoppeling = rekenwereld_koppeling()
    return k


def _import(k: LasKoppeling) -> dict[str, int]:
    return importer.apply(importer.stage(k.school, koppelen.haal_school(k), koppeling=k))


def test_import_from_our_own_las_then_follow_its_changes(koppeling: LasKoppeling) -> None:
    assert LasType.objects.get(naam="Koppelpunt (eigen LAS)").getrapt
    run = importer.stage(koppeling.school, koppelen.haal_school(koppeling), koppeling=koppeling)
    importer.zet_email(run, run.leerkrachten.get(key="T2").pk, "k.mulder@school.example")  # the LAS has none
    result = importer.apply(run)
    assert (result["groepen_nieuw"], result["leerkrachten_nieuw"], result["leerlingen_nieuw"]) == (2, 2, 3)
    piet = Leerling.objects.get(extern_key="L1")
    assert piet.eckid.startswith("https://ketenid.nl/pilot/") and piet.groep.extern_key == "G5A"
    assert Leerkracht.objects.get(extern_key="T1").email == "a.bakker@school.example"

    # Unchanged LAS: nothing new, nothing changed.
    run = importer.stage(koppeling.school, koppelen.haal_school(koppeling), koppeling=koppeling)
    s = importer.samenvatting(run)
    assert [(s[k]["nieuw"], s[k]["te_wijzigen"]) for k in ("groepen", "leerkrachten", "leerlingen")] == [(0, 0)] * 3
    importer.afbreken(run)

    # In the LAS: Sara leaves the school, Noor moves to Groep 5a.
    from las.models import Groep as LasGroep
    from las.models import Leerling as LasLeerling

    LasLeerling.objects.get(key="L2").delete()
    noor = LasLeerling.objects.get(key="L3")
    noor.groep = LasGroep.objects.get(key="G5A")
    noor.save()
    result = _import(koppeling)
    assert (result["leerlingen_nieuw"], result["leerlingen_gewijzigd"], result["leerlingen_gedeactiveerd"]) == (0, 1, 1)
    assert not Leerling.objects.get(extern_key="L2").actief
    assert Leerling.objects.get(extern_key="L3").groep == Groep.objects.get(extern_key="G5A")
    assert Leerling.objects.count() == 3


def test_wrong_key_and_paused_koppeling_are_plain_dutch(koppeling: LasKoppeling) -> None:
    from las import services
    from las.models import Koppeling

    koppeling.autorisatiesleutel = "21QW00-niet-de-goede-sleutel"
    with translation.override("nl"), pytest.raises(koppelen.LasFout) as exc:
        koppelen.haal_school(koppeling)
    assert exc.value.melding.startswith("De autorisatiesleutel wordt door het LAS niet geaccepteerd.")

    koppeling.autorisatiesleutel = SLEUTEL
    services.pause(Koppeling.objects.get(), None)
    with translation.override("nl"):
        uitkomst = koppelen.test_verbinding(koppeling)
    assert not uitkomst.ok and "De autorisatiesleutel wordt door het LAS niet geaccepteerd." in uitkomst.melding
