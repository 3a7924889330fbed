"""Koppelen met LAS: clearing old external numbers, calling the LAS of a connection over UWLR, and turning
whatever goes wrong into a plain Dutch sentence for the user."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from ea import crypto
from ea.models import Groep, LasKoppeling, Leerling, School
from uwlr import faults, model, soap
from uwlr.client import SchoolId, UwlrClient, school_mismatch
from uwlr.transport import HttpxTransport, Transport
from uwlr.validation import OngeldigAntwoord

log = logging.getLogger(__name__)
TIMEOUT = 120.0
# Getrapt: groups asked for per HaalLeerlingen/HaalLeerkrachten request (a big school has a thousand groups; one
# request per group would be thousands of round trips).
GROEPEN_PER_VERZOEK = 25

# Tests replace this to point the application at an in-process LAS; production uses real HTTP.
transport_factory: Callable[[], Transport] = HttpxTransport


def verwijder_nummers(school: School) -> tuple[int, int]:
    """ "Verwijder nummers": clear the external numbers of the school's groups and pupils; nothing is deleted.

    Lasting LinkRules are kept, so a re-activated connection still finds the records linked by hand.
    """
    with transaction.atomic():
        groepen = Groep.objects.filter(school=school).exclude(extern_key="").update(extern_key="")
        leerlingen = (
            Leerling.objects.filter(school=school).exclude(extern_key="", eckid="").update(extern_key="", eckid="")
        )
    return groepen, leerlingen


class LasFout(Exception):
    """The LAS could not give us the data; `melding` is plain Dutch for the user."""

    def __init__(self, melding: str, code: str = "") -> None:
        self.melding, self.code = melding, code
        super().__init__(melding)


def melding_voor(exc: BaseException, koppeling: LasKoppeling | None = None) -> str:
    """What a user should read when a call to the LAS failed: cause and what to do, no jargon."""
    las = koppeling.las_type.naam if koppeling else _("the LAS")
    if isinstance(exc, faults.AutorisatieOngeldig):
        text = _(
            "The authorisation key is not accepted by the LAS. Check the key the school created in %(las)s "
            "and whether the connection is active there, then save the correct key."
        ) % {"las": las}
    elif isinstance(exc, faults.OngeldigeKlantIdentificatie):
        text = _(
            "The LAS does not recognise this application. Check that the school activated the connection "
            "for %(app)s in %(las)s."
        ) % {"app": koppeling.klantnaam if koppeling else "", "las": las}
    elif isinstance(exc, faults.XsdVersieOngeldig):
        text = _("The LAS does not support the UWLR version we asked for. Contact the service desk.")
    elif isinstance(exc, faults.OngeldigBericht):
        text = _("The LAS refused the request as invalid. Check the BRIN code, dependance code and school year.")
    elif isinstance(exc, faults.TijdelijkNietBeschikbaar):
        text = _("The LAS is temporarily unavailable. Please try again later.")
    elif isinstance(exc, faults.ServerFault):
        text = _("Something went wrong inside the LAS (internal error). Please try again later.")
    elif isinstance(exc, faults.UwlrFault):
        text = _("The LAS answered with an error (%(code)s).") % {"code": getattr(exc, "raw_code", exc.code)}
    elif isinstance(exc, faults.TransportError):
        text = _("The LAS cannot be reached. Check the address of the connection or try again later.")
    elif isinstance(exc, OngeldigAntwoord):
        text = _("The LAS sent data that do not follow the UWLR standard; nothing has been imported.")
    else:
        text = _("The connection with the LAS failed.")
    detail = getattr(exc, "detail", None)
    if isinstance(exc, faults.UwlrFault) and detail:
        text += " " + _("(Message from the LAS: %(detail)s)") % {"detail": detail}
    return text


@dataclass(frozen=True)
class Uitkomst:
    """The result of "Test verbinding"."""

    ok: bool
    melding: str
    groepen: int = 0
    leerlingen: int = 0
    leerkrachten: int = 0


def _autorisatie(koppeling: LasKoppeling) -> soap.Autorisatie:
    try:
        sleutel = koppeling.autorisatiesleutel
    except crypto.SleutelOnleesbaar:
        raise LasFout(
            _(
                "The stored authorisation key can no longer be read (the server's encryption key has changed). "
                "Enter the key again and save."
            )
        ) from None
    return soap.Autorisatie(autorisatiesleutel=sleutel, klantcode=koppeling.klantcode, klantnaam=koppeling.klantnaam)


def _url(koppeling: LasKoppeling) -> str:
    url = koppeling.las_type.leerlinggegevens_adres
    if not url:
        raise LasFout(
            _("No address has been set for connection type %(las)s yet; the service desk must fill it in first.")
            % {"las": koppeling.las_type.naam}
        )
    return url


def haal_school(koppeling: LasKoppeling) -> model.Leerlinggegevens:
    """All groups, pupils and teachers of the connection's school (getrapt when the LAS type supports it)."""
    url = _url(koppeling)
    las_type = koppeling.las_type
    if koppeling.schoolkey:
        school: SchoolId | str = SchoolId(schoolkey=koppeling.schoolkey)
    else:
        school = SchoolId(koppeling.brincode, koppeling.dependancecode or None)
    autorisatie = _autorisatie(koppeling)
    transport = transport_factory()
    client = UwlrClient(url, las_type.leerresultaten_adres or None, autorisatie, transport, TIMEOUT)
    try:
        antwoord = client.haal_school(
            school,
            koppeling.schooljaar,
            getrapt=las_type.getrapt,
            xsdversie=las_type.xsdversie,
            groepen_per_verzoek=GROEPEN_PER_VERZOEK,
        )
    except (faults.UwlrError, OngeldigAntwoord) as exc:
        log.info("LAS call for koppeling %s failed: %s", koppeling.pk, type(exc).__name__)
        raise LasFout(melding_voor(exc, koppeling), getattr(exc, "code", type(exc).__name__)) from exc
    finally:
        close = getattr(transport, "close", None)
        if callable(close):
            close()
    anders = school_mismatch(school, antwoord.school) if isinstance(antwoord, model.Leerlinggegevens) else None
    if anders:
        log.warning("LAS answered about another school for koppeling %s", koppeling.pk)
        raise LasFout(anders, "AnderSchool")
    if not isinstance(antwoord, model.Leerlinggegevens) or not antwoord.leerlingen:
        raise LasFout(
            _("The LAS has no pupils for this school and school year (%(jaar)s). Check the BRIN code and school year.")
            % {"jaar": koppeling.schooljaar}
        )
    return antwoord


def test_verbinding(koppeling: LasKoppeling) -> Uitkomst:
    """ "Test verbinding" for the service desk: a real call, described in plain Dutch."""
    try:
        data = haal_school(koppeling)
    except LasFout as exc:
        return Uitkomst(False, exc.melding)
    groepen = len(data.groepen) + len(data.samengestelde_groepen)
    return Uitkomst(
        True,
        _("The connection works: the LAS sent %(g)d groups, %(l)d pupils and %(t)d teachers.")
        % {"g": groepen, "l": len(data.leerlingen), "t": len(data.leerkrachten)},
        groepen,
        len(data.leerlingen),
        len(data.leerkrachten),
    )


test_verbinding.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
