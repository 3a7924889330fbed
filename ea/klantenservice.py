"""The life of a connection request: the school's admin files it, the service desk approves or rejects it,
and every admin of the school hears about it by e-mail."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ea.models import LasKoppeling, LasType, School

log = logging.getLogger(__name__)


class AanvraagFout(Exception):
    """The request cannot be handled in its current state (plain Dutch message)."""


def actieve_koppeling(school: School) -> LasKoppeling | None:
    return school.koppelingen.filter(status=LasKoppeling.GOEDGEKEURD).select_related("las_type").first()


def lopende_aanvraag(school: School) -> LasKoppeling | None:
    return school.koppelingen.filter(status=LasKoppeling.AANGEVRAAGD).select_related("las_type").first()


def laatste_afwijzing(school: School) -> LasKoppeling | None:
    laatste = school.koppelingen.exclude(status=LasKoppeling.VERVANGEN).first()
    return laatste if laatste and laatste.status == LasKoppeling.AFGEWEZEN else None


def aanvragen(school: School, data: dict[str, Any], user: Any) -> LasKoppeling:
    """ "Aanvragen": file a new request (an earlier pending one of this school is replaced by it)."""
    with transaction.atomic():
        school.koppelingen.filter(status=LasKoppeling.AANGEVRAAGD).update(status=LasKoppeling.VERVANGEN)
        koppeling = LasKoppeling(
            school=school,
            las_type=data["las_type"],
            brincode=data["brincode"],
            dependancecode=data["dependancecode"],
            schooljaar=data["schooljaar"],
            schoolkey=data["schoolkey"],
            klantcode=school.applicatie.klantcode,
            klantnaam=school.applicatie.klantnaam,
            requested_by=user,
        )
        koppeling.autorisatiesleutel = data["autorisatiesleutel"]
        koppeling.save()
    log.info("koppeling %s aangevraagd voor school %s", koppeling.pk, school.pk)
    desk = sorted({k.user.email for k in school.applicatie.klantenservice.select_related("user") if k.user.email})
    _mail(koppeling, "nieuwe_aanvraag", desk)
    return koppeling


def opslaan(koppeling: LasKoppeling, data: dict[str, Any]) -> None:
    """ "Wijzigingen opslaan" on an active connection; an empty key field keeps the current key."""
    las_type: LasType = data["las_type"]
    koppeling.las_type = las_type
    koppeling.brincode, koppeling.dependancecode = data["brincode"], data["dependancecode"]
    koppeling.schooljaar, koppeling.schoolkey = data["schooljaar"], data["schoolkey"]
    if data["autorisatiesleutel"]:
        koppeling.autorisatiesleutel = data["autorisatiesleutel"]
    koppeling.save()


def _beheerder_adressen(school: School) -> list[str]:
    return sorted({b.user.email for b in school.beheerders.select_related("user") if b.user.email})


def _mail(koppeling: LasKoppeling, template: str, adressen: list[str] | None = None) -> int:
    school = koppeling.school
    base = settings.BASE_URL.rstrip("/")
    context = {
        "koppeling": koppeling,
        "school": school,
        "applicatie": school.applicatie,
        "import_url": base + reverse("ea:importeren", args=[school.pk]),
        "koppelen_url": base + reverse("ea:koppelen", args=[school.pk]),
        "aanvraag_url": base + reverse("ea:aanvraag", args=[koppeling.pk]),
    }
    with translation.override("nl"):
        subject = render_to_string(f"ea/mail/{template}_onderwerp.txt", context).strip()
        body = render_to_string(f"ea/mail/{template}.txt", context)
    if adressen is None:
        adressen = _beheerder_adressen(school)
    return send_mass_mail([(subject, body, settings.DEFAULT_FROM_EMAIL, [a]) for a in adressen])


def _beslis(koppeling: LasKoppeling, user: Any, status: str, reden: str = "") -> LasKoppeling:
    with transaction.atomic():
        locked = LasKoppeling.objects.select_for_update().get(pk=koppeling.pk)
        if locked.status != LasKoppeling.AANGEVRAAGD:
            raise AanvraagFout(_("This request has already been decided."))
        if status == LasKoppeling.GOEDGEKEURD:
            # One active connection per school: the new one replaces an earlier one.
            LasKoppeling.objects.filter(school_id=locked.school_id, status=LasKoppeling.GOEDGEKEURD).update(
                status=LasKoppeling.VERVANGEN
            )
        locked.status, locked.reden = status, reden
        locked.decided_by, locked.decided_at = user, timezone.now()
        locked.save(update_fields=["status", "reden", "decided_by", "decided_at"])
    return locked


def goedkeuren(koppeling: LasKoppeling, user: Any) -> int:
    """Approve; returns the number of admins e-mailed (each gets a link to the import screen)."""
    koppeling = _beslis(koppeling, user, LasKoppeling.GOEDGEKEURD)
    return _mail(koppeling, "goedgekeurd")


def afwijzen(koppeling: LasKoppeling, user: Any, reden: str) -> int:
    koppeling = _beslis(koppeling, user, LasKoppeling.AFGEWEZEN, reden.strip())
    return _mail(koppeling, "afgewezen")
