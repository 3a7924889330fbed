"""`{% laatste_uitwisseling koppeling %}`: the koppeling's last UWLR exchanges, for the koppeling's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from las import autorisatie
from las.models import UwlrToegang

register = template.Library()


@register.inclusion_tag("las/_laatste_uitwisseling.html")
def laatste_uitwisseling(koppeling: Any, vestiging: Any) -> dict[str, Any]:
    aantal = int(getattr(settings, "UWLR_TOEGANG_TONEN", 10))
    klantcode = koppeling.aanbod.klantcode
    blokkade = autorisatie.active_lockouts().filter(sleutel=f"klant:{klantcode}").first() if klantcode else None
    return {
        "koppeling": koppeling, "vestiging": vestiging, "blokkade": blokkade,
        "school_blokkade": autorisatie.school_lockout(vestiging),
        "uitwisselingen": UwlrToegang.objects.filter(koppeling=koppeling).order_by("-op", "-pk")[:aantal],
    }
