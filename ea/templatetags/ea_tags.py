from __future__ import annotations

from typing import Any

from django import template

from ea.permissions import is_klantenservice

register = template.Library()


@register.simple_tag(takes_context=True)
def ea_klantenservice(context: Any) -> bool:
    request = context.get("request")
    return bool(request and is_klantenservice(request.user))


@register.simple_tag
def uitleg(row: Any, tab: str) -> str:
    """Why a staged row is where it is, in a few words."""
    from django.utils.translation import gettext as _

    if row.besluit == "niet":
        return {
            "handmatig": _("set to Do not import by you"),
            "regel": _("not imported, as chosen before"),
            "groep": _("its group is not imported"),
        }.get(row.reden, "")
    if row.reden == "suggestie":
        return {
            "groepen": _("proposal: same name"),
            "leerkrachten": _("proposal: same e-mail address"),
        }.get(tab, _("proposal: same name and date of birth"))
    return {
        "eckid": _("linked automatically (ECK iD)"),
        "key": _("linked automatically (LAS number)"),
        "regel": _("linked by an earlier choice"),
        "handmatig": _("linked by hand"),
    }.get(row.reden, "")
