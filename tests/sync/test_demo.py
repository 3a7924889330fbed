"""The demo end to end, in-process over real HTTP against our own school side (Django's live server): the demo
school and application, the service desk approves, the nightly sync stages the school and mails the admin, the
admin imports, and the demo's in-process worker brings the normed scores to the LAS, each once."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core import mail

from ea import demo as ea_demo
from ea import importer
from ea.klantenservice import goedkeuren
from ea.models import Besluit, LasKoppeling, Leerling, StagedLeerkracht
from sync import demo, services
from sync.models import SyncRun, ToetsResultaat

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_results_arrive_in_our_las(live_server: Any, settings: Any, django_user_model: Any) -> None:
    pytest.importorskip("las.uwlr_service")
    from las import demo as las_demo
    from las.models import Toetsresultaat as LasResultaat

    settings.BASE_URL = live_server.url
    las_demo.seed(io.StringIO(), base_url=live_server.url)
    ea_demo.seed(io.StringIO(), base_url=live_server.url)
    out = io.StringIO()
    assert demo.seed(out, base_url=live_server.url) == 3
    assert demo.seed(io.StringIO(), base_url=live_server.url) == 0  # idempotent
    assert "3 toetsresultaten van OBS De Vlinderboom wachten op het LAS" in out.getvalue()

    koppeling = LasKoppeling.objects.get()
    goedkeuren(koppeling, django_user_model.objects.get(username=ea_demo.KLANTENSERVICE[0]))
    mail.outbox.clear()
    # The first nightly sync: everything is new, so it waits for the admin, who gets the mail.
    [run_id] = services.plan_handmatig()
    assert services.execute_run(run_id) == SyncRun.NEEDS_PERSON
    assert "Deze nieuwe gegevens kunnen niet automatisch worden ingelezen" in mail.outbox[0].body
    assert mail.outbox[0].to == ["j.beheerder@vlinderboom.example.nl"]
    ir = SyncRun.objects.get(pk=run_id).import_run
    for t in StagedLeerkracht.objects.filter(run=ir, besluit=Besluit.NIEUW, email=""):
        importer.zet_email(ir, t.pk, f"leerkracht{t.pk}@vlinderboom.example.nl")
    importer.apply(ir)  # the admin clicks GEGEVENS IMPORTEREN
    gekoppeld = Leerling.objects.filter(school=ir.school, toetsresultaten__isnull=False).exclude(extern_key="")
    assert gekoppeld.count() == 2  # two demo pupils were proposed (same name and birth date); one is spelled apart

    thread = demo.start_worker(io.StringIO(), interval=0.2)
    try:
        assert demo.wait_idle(30)
        deadline_ok = False
        for _ in range(50):
            if ToetsResultaat.objects.filter(afgeleverd_op__isnull=False).count() == 2:
                deadline_ok = True
                break
            thread.stop.wait(0.2)
        assert deadline_ok
    finally:
        thread.stop.set()
        thread.join(10)
    keys = set(ToetsResultaat.objects.filter(afgeleverd_op__isnull=False).values_list("sleutel", flat=True))
    stored = list(LasResultaat.objects.values_list("key", "normterm"))
    assert {k for k, _ in stored} == keys and len(stored) == 2
    assert all(term in "ABCDE" and term for _, term in stored)
    # The result of the pupil that is not linked to the LAS waits.
    assert ToetsResultaat.objects.filter(afgeleverd_op__isnull=True, push__isnull=True).count() == 1
