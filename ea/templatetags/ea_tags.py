from __future__ import annotations

from typing import Any

from django import template

from ea.permissions import is_klantenservice

register = template.Library()


@register.simple_tag(takes_context=True)
def ea_klantenservice(context: Any) -> bool:
    request = context.get("request")
    return bool(request and is_klantenservice(request.user))


@register.filter
def regel_uitleg(reden: str) -> str:
    from django.utils.translation import gettext as _

    return {
        "eckid": _("linked automatically (ECK iD)"),
        "key": _("linked automatically (LAS number)"),
        "regel": _("linked by an earlier choice"),
        "handmatig": _("linked by hand"),
        "suggestie": _("proposal: same name and date of birth"),
        "groep": _("its group is not imported"),
    }.get(reden, "")
