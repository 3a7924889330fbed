"""Every way a LAS call can fail is told to the user in plain Dutch, without codes or jargon."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from ea import koppelen
from ea.models import LasKoppeling, LasType
from uwlr import faults
from uwlr.validation import OngeldigAntwoord

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (faults.AutorisatieOngeldig(), "De autorisatiesleutel wordt door het LAS niet geaccepteerd."),
        (faults.OngeldigeKlantIdentificatie(), "Het LAS herkent deze applicatie niet."),
        (faults.XsdVersieOngeldig(), "Het LAS ondersteunt de gevraagde UWLR-versie niet."),
        (faults.OngeldigBericht(), "Controleer de brincode, dependancecode en het schooljaar."),
        (faults.TijdelijkNietBeschikbaar(), "Het LAS is tijdelijk niet beschikbaar."),
        (faults.InterneFout(), "Er ging iets mis in het LAS (interne fout)."),
        (faults.TransportError("Verbinding mislukt: ConnectError"), "Het LAS is niet bereikbaar."),
        (OngeldigAntwoord(["dubbele sleutel"]), "niet aan de UWLR-standaard voldoen"),
    ],
)
def test_fault_meaning_in_dutch(exc: Exception, expected: str) -> None:
    with translation.override("nl"):
        text = koppelen.melding_voor(exc)
    assert expected in text
    assert "Client." not in text and "Server." not in text and "Error" not in text


def test_las_detail_is_added_as_the_las_message() -> None:
    with translation.override("nl"):
        text = koppelen.melding_voor(faults.AutorisatieOngeldig("Koppeling is gepauzeerd"))
    assert text.endswith("(Melding van het LAS: Koppeling is gepauzeerd)")


def test_connection_type_without_address_is_explained(school: Any) -> None:
    k = LasKoppeling(
        school=school,
        las_type=LasType.objects.get(naam="ESIS"),
        brincode="21QW",
        schooljaar="2025-2026",
        klantcode="X",
        klantnaam="Y",
    )
    k.autorisatiesleutel = "sleutel"
    with translation.override("nl"):
        uitkomst = koppelen.test_verbinding(k)
    assert not uitkomst.ok and "Voor het type koppeling ESIS is nog geen adres ingesteld" in uitkomst.melding


def test_school_without_pupils_is_explained(school: Any, fake_las: Any) -> None:
    # fake_las holds no pupils: the LAS answers geengegevens.
    las_type = LasType.objects.create(naam="Leeg LAS", leerlinggegevens_url=fake_las.url)
    k = LasKoppeling(
        school=school, las_type=las_type, brincode="21QW", schooljaar="2025-2026", klantcode="X", klantnaam="Y"
    )
    k.autorisatiesleutel = fake_las.sleutel
    with translation.override("nl"):
        uitkomst = koppelen.test_verbinding(k)
    assert not uitkomst.ok and "Het LAS heeft geen leerlingen voor deze school en dit schooljaar" in uitkomst.melding


def test_key_unreadable_after_encryption_key_change(school: Any, settings: Any) -> None:
    from ea.crypto import _fernet

    k = LasKoppeling(
        school=school,
        las_type=LasType.objects.get(naam="Koppelpunt (eigen LAS)"),
        brincode="21QW",
        schooljaar="2025-2026",
        klantcode="X",
        klantnaam="Y",
    )
    k.autorisatiesleutel = "21QW00-geheim-1234"
    assert k.sleutel_masker == "••••••••1234"
    assert "21QW00-geheim-1234" not in k.autorisatiesleutel_versleuteld
    settings.FIELD_ENCRYPTION_KEY = "an entirely different server key"
    _fernet.cache_clear()
    assert k.sleutel_masker == "•••••••• ?"
    with translation.override("nl"):
        uitkomst = koppelen.test_verbinding(k)
    assert not uitkomst.ok and "kan niet meer worden gelezen" in uitkomst.melding
