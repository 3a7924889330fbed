"""The named cast of the school-side tests (shared with the browser tests).

- anna_school_a: school admin of BRIN 21QW, both vestigingen 21QW00 and 21QW01
- bram_school_b: school admin of BRIN 12AB, vestiging 12AB00 only
- service_desk:  staff user with the koppeling admin permissions, but no school of their own
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from las.catalogus import load_catalogue
from las.models import Bestuur, School, SchoolBeheerder, Vestiging

PASSWORD = "Koppel-test-2026!"


@dataclass
class Cast:
    school_a: School
    a00: Vestiging
    a01: Vestiging
    school_b: School
    b00: Vestiging
    anna_school_a: Any
    bram_school_b: Any
    service_desk: Any


def _user(username: str, **extra: Any) -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    return user


def make_cast() -> Cast:
    load_catalogue()
    bestuur = Bestuur.objects.create(naam="Stichting Test Onderwijs")
    school_a = School.objects.create(bestuur=bestuur, brincode="21QW", naam="OBS De Vlinderboom")
    a00 = Vestiging.objects.create(school=school_a, dependancecode="00", naam="De Vlinderboom")
    a01 = Vestiging.objects.create(school=school_a, dependancecode="01", naam="Locatie Passewaaij")
    school_b = School.objects.create(bestuur=bestuur, brincode="12AB", naam="CBS Het Kompas")
    b00 = Vestiging.objects.create(school=school_b, dependancecode="00", naam="Het Kompas")
    anna = _user("anna_school_a", first_name="Anna", last_name="de Vries")
    bram = _user("bram_school_b", first_name="Bram", last_name="Jansen")
    desk = _user("service_desk", first_name="Servicedesk", is_staff=True)
    desk.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="las", codename__in=["view_koppeling", "change_koppeling"]))
    SchoolBeheerder.objects.create(user=anna, vestiging=a00)
    SchoolBeheerder.objects.create(user=anna, vestiging=a01)
    SchoolBeheerder.objects.create(user=bram, vestiging=b00)
    return Cast(school_a, a00, a01, school_b, b00, anna, bram, desk)
