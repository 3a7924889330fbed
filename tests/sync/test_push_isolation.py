"""One pupil the LAS refuses does not hold back a school's whole results batch.

Against our own school side (its real /school/uwlr/leerresultaten endpoint on Django's live server, which refuses
a whole message for one unknown pupil or one score outside the normering, and stores nothing then): the push splits
the batch by pupil until the refused pupils are found, the other pupils' results arrive exactly once, and only the
refused pupils' results stay with the service desk, with the LAS's own Dutch explanation. Every request goes
through a forwarding proxy, which counts them."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from ea.forms import huidig_schooljaar
from ea.models import Klantenservice, LasKoppeling, Leerling
from sync import services
from sync.models import ResultPush, Toets, ToetsResultaat
from tests.ea.own_las import SLEUTEL, las_data, own_las_endpoint, seed_own_las
from tests.sync.test_own_las import FlakyProxy, eerste_sync
from uwlr import model

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not own_las_endpoint(), reason="the school side has no UWLR endpoint in this checkout"),
]

LEERLINGEN = 8
RESULTATEN = 2 * LEERLINGEN  # two tests per pupil


def _school_met_acht_leerlingen() -> model.Leerlinggegevens:
    data = las_data(huidig_schooljaar())
    for n in range(4, LEERLINGEN + 1):
        data.leerlingen.append(
            model.Leerling(
                key=f"L{n}",
                achternaam=f"Achternaam{n}",
                roepnaam=f"Kind{n}",
                geboortedatum=dt.date(2016, 1, n),
                jaargroep="5",
                groep="G5A",
            )
        )
    return data


@pytest.fixture
def proxy(live_server: Any, settings: Any, django_user_model: Any) -> Iterator[FlakyProxy]:
    """Rekenwereld connected to our own LAS through a counting proxy, with the school's eight pupils imported and
    two results each (scores 20…90, inside both tests' normering 0–100)."""
    settings.BASE_URL = live_server.url
    settings.KOPPELPUNT_RETRY_BASE_SECONDS = 60
    seed_own_las(_school_met_acht_leerlingen())
    k = eerste_sync(django_user_model)
    school, app = k.school, k.school.applicatie
    normering = [
        {"term": "C", "van": 0, "tot": 49},
        {"term": "B", "van": 50, "tot": 79},
        {"term": "A", "van": 80, "tot": 100},
    ]
    toetsen = [
        Toets.objects.create(applicatie=app, code="RW-M5", naam="Rekenen M5", normering=normering),
        Toets.objects.create(applicatie=app, code="BL-M5", naam="Begrijpend lezen M5", normering=normering),
    ]
    leerlingen = list(Leerling.objects.filter(school=school).order_by("pk"))
    assert len(leerlingen) == LEERLINGEN
    for i, leerling in enumerate(leerlingen):
        for toets in toetsen:
            ToetsResultaat(
                school=school, leerling=leerling, toets=toets, afnamedatum=dt.date(2026, 11, 2), score=10 * i + 20
            ).save()
    with FlakyProxy(live_server.url, []) as p:
        k.las_type.leerresultaten_url = p.url + "/school/uwlr/leerresultaten"
        k.las_type.save()
        yield p


def _leerling(index: int) -> Leerling:
    """The pupil at this place in the batch (a push sends its pupils in the order of their ids)."""
    return Leerling.objects.order_by("pk")[index]


def _onbekend_maken(index: int, key: str) -> Leerling:
    """The application links this pupil to a number the LAS does not know."""
    leerling = _leerling(index)
    Leerling.objects.filter(pk=leerling.pk).update(extern_key=key, eckid="")
    return leerling


def _in_las() -> dict[str, str]:
    """Result key → LAS pupil key of every result the LAS holds (a key can be there only once)."""
    from las.models import Toetsresultaat as LasResultaat

    rows = list(LasResultaat.objects.values_list("key", "leerling__key"))
    assert len(rows) == len({k for k, _ in rows})
    return dict(rows)


def _verwacht(uitgezonderd: set[int]) -> dict[str, str]:
    """Result key → pupil key of our results, except those of the pupils with these ids."""
    return dict(
        ToetsResultaat.objects.exclude(leerling_id__in=uitgezonderd).values_list("sleutel", "leerling__extern_key")
    )


def _grens(k: int, n: int) -> int:
    """Bisection: one request for the whole batch, and per refused pupil at most two per level."""
    return 1 + 2 * k * math.ceil(math.log2(n))


def test_one_unknown_pupil_only_its_results_are_rejected_the_others_arrive_once(proxy: FlakyProxy) -> None:
    slecht = _onbekend_maken(4, "L99")
    [pk] = services.plan_pushes(enqueue=False)

    assert services.execute_push(pk) == ResultPush.REJECTED

    push = ResultPush.objects.get(pk=pk)
    assert push.foutcode == "Client.LeerlingOngeldig"
    assert push.fout.startswith("Leerling ongeldig: Leerling met leerlingid 'L99' is niet bekend")
    assert "alleen 2 resultaten van 1 leerling zijn geweigerd" in push.fout
    assert _in_las() == _verwacht({slecht.pk})  # the seven others' results, each once, at the right pupil
    assert len(_in_las()) == RESULTATEN - 2
    delivered = ToetsResultaat.objects.filter(afgeleverd_op__isnull=False)
    assert set(delivered.values_list("leerling_id", flat=True)) == {p.pk for p in Leerling.objects.all()} - {slecht.pk}
    refused = ToetsResultaat.objects.filter(afgeleverd_op__isnull=True)
    assert refused.count() == 2 and set(refused.values_list("leerling_id", "push_id")) == {(slecht.pk, pk)}
    # Whole batch refused; left half (pupils 0-3) accepted, so the right half holds the refused pupil and is split
    # unsent; [4, 5] refused; [4] refused; [5] accepted; [6, 7] accepted.
    assert push.verzoeken == len(proxy.requests) == 6 <= _grens(1, LEERLINGEN)
    assert proxy.forwarded == 6

    # The service desk's overview: the push, with how many of its results the LAS refused.
    desk = Client()
    desk.force_login(User.objects.create_user("ks", password="x-123456789"))
    Klantenservice.objects.create(user=User.objects.get(username="ks"), applicatie=push.school.applicatie)
    html = desk.get("/applicatie/synchronisatie/klantenservice/").content.decode()
    assert f"2 van {RESULTATEN} niet afgeleverd" in html and "Client.LeerlingOngeldig" in html

    # The next night: nothing new, nothing sent; the refused results stay with the service desk.
    assert services.plan_pushes(enqueue=False) == []
    assert services.execute_push(pk) is None
    assert len(proxy.requests) == 6

    # A new result of a pupil the LAS knows goes on its own; what arrived is not sent again.
    ToetsResultaat(
        school=push.school,
        leerling=_leerling(0),
        toets=Toets.objects.get(code="RW-M5"),
        afnamedatum=dt.date(2026, 11, 20),
        score=66,
    ).save()
    [nieuw] = services.plan_pushes(enqueue=False)
    assert services.execute_push(nieuw) == ResultPush.DELIVERED
    assert len(proxy.requests) == 7 and ResultPush.objects.get(pk=nieuw).verzoeken == 1
    assert len(_in_las()) == RESULTATEN - 1

    # The service desk sends the rejected push again: only the refused pupil's results go, and are refused again.
    assert services.opnieuw_versturen(ResultPush.objects.get(pk=pk))
    assert services.execute_push(pk) == ResultPush.REJECTED
    assert len(proxy.requests) == 8 and ResultPush.objects.get(pk=pk).verzoeken == 7
    push = ResultPush.objects.get(pk=pk)
    assert push.fout.startswith("Leerling ongeldig: ") and "L99" in push.fout
    assert len(_in_las()) == RESULTATEN - 1


def test_an_unknown_pupil_and_a_score_outside_the_normering_are_both_isolated(proxy: FlakyProxy) -> None:
    onbekend = _onbekend_maken(1, "L77")
    te_hoog = _leerling(6)
    ToetsResultaat.objects.filter(leerling=te_hoog, toets__code="BL-M5").update(score=150)
    [pk] = services.plan_pushes(enqueue=False)

    assert services.execute_push(pk) == ResultPush.REJECTED

    push = ResultPush.objects.get(pk=pk)
    assert push.foutcode == "Client.LeerlingOngeldig"  # the first refused pupil's
    regels = push.fout.splitlines()
    assert regels[0].startswith("Leerling ongeldig: Leerling met leerlingid 'L77'")
    assert regels[1].startswith("Score ongeldig: ") and "150" in regels[1]
    assert regels[2].endswith("alleen 3 resultaten van 2 leerlingen zijn geweigerd.")
    # The pupil with one bad score: its other result arrived; only the score the LAS refused stays with the push.
    goed = ToetsResultaat.objects.get(leerling=te_hoog, toets__code="RW-M5")
    assert _in_las() == {**_verwacht({onbekend.pk, te_hoog.pk}), goed.sleutel: te_hoog.extern_key}
    assert len(_in_las()) == RESULTATEN - 3
    refused = ToetsResultaat.objects.filter(afgeleverd_op__isnull=True)
    assert set(refused.values_list("leerling_id", "toets__code")) == {
        (onbekend.pk, "RW-M5"),
        (onbekend.pk, "BL-M5"),
        (te_hoog.pk, "BL-M5"),
    }
    # plus, for the pupil's two results, one request each at most
    assert push.verzoeken == len(proxy.requests) <= _grens(2, LEERLINGEN) + 2


def test_one_bad_score_of_a_pupil_holds_back_only_that_score(proxy: FlakyProxy) -> None:
    te_hoog = _leerling(3)
    ToetsResultaat.objects.filter(leerling=te_hoog, toets__code="RW-M5").update(score=101)
    [pk] = services.plan_pushes(enqueue=False)

    assert services.execute_push(pk) == ResultPush.REJECTED

    push = ResultPush.objects.get(pk=pk)
    assert push.foutcode == "Client.ScoreOngeldig"
    assert push.fout.startswith("Score ongeldig: ") and "101" in push.fout
    assert push.fout.endswith("alleen 1 resultaat van 1 leerling is geweigerd.")
    [refused] = ToetsResultaat.objects.filter(afgeleverd_op__isnull=True)
    assert (refused.leerling_id, refused.toets.code, refused.score) == (te_hoog.pk, "RW-M5", 101)
    assert len(_in_las()) == RESULTATEN - 1
    assert refused.sleutel not in _in_las()
    # whole refused; [0-3] refused; [0, 1] accepted → [2, 3] split unsent; [2] accepted; [3] refused → its two
    # results split unsent; RW refused; BL accepted; [4-7] accepted
    assert push.verzoeken == len(proxy.requests) == 8


def test_a_server_fault_halfway_keeps_what_arrived_and_retries_the_rest(proxy: FlakyProxy) -> None:
    slecht = _onbekend_maken(LEERLINGEN - 1, "L99")
    [pk] = services.plan_pushes(enqueue=False)
    # Whole batch refused; pupils 0-3 accepted; then the LAS is away (503 from the proxy) for [4, 5].
    proxy.plan = ["forward", "forward", "503"]

    assert services.execute_push(pk) == ResultPush.QUEUED
    push = ResultPush.objects.get(pk=pk)
    assert (push.foutcode, push.verzoeken, push.attempts) == ("transport", 3, 1)
    assert len(_in_las()) == 8 and ToetsResultaat.objects.filter(afgeleverd_op__isnull=False).count() == 8

    ResultPush.objects.filter(pk=pk).update(not_before=timezone.now())
    assert services.execute_push(pk) == ResultPush.REJECTED
    # Only the four pupils not delivered yet: [4-7] refused, [4, 5] accepted, [6, 7] split unsent, [6] accepted,
    # [7] refused.
    assert len(proxy.requests) == 3 + 4 and ResultPush.objects.get(pk=pk).verzoeken == 7
    assert _in_las() == _verwacht({slecht.pk})
    push = ResultPush.objects.get(pk=pk)
    assert push.state == ResultPush.REJECTED and "L99" in push.fout and push.attempts == 2


def test_a_batch_of_only_unknown_pupils_is_rejected_pupil_by_pupil(proxy: FlakyProxy) -> None:
    Leerling.objects.exclude(pk__in=[_leerling(i).pk for i in range(3)]).delete()
    for i in range(3):
        _onbekend_maken(i, f"X{i + 1}")
    [pk] = services.plan_pushes(enqueue=False)

    assert services.execute_push(pk) == ResultPush.REJECTED

    push = ResultPush.objects.get(pk=pk)
    assert push.foutcode == "Client.LeerlingOngeldig"
    assert [r.split("'")[1] for r in push.fout.splitlines()] == ["X1", "X2", "X3"]  # no "others arrived" line
    assert _in_las() == {}
    assert ToetsResultaat.objects.filter(push=push, afgeleverd_op__isnull=True).count() == 6
    assert push.verzoeken == len(proxy.requests) == 5  # [1-3], [1], [2, 3], [2], [3]
    assert services.execute_push(pk) is None


def test_a_wrong_key_still_rejects_the_whole_batch_without_splitting(proxy: FlakyProxy) -> None:
    _onbekend_maken(2, "L99")
    koppeling = LasKoppeling.objects.get()
    koppeling.autorisatiesleutel = SLEUTEL + "x"
    koppeling.save()
    [pk] = services.plan_pushes(enqueue=False)

    assert services.execute_push(pk) == ResultPush.REJECTED

    push = ResultPush.objects.get(pk=pk)
    assert push.foutcode == "Client.AutorisatieOngeldig"
    assert push.fout.startswith("Autorisatie is ongeldig")
    assert push.verzoeken == len(proxy.requests) == 1
    assert _in_las() == {}
    assert ToetsResultaat.objects.filter(push=push, afgeleverd_op__isnull=True).count() == RESULTATEN
