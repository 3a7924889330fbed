"""Who may call the school's UWLR services: the `autorisatie` header checked against the koppelingen.

Check order (UWLR-SPEC §2/§7, as the Topicus reference implementation does it):

1. header present and complete (`uwlr.soap.parse_autorisatie`) → else Client.AutorisatieOngeldig;
2. body format (done by the caller with the `uwlr` parsers) → Client.OngeldigBericht / Client.XsdVersieOngeldig;
3. lockout of this client IP / klantcode / school (`UwlrBlokkade`) → Server.TijdelijkNietBeschikbaar, without any
   key look-up, so a locked-out guesser costs us one indexed query;
4. klantcode + klantnaam must name a partner we know → else Client.OngeldigeKlantIdentificatie;
5. the autorisatiesleutel is looked up by its HMAC (`las.secrets.code_digests`, every accepted pepper) and
   compared again in constant time → unknown: Client.AutorisatieOngeldig;
6. the koppeling's partner must be the caller → else Client.OngeldigeKlantIdentificatie;
   (4–6 are decided from one look-up of the key; each failure counts towards the lockout of the IP, and of
   the klantcode when it is a real partner's);
7. the request's school (brincode + dependancecode, or schoolkey = `Vestiging.key`) must be the koppeling's
   vestiging → else Client.AutorisatieOngeldig (a failed attempt);
8. the koppeling must be usable now: active, confirmed, started, with a code → else Client.AutorisatieOngeldig.

Failed attempts are counted per client IP and per klantcode in the database, so every gunicorn worker sees the
same counters. A klantcode gets a much higher limit than an IP: anyone can send a partner's public klantcode,
and a low limit there would let a stranger lock a real partner out. Failures are also counted per school named
in the request (`school:<code6>`, only for existing vestigingen), so guesses at one school's key from many
addresses and klantcodes add up; while a school is locked out, addresses that exchanged data with it in the
last 30 days keep access, so a stranger cannot shut out the school's real partners. Lockouts show on the
koppeling's page.

The SchoolOAS way: `issue_key` generates an autorisatiesleutel for a koppeling (shown once), stored exactly like a
verification code, so it authenticates the same way.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from las import services
from las.models import (
    CodeSoort,
    Koppeling,
    KoppelingAanbod,
    KoppelingEvent,
    KoppelingStatus,
    UwlrBlokkade,
    Vestiging,
)
from las.secrets import code_digest, code_digests
from uwlr.faults import AutorisatieOngeldig, OngeldigeKlantIdentificatie, TijdelijkNietBeschikbaar
from uwlr.soap import Autorisatie

log = logging.getLogger("las.uwlr")

ONBEKENDE_SLEUTEL = "Autorisatiesleutel is ongeldig of geeft geen toegang tot de gevraagde school."


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_failures_ip() -> int:
    return _setting("UWLR_THROTTLE_FAILURES_IP", 20)


def max_failures_klant() -> int:
    return _setting("UWLR_THROTTLE_FAILURES_KLANT", 200)


def max_failures_school() -> int:
    return _setting("UWLR_THROTTLE_FAILURES_VESTIGING", 50)


def window() -> dt.timedelta:
    return dt.timedelta(seconds=_setting("UWLR_THROTTLE_WINDOW_SECONDS", 600))


@dataclass(frozen=True)
class SchoolId:
    """The school a request names: brincode (+ dependancecode, None meaning 00) or a schoolkey."""

    brincode: str | None = None
    dependancecode: str | None = None
    schoolkey: str | None = None


@dataclass
class Toegang:
    """The outcome of a successful authentication."""

    koppeling: Koppeling

    @property
    def vestiging(self) -> Vestiging:
        return self.koppeling.vestiging


# ---------------------------------------------------------------------------------------------------------------
# Throttling


def _throttle_keys(client_ip: str | None, klantcode: str | None, school: str | None = None) -> list[str]:
    keys = [f"klant:{klantcode[:64]}"] if klantcode else []
    if client_ip:
        keys.insert(0, f"ip:{client_ip}")
    if school:
        keys.append(school)
    return keys


def school_throttle_key(school: SchoolId) -> str | None:
    """`school:<code6>` for the vestiging a request names: guesses at one school's key are counted together,
    however many addresses and klantcodes they come from. None when the request names no existing vestiging."""
    if school.schoolkey is not None:
        v = Vestiging.objects.select_related("school").filter(key=school.schoolkey).first()
        return f"school:{v.code6}" if v is not None else None
    if school.brincode:
        return f"school:{school.brincode}{school.dependancecode or '00'}"
    return None


def _trusted_for_school(client_ip: str | None, sleutel: str) -> bool:
    """A school lockout must not shut out the school's real partners: an address that exchanged data with this
    vestiging successfully in the last 30 days keeps access (only asked while the school is locked out)."""
    from las.models import UwlrToegang

    code6 = sleutel.removeprefix("school:")
    if not client_ip or len(code6) != 6:
        return False
    return UwlrToegang.objects.filter(
        client_ip=client_ip, koppeling__vestiging__school__brincode=code6[:4],
        koppeling__vestiging__dependancecode=code6[4:], uitkomst__in=("ok", "geenwijzigingen", "geengegevens"),
        op__gte=timezone.now() - dt.timedelta(days=30),
    ).exists()


def check_lockout(client_ip: str | None, klantcode: str, school: str | None = None) -> bool:
    """Raise TijdelijkNietBeschikbaar when this IP, klantcode or school (`school_throttle_key`) is locked out now.

    Returns whether the IP has failed attempts on record (so a success knows whether there is anything to reset
    without writing on every request).
    """
    now = timezone.now()
    rows = list(
        UwlrBlokkade.objects.filter(sleutel__in=_throttle_keys(client_ip, klantcode, school))
        .filter(Q(geblokkeerd_tot__gt=now) | Q(mislukt__gt=0)).values_list("sleutel", "geblokkeerd_tot", "mislukt")
    )
    blocked = [(sleutel, tot) for sleutel, tot, _n in rows if tot is not None and tot > now]
    if blocked and all(s.startswith("school:") for s, _t in blocked) and _trusted_for_school(client_ip, blocked[0][0]):
        blocked = []
    if blocked:
        tot = timezone.localtime(max(t for _s, t in blocked))
        raise TijdelijkNietBeschikbaar(
            f"Te veel mislukte aanmeldpogingen vanaf dit adres, voor deze klantcode of voor deze school. "
            f"Probeer het na {tot:%H:%M} opnieuw."
        )
    return any(sleutel.startswith("ip:") and n > 0 for sleutel, _t, n in rows)


def _school_exists(sleutel: str | None) -> bool:
    code6 = (sleutel or "").removeprefix("school:")
    return len(code6) == 6 and Vestiging.objects.filter(school__brincode=code6[:4], dependancecode=code6[4:]).exists()


def record_failure(client_ip: str | None, klantcode: str | None, school: str | None = None) -> None:
    """Count one failed authentication for the IP, (when it is a known partner's) the klantcode and (when it
    exists) the school the request named; lock out when a limit is reached."""
    now = timezone.now()
    limits = {"ip": max_failures_ip(), "klant": max_failures_klant(), "school": max_failures_school()}
    start_of_window = now - window()
    # Only real vestigingen get a counter: random school codes must not grow the table.
    school = school if _school_exists(school) else None
    for sleutel in _throttle_keys(client_ip, klantcode, school):
        limit = limits[sleutel.split(":", 1)[0]]
        with transaction.atomic():
            try:
                with transaction.atomic():
                    rij, created = UwlrBlokkade.objects.select_for_update().get_or_create(
                        sleutel=sleutel, defaults={"venster_start": now, "mislukt": 1, "laatste_poging": now}
                    )
            except IntegrityError:  # another worker created it in the meantime
                rij, created = UwlrBlokkade.objects.select_for_update().get(sleutel=sleutel), False
            if not created:
                if rij.venster_start < start_of_window:
                    rij.venster_start, rij.mislukt = now, 1
                else:
                    rij.mislukt += 1
                rij.laatste_poging = now
            if rij.mislukt >= limit and not rij.actief:
                rij.geblokkeerd_tot = now + window()
                log.warning("uwlr lockout", extra={"blokkade": sleutel, "mislukt": rij.mislukt,
                                                   "tot": rij.geblokkeerd_tot.isoformat()})
            rij.save()


def clear_failures(client_ip: str | None) -> None:
    """A successful authentication resets the IP's counter (not the klantcode's: a stranger may share it)."""
    if client_ip:
        UwlrBlokkade.objects.filter(sleutel=f"ip:{client_ip}", geblokkeerd_tot__isnull=True, mislukt__gt=0).update(
            mislukt=0
        )


def unlock(sleutel: str) -> int:
    """Lift a lockout (service desk)."""
    return UwlrBlokkade.objects.filter(sleutel=sleutel).update(geblokkeerd_tot=None, mislukt=0)


# ---------------------------------------------------------------------------------------------------------------
# Authentication


def _find_koppeling(sleutel: str) -> Koppeling | None:
    digests = code_digests(sleutel)
    candidates = list(
        Koppeling.objects.select_related("vestiging__school", "aanbod").filter(code_hmac__in=digests)
    )
    for koppeling in candidates:
        # The index look-up found the row; compare once more in constant time (defence in depth).
        matched = False
        for digest in digests:
            matched |= hmac.compare_digest(digest, koppeling.code_hmac or "")
        if matched:
            return koppeling
    return None


def _school_matches(vestiging: Vestiging, school: SchoolId) -> bool:
    if school.schoolkey is not None:
        return hmac.compare_digest(school.schoolkey.encode(), vestiging.key.encode())
    return (
        school.brincode == vestiging.school.brincode
        and (school.dependancecode or "00") == vestiging.dependancecode
    )


def _klant_matches(aanbod: KoppelingAanbod, autorisatie: Autorisatie) -> bool:
    return bool(aanbod.klantcode) and aanbod.klantcode == autorisatie.klantcode and (
        aanbod.klantnaam == autorisatie.klantnaam
    )


def authenticate(
    autorisatie: Autorisatie | None, school: SchoolId, client_ip: str | None, *, today: dt.date | None = None
) -> Toegang:
    """Check the header against the koppelingen (steps 3–8 above) and return the koppeling it unlocks.

    The body has been parsed before (its school identification is passed in). Raises the UWLR fault that fits;
    failures that involve a key count towards the lockout.
    """
    if autorisatie is None:
        raise AutorisatieOngeldig("Autorisatieheader is leeg")
    school_key = school_throttle_key(school)
    ip_failures = check_lockout(client_ip, autorisatie.klantcode, school_key)
    koppeling = _find_koppeling(autorisatie.autorisatiesleutel)
    if koppeling is None or not _klant_matches(koppeling.aanbod, autorisatie):
        # Only now ask whether the caller is a partner at all (the happy path saves the query). An unknown
        # klant gets the same answer whether or not the key exists, so this reveals nothing about keys.
        known = KoppelingAanbod.objects.filter(
            klantcode=autorisatie.klantcode, klantnaam=autorisatie.klantnaam).exclude(klantcode="").exists()
        record_failure(client_ip, autorisatie.klantcode if known else None, school_key)
        if not known:
            raise OngeldigeKlantIdentificatie("De klantnaam en/of klantcode is ongeldig.")
        if koppeling is None:
            raise AutorisatieOngeldig(ONBEKENDE_SLEUTEL)
        raise OngeldigeKlantIdentificatie("De klantnaam en/of klantcode hoort niet bij deze autorisatiesleutel.")
    if not _school_matches(koppeling.vestiging, school):
        record_failure(client_ip, autorisatie.klantcode, school_key)
        raise AutorisatieOngeldig(ONBEKENDE_SLEUTEL)
    today = today or timezone.localdate()
    reden = unusable_reason(koppeling, today)
    if reden:
        raise AutorisatieOngeldig(reden)
    if ip_failures:
        clear_failures(client_ip)
    return Toegang(koppeling)


def unusable_reason(koppeling: Koppeling, today: dt.date) -> str:
    """Why a koppeling whose key matched may not be used now (Dutch, for the partner), or '' when it may."""
    if koppeling.status == KoppelingStatus.BEEINDIGD:
        return "De koppeling is door de school beëindigd."
    if koppeling.status == KoppelingStatus.GEPAUZEERD or not koppeling.code_hmac:
        return "De koppeling is door de school gepauzeerd."
    if koppeling.status == KoppelingStatus.WACHT:
        return "De koppeling wacht nog op bevestiging door de leverancier."
    if koppeling.status != KoppelingStatus.ACTIEF:
        return "De koppeling is niet actief."
    if koppeling.startdatum > today:
        return f"De koppeling is actief vanaf {koppeling.startdatum:%d-%m-%Y}."
    return ""


# ---------------------------------------------------------------------------------------------------------------
# Issued keys (SchoolOAS)

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def generate_key(vestiging: Vestiging) -> str:
    """A fresh autorisatiesleutel: the 6-character school code, a dash and 40 random characters (≈ 230 bits)."""
    return f"{vestiging.code6}-" + "".join(secrets.choice(_ALPHABET) for _ in range(40))


def issue_key(koppeling: Koppeling, user: Any) -> str:
    """Replace the koppeling's code with a generated autorisatiesleutel and return it (to be shown once).

    Like entering a new verification code, this resumes a paused koppeling. The key is hashed at once; the plain
    value exists only in the return value.
    """
    if koppeling.status == KoppelingStatus.BEEINDIGD:
        raise ValueError("an ended koppeling gets no key")
    for _attempt in range(3):
        key = generate_key(koppeling.vestiging)
        resumed = services.replace_code(koppeling, code_digest(key), CodeSoort.AUTORISATIESLEUTEL)
        try:
            with transaction.atomic():
                koppeling.save(update_fields=["code_hmac", "code_gewijzigd_op", "kind", "status", "mutatiedatum"])
                services.record_event(
                    koppeling,
                    KoppelingEvent.Soort.RESUMED if resumed else KoppelingEvent.Soort.ROTATED,
                    user if getattr(user, "pk", None) else None,
                    notitie=_("Authorisation key issued"),
                )
        except IntegrityError:  # a 230-bit collision: practically impossible, but never reuse a digest
            continue
        log.info("uwlr key issued", extra={"koppeling_id": koppeling.pk, "vestiging_id": koppeling.vestiging_id})
        return key
    raise RuntimeError("could not issue a unique key")


def school_lockout(vestiging: Vestiging) -> UwlrBlokkade | None:
    """The active lockout of guesses at this vestiging's keys, for the school's pages."""
    return active_lockouts().filter(sleutel=f"school:{vestiging.code6}").first()


def active_lockouts() -> Any:
    return UwlrBlokkade.objects.filter(geblokkeerd_tot__gt=timezone.now())


__all__ = [
    "SchoolId", "Toegang", "authenticate", "check_lockout", "record_failure", "issue_key", "generate_key",
    "unlock", "active_lockouts", "unusable_reason", "school_lockout", "school_throttle_key",
]
