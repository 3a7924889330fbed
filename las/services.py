"""State changes of a koppeling. Each one writes a KoppelingEvent and a log line with ids only.

The plain code is passed in, hashed, and dropped: it never reaches a model field, a log record or the session.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from las.models import (
    CodeSoort,
    Koppeling,
    KoppelingAanbod,
    KoppelingEvent,
    KoppelingStatus,
    Vestiging,
)
from las.secrets import code_digest

log = logging.getLogger("las.koppelingen")
Soort = KoppelingEvent.Soort

BEVESTIGING_SALT = "las.koppeling.bevestigen"


class CodeInUse(Exception):
    """The code's HMAC collided with another koppeling's (lost a race with a concurrent activation)."""


class AlreadyRunning(Exception):
    """The vestiging already has a running koppeling for this offer."""


def _who(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def record_event(
    koppeling: Koppeling, soort: str, user: Any = None, wie: str = "", notitie: str = ""
) -> KoppelingEvent:
    event = KoppelingEvent.objects.create(
        koppeling=koppeling, soort=soort, user=user if getattr(user, "pk", None) else None,
        wie=wie or _who(user), notitie=notitie,
    )
    log.info(
        "koppeling %s", soort,
        extra={"koppeling_id": koppeling.pk, "vestiging_id": koppeling.vestiging_id, "aanbod_id": koppeling.aanbod_id,
               "event": soort, "user_id": getattr(user, "pk", None), "status": koppeling.status},
    )
    return event


def _save_code(koppeling: Koppeling, fields: list[str]) -> None:
    try:
        with transaction.atomic():
            koppeling.save(update_fields=[*fields, "mutatiedatum"] if koppeling.pk else None)
    except IntegrityError as exc:
        message = str(exc)
        if "code_hmac" in message:
            raise CodeInUse from None
        if "one_running" in message or "aanbod_id" in message:
            raise AlreadyRunning from None
        raise


@sensitive_variables("code")
def activate(
    *, vestiging: Vestiging, aanbod: KoppelingAanbod, user: Any, naam: str, startdatum: dt.date, code: str,
    confirm_url_builder: Any = None,
) -> Koppeling:
    """Create an active (or, when the partner must confirm, pending) koppeling and log it."""
    status = KoppelingStatus.WACHT if aanbod.bevestiging_vereist else KoppelingStatus.ACTIEF
    now = timezone.now()
    koppeling = Koppeling(
        vestiging=vestiging, aanbod=aanbod, activated_by=user, naam=naam, akkoord_op=now, startdatum=startdatum,
        status=status, code_hmac=code_digest(code), kind=CodeSoort.VERIFICATIECODE, code_gewijzigd_op=now,
    )
    with transaction.atomic():
        _save_code(koppeling, [])
        record_event(koppeling, Soort.ACTIVATED, user, notitie=_("Start date %(date)s") % {
            "date": startdatum.strftime("%-d-%-m-%Y")})
        if aanbod.bevestiging_vereist:
            send_confirmation_request(koppeling, confirm_url_builder)
    return koppeling


def replace_code(koppeling: Koppeling, digest: str, kind: str) -> bool:
    """Set a new code digest (not saved yet); a paused koppeling resumes: to Actief, or back to waiting for the
    partner if it was never confirmed. Returns whether it resumed. Shared by rotation and issued keys."""
    resumed = koppeling.status == KoppelingStatus.GEPAUZEERD
    koppeling.code_hmac = digest
    koppeling.code_gewijzigd_op = timezone.now()
    koppeling.kind = kind
    if resumed:
        needs_confirmation = koppeling.aanbod.bevestiging_vereist and koppeling.bevestigd_op is None
        koppeling.status = KoppelingStatus.WACHT if needs_confirmation else KoppelingStatus.ACTIEF
    return resumed


@sensitive_variables("code")
def rotate(koppeling: Koppeling, code: str, user: Any) -> None:
    """Replace the code. A paused koppeling resumes (to Actief, or back to waiting if never confirmed)."""
    resumed = replace_code(koppeling, code_digest(code), CodeSoort.VERIFICATIECODE)
    with transaction.atomic():
        _save_code(koppeling, ["code_hmac", "code_gewijzigd_op", "kind", "status"])
        record_event(koppeling, Soort.RESUMED if resumed else Soort.ROTATED, user)


def pause(koppeling: Koppeling, user: Any) -> None:
    """Remove the code: the partner's requests are refused until a new code is entered."""
    koppeling.code_hmac = None
    koppeling.code_gewijzigd_op = timezone.now()
    koppeling.status = KoppelingStatus.GEPAUZEERD
    with transaction.atomic():
        koppeling.save(update_fields=["code_hmac", "code_gewijzigd_op", "status", "mutatiedatum"])
        record_event(koppeling, Soort.PAUSED, user)


def end(koppeling: Koppeling, user: Any) -> None:
    """End the koppeling for good. The code's HMAC is kept, so the old code can never be activated again."""
    koppeling.status = KoppelingStatus.BEEINDIGD
    koppeling.ended_at = timezone.now()
    koppeling.ended_by = user
    with transaction.atomic():
        koppeling.save(update_fields=["status", "ended_at", "ended_by", "mutatiedatum"])
        record_event(koppeling, Soort.ENDED, user)


def confirm(koppeling: Koppeling, *, user: Any = None, wie: str = "", notitie: str = "") -> bool:
    """Partner confirmation: a waiting koppeling becomes Actief. Returns False when there was nothing to confirm."""
    with transaction.atomic():
        koppeling = Koppeling.objects.select_for_update().get(pk=koppeling.pk)
        if koppeling.status != KoppelingStatus.WACHT:
            return False
        koppeling.status = KoppelingStatus.ACTIEF
        koppeling.bevestigd_op = timezone.now()
        koppeling.save(update_fields=["status", "bevestigd_op", "mutatiedatum"])
        record_event(koppeling, Soort.CONFIRMED, user, wie=wie, notitie=notitie)
    return True


# ---------------------------------------------------------------------------------------------------------------
# Partner confirmation link


def confirmation_token(koppeling: Koppeling) -> str:
    return signing.dumps({"k": koppeling.pk, "v": koppeling.vestiging.code6}, salt=BEVESTIGING_SALT)


def koppeling_from_token(token: str) -> Koppeling:
    """The koppeling a confirmation link is for. Raises signing.BadSignature (incl. SignatureExpired)."""
    max_age = getattr(settings, "LAS_BEVESTIGING_MAX_AGE", 14 * 24 * 3600)
    data = signing.loads(token, salt=BEVESTIGING_SALT, max_age=max_age)
    koppeling = Koppeling.objects.select_related("vestiging__school", "aanbod").filter(pk=data.get("k")).first()
    if koppeling is None or koppeling.vestiging.code6 != data.get("v"):
        raise signing.BadSignature("unknown koppeling")
    return koppeling


def send_confirmation_request(koppeling: Koppeling, url_builder: Any = None) -> None:
    """Mail the partner's support address: which school activated what, and the link to confirm it."""
    aanbod = koppeling.aanbod
    path = reverse("las:bevestigen", args=[confirmation_token(koppeling)])
    url = url_builder(path) if url_builder else settings.BASE_URL + path
    vestiging = koppeling.vestiging
    days = getattr(settings, "LAS_BEVESTIGING_MAX_AGE", 14 * 24 * 3600) // 86400
    subject = _("Confirm koppeling %(aanbod)s for %(code6)s") % {"aanbod": aanbod.naam, "code6": vestiging.code6}
    body = _(
        "Hello,\n\n"
        "%(school)s (BRIN %(brin)s, vestiging %(dep)s: %(vestiging)s) has activated the koppeling %(aanbod)s "
        "with start date %(start)s.\n"
        "The school will give you the verification code itself; it is not sent by e-mail.\n\n"
        "Confirm the activation with this link (valid for %(days)d days):\n%(url)s\n\n"
        "Only after your confirmation will the koppeling become active.\n"
    ) % {
        "school": vestiging.school.naam, "brin": vestiging.school.brincode, "dep": vestiging.dependancecode,
        "vestiging": vestiging.naam, "aanbod": aanbod.naam, "start": koppeling.startdatum.strftime("%-d-%-m-%Y"),
        "days": days, "url": url,
    }
    notitie = aanbod.support_email or _("no support address known")
    if aanbod.support_email:
        try:
            send_mail(subject, body, None, [aanbod.support_email])
        except Exception:
            # The activation stands; the service desk can confirm in the admin. Say so in the event log.
            log.exception("confirmation mail failed", extra={"koppeling_id": koppeling.pk})
            notitie = _("sending the e-mail to %(to)s failed") % {"to": aanbod.support_email}
    record_event(koppeling, Soort.MAIL_SENT, wie="Koppelpunt", notitie=notitie)
