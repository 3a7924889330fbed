"""Isolation, property-based: no key ever yields another school's or vestiging's data, another profile's fields,
or data of a koppeling that is paused, ended, unconfirmed or not started.

Extends tests/las/test_uwlr_autorisatie.py::test_isolation_randomized_keys_never_reach_another_vestiging (which
covers HaalLeerlinggegevens with brincode/schoolkey) to all four operations, group references into other
schools, every profile and state, and results sent for other schools' pupils.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from las import leerlinggegevens as las_lg
from las import services
from las.models import (
    Groep,
    Koppeling,
    KoppelingAanbod,
    KoppelingStatus,
    Leerkracht,
    Leerling,
    SamengesteldeGroep,
    Toetsresultaat,
    Vestiging,
)
from tests.hardening.conftest import check
from tests.las.uwlr_helpers import LG_URL, LR_URL, activate, school
from uwlr import leerlinggegevens as lg
from uwlr import leerresultaten as lr
from uwlr import soap
from uwlr.model import GeenGegevens, GroepRef, Leerlinggegevens, Operation, Verzoek
from uwlr.model import Leerkracht as MLeerkracht
from uwlr.model import Leerling as MLeerling
from uwlr.profiles import allowed_fields

pytestmark = pytest.mark.django_db

SLUGS = ["snappet", "parro-uitgebreid", "leerling-in-beeld", "basispoort", "top-dossier-eckid", "uwlr-4d"]
STATES = ["actief"] * 4 + ["gepauzeerd", "beeindigd", "wacht", "toekomst"]


@dataclass
class Link:
    koppeling: Koppeling
    code: str
    state: str

    @property
    def usable(self) -> bool:
        return self.state == "actief"


@dataclass
class World:
    vestigingen: list[Vestiging]
    links: list[Link]
    pupils: dict[int, set[str]]  # vestiging pk → pupil keys
    groups: dict[int, set[str]]  # vestiging pk → group + samengestelde group keys
    teachers: dict[int, set[str]]  # school pk → teacher keys
    all_groups: list[tuple[str, bool]]


def _world(seed: int) -> World:
    rng = random.Random(seed)
    for i, brin in enumerate(["41AA", "42BB", "43CC", "44DD", "45EE"]):
        deps = (("00", rng.randrange(2, 6)),) + ((("01", rng.randrange(2, 5)),) if i % 2 == 0 else ())
        school(brin, deps, seed=seed + i)
    vestigingen = list(Vestiging.objects.select_related("school").order_by("pk"))
    links: list[Link] = []
    for v in vestigingen:
        for slug in rng.sample(SLUGS, 3):
            state = rng.choice(STATES)
            start = timezone.localdate() + dt.timedelta(days=30) if state == "toekomst" else None
            k, code = activate(v, slug, code=f"{v.code6}-{slug}-{rng.getrandbits(64):016x}", start=start)
            if state == "gepauzeerd":
                services.pause(k, None)
            elif state == "beeindigd":
                services.end(k, None)
            elif state == "wacht":
                Koppeling.objects.filter(pk=k.pk).update(status=KoppelingStatus.WACHT, bevestigd_op=None)
            k.refresh_from_db()
            links.append(Link(k, code, state))
    pupils = {v.pk: set(Leerling.objects.filter(vestiging=v).values_list("key", flat=True)) for v in vestigingen}
    groups = {v.pk: set(Groep.objects.filter(vestiging=v).values_list("key", flat=True))
              | set(SamengesteldeGroep.objects.filter(vestiging=v).values_list("key", flat=True)) for v in vestigingen}
    teachers = {v.school_id: set(Leerkracht.objects.filter(school_id=v.school_id).values_list("key", flat=True))
                for v in vestigingen}
    all_groups = [(k, False) for k in Groep.objects.values_list("key", flat=True)] + [
        (k, True) for k in SamengesteldeGroep.objects.values_list("key", flat=True)]
    return World(vestigingen, links, pupils, groups, teachers, all_groups)


@pytest.fixture
def world(db: None, settings: Any) -> World:
    settings.UWLR_THROTTLE_FAILURES_IP = 10**9
    settings.UWLR_THROTTLE_FAILURES_KLANT = 10**9
    settings.UWLR_THROTTLE_FAILURES_VESTIGING = 10**9
    las_lg.cache.clear_local()
    return _world(20261126)


def _present(record: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(record)
            if f.name not in ("key", "eckid") and getattr(record, f.name) not in (None, [], (), "")}


def _assert_own_data(answer: Leerlinggegevens, link: Link, world: World) -> None:
    v = link.koppeling.vestiging
    profile = las_lg.profile_for(link.koppeling, "2.2")
    for ll in answer.leerlingen:
        assert ll.key in world.pupils[v.pk] or (ll.key is None and ll.eckid), ll.key
        extra = _present(ll) - allowed_fields(profile, MLeerling)
        assert not extra, (profile.name, extra)
        assert profile.eckid or ll.eckid is None
        assert ll.groep is None or ll.groep in world.groups[v.pk]
        assert set(ll.samengestelde_groepen) <= world.groups[v.pk]
    for lk in answer.leerkrachten:
        assert lk.key in world.teachers[v.school_id]
        assert not _present(lk) - allowed_fields(profile, MLeerkracht) - {"groepen"}
        assert {g.key for g in lk.groepen} <= world.groups[v.pk]
    for g in [*answer.groepen, *answer.samengestelde_groepen]:
        assert g.key in world.groups[v.pk]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_no_key_reaches_data_it_should_not(world: World, data: st.DataObject) -> None:
    link = data.draw(st.sampled_from(world.links), label="koppeling")
    own = link.koppeling.vestiging
    target = data.draw(st.one_of(st.just(own), st.sampled_from(world.vestigingen)), label="target")
    # The caller claims to be this koppeling's partner, or (sometimes) another partner of the catalogue.
    partner = data.draw(st.one_of(st.just(link.koppeling.aanbod),
                                  st.sampled_from(list(KoppelingAanbod.objects.exclude(klantcode="")))))
    op = data.draw(st.sampled_from(list(Operation)), label="operation")
    by_key = data.draw(st.booleans(), label="schoolkey")
    fields: dict[str, Any] = ({"brincode": None, "schoolkey": target.key} if by_key else
                              {"brincode": target.school.brincode,
                               "dependancecode": None if target.dependancecode == "00" else target.dependancecode})
    if op.has_groepen_ref:
        refs = data.draw(st.lists(st.sampled_from(world.all_groups), min_size=1, max_size=4, unique=True))
        fields["groepen"] = tuple(GroepRef(key, samengesteld=s) for key, s in refs) + (
            (GroepRef(None),) if data.draw(st.booleans()) else ())
    a = soap.Autorisatie(link.code, partner.klantcode, partner.klantnaam)
    from las.models import Schooljaar

    body = lg.build_request(Verzoek(op, Schooljaar.voor_datum().naam, **fields), a)
    response = Client().post(LG_URL, body, content_type="text/xml; charset=utf-8")
    outcome = check(response)
    if link.usable and target.pk == own.pk and partner.pk == link.koppeling.aanbod_id:
        assert outcome == "ok", response.content[:500]
        answer = lg.parse_response(response.content, op)
        assert isinstance(answer, Leerlinggegevens | GeenGegevens)
        if isinstance(answer, Leerlinggegevens):
            _assert_own_data(answer, link, world)
    else:
        assert outcome in ("Client.AutorisatieOngeldig", "Client.OngeldigeKlantIdentificatie"), outcome
        assert b"leerling " not in response.content and b"groep " not in response.content


def test_results_for_other_schools_pupils_are_refused_and_stored_nowhere(world: World) -> None:
    rng = random.Random(7)
    usable = [link for link in world.links if link.usable]
    assert len(usable) >= 4
    toets = lr.Toets(toetscode=lr.VocabulaireGebondenVeld("T1"), toetsnaam="Toets",
                     toetsnormering=lr.Normering((lr.Norm("Goed", 0, 50),)))
    from las.models import Schooljaar

    jaar = Schooljaar.voor_datum().naam
    for i in range(30):
        link = rng.choice(usable)
        v = link.koppeling.vestiging
        other = rng.choice([w for w in world.vestigingen if w.pk != v.pk])
        foreign = rng.choice(sorted(world.pupils[other.pk]))
        own = rng.choice(sorted(world.pupils[v.pk]))
        pupils = [own, foreign] if rng.random() < 0.5 else [foreign]
        verzoek = lr.LeerresultatenVerzoek(
            school=lr.ResultatenSchool(schooljaar=jaar, aanmaakdatum=dt.datetime(2026, 11, 20, 10),
                                       brincode=v.school.brincode,
                                       dependancecode=None if v.dependancecode == "00" else v.dependancecode),
            toetsafnames=tuple(lr.Toetsafname(p, (lr.Resultaat(f"R{i}-{j}", dt.date(2026, 11, 18), "T1", 10),))
                               for j, p in enumerate(pupils)),
            toetsen=(toets,),
        )
        a = soap.Autorisatie(link.code, link.koppeling.aanbod.klantcode, link.koppeling.aanbod.klantnaam)
        response = Client().post(LR_URL, lr.build_request(verzoek, a), content_type="text/xml; charset=utf-8")
        assert check(response) == "Client.LeerlingOngeldig", response.content[:400]
    # All or nothing: not even the own pupil's result of a refused batch was stored.
    assert not Toetsresultaat.objects.exists()
