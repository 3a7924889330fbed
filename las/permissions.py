"""Who may see and manage which vestiging's koppelingen.

A school administrator is linked to vestigingen through `SchoolBeheerder`; every school-side view resolves
the vestiging through `vestiging_for_user_or_404`, so a vestiging someone is not authorised for does not
exist for them (404, not 403: its existence is not disclosed either).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404


def is_school_user(user: Any) -> bool:
    """True for a user who administers koppelingen for at least one vestiging."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    from las.models import SchoolBeheerder

    return SchoolBeheerder.objects.filter(user=user).exists()


def vestigingen_for(user: Any) -> QuerySet[Any]:
    from las.models import Vestiging

    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Vestiging.objects.none()
    return Vestiging.objects.select_related("school").filter(beheerders__user=user).distinct()


def vestiging_for_user_or_404(user: Any, code6: str) -> Any:
    code6 = code6.upper()
    for vestiging in vestigingen_for(user).filter(school__brincode=code6[:4], dependancecode=code6[4:6]):
        if len(code6) == 6:
            return vestiging
    raise Http404("vestiging")
