from __future__ import annotations

from typing import Any


def is_klantenservice(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    from ea.models import Klantenservice

    return bool(Klantenservice.objects.filter(user=user).exists())


def beheerde_scholen(user: Any) -> Any:
    """The application's schools this user administers (a queryset)."""
    from ea.models import School

    if not getattr(user, "is_authenticated", False):
        return School.objects.none()
    return School.objects.filter(beheerders__user=user).distinct()


def is_school_beheerder(user: Any, school: Any = None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    from ea.models import SchoolBeheerder

    qs = SchoolBeheerder.objects.filter(user=user)
    if school is not None:
        qs = qs.filter(school=school)
    return bool(qs.exists())


def is_application_user(user: Any) -> bool:
    """True for an application admin or a service-desk (klantenservice) user."""
    return is_school_beheerder(user) or is_klantenservice(user)
