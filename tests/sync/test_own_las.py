"""Results to our own school side (its real /school/uwlr/leerresultaten endpoint on Django's live server), through a
LAS that is down at first: connections refused, then HTTP 503 from a proxy, then an answer lost on its way back
(the LAS stored the batch, we saw a 503). The results arrive, and the LAS holds each exactly once (it deduplicates
on our result keys). A Client fault from the LAS is shown for the service desk and not retried."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from django.utils import timezone

from ea import importer
from ea.forms import huidig_schooljaar
from ea.models import LasKoppeling, Leerling
from sync import services
from sync.models import ResultPush, SyncRun, Toets, ToetsResultaat
from tests.ea.own_las import las_data, own_las_endpoint, rekenwereld_koppeling, seed_own_las

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not own_las_endpoint(), reason="the school side has no UWLR endpoint in this checkout"),
]


class FlakyProxy:
    """Forwards to the LAS, except that the first requests get the given treatment:
    "503" (answered by the proxy, the LAS never sees it) or "forward-503" (the LAS handles it, we get a 503)."""

    def __init__(self, target: str, plan: list[str]) -> None:
        self.target, self.plan = target, list(plan)
        self.requests: list[str] = []
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = proxy.plan.pop(0) if proxy.plan else "forward"
                proxy.requests.append(action)
                status, content, ctype = 503, b"<html>Service Unavailable</html>", "text/html"
                if action != "503":
                    headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "soapaction")}
                    with httpx.Client() as client:
                        r = client.post(proxy.target + self.path, content=body, headers=headers, timeout=30)
                    proxy.forwarded += 1
                    if action == "forward":
                        status, content, ctype = r.status_code, r.content, r.headers["content-type"]
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FlakyProxy:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eerste_sync(user_model: Any) -> LasKoppeling:
    """Rekenwereld connected to our own LAS (admin "bea"); the first nightly sync stages everything (all new) for
    the admin, who imports it."""
    user = user_model.objects.create_user("bea", email="bea@vlinderboom.example", password="x-123456789")
    k: LasKoppeling = rekenwereld_koppeling(user)
    [run_id] = services.plan_handmatig()
    assert services.execute_run(run_id) == SyncRun.NEEDS_PERSON
    ir = SyncRun.objects.get(pk=run_id).import_run
    importer.zet_email(ir, ir.leerkrachten.get(key="T2").pk, "k.mulder@school.example")
    importer.apply(ir)
    return k


@pytest.fixture
def koppeling(live_server: Any, settings: Any, django_user_model: Any) -> Iterator[LasKoppeling]:
    settings.BASE_URL = live_server.url
    settings.KOPPELPUNT_RETRY_BASE_SECONDS = 60
    seed_own_las(las_data(huidig_schooljaar()))
    k = eerste_sync(django_user_model)
    school, app = k.school, k.school.applicatie
    toets = Toets.objects.create(
        applicatie=app,
        code="RW-M5",
        naam="Rekenen M5",
        normering=[
            {"term": "C", "van": 0, "tot": 49},
            {"term": "B", "van": 50, "tot": 79},
            {"term": "A", "van": 80, "tot": 100},
        ],
    )
    for i, leerling in enumerate(Leerling.objects.filter(school=school).order_by("extern_key")):
        ToetsResultaat(
            school=school, leerling=leerling, toets=toets, afnamedatum=dt.date(2026, 11, 2), score=30 * i + 20
        ).save()
    yield k


def _due(pk: int) -> None:
    ResultPush.objects.filter(pk=pk).update(not_before=timezone.now())


def test_results_arrive_once_our_las_is_back_each_exactly_once(koppeling: LasKoppeling, live_server: Any) -> None:
    from las.models import Toetsresultaat as LasResultaat

    las_type = koppeling.las_type
    [pk] = services.plan_pushes(enqueue=False)
    las_type.leerresultaten_url = f"http://127.0.0.1:{_closed_port()}/school/uwlr/leerresultaten"
    las_type.save()
    assert services.execute_push(pk) == ResultPush.QUEUED  # connection refused
    with FlakyProxy(live_server.url, ["503", "forward-503"]) as proxy:
        las_type.leerresultaten_url = proxy.url + "/school/uwlr/leerresultaten"
        las_type.save()
        _due(pk)
        assert services.execute_push(pk) == ResultPush.QUEUED  # 503 from the proxy
        _due(pk)
        assert services.execute_push(pk) == ResultPush.QUEUED  # stored by the LAS, but our answer was lost
        assert LasResultaat.objects.count() == 3
        _due(pk)
        assert services.execute_push(pk) == ResultPush.DELIVERED  # sent again: the LAS already had them
        assert proxy.requests == ["503", "forward-503", "forward"] and proxy.forwarded == 2
    push = ResultPush.objects.get(pk=pk)
    assert (push.state, push.attempts, push.fout) == (ResultPush.DELIVERED, 4, "")
    ours = dict(ToetsResultaat.objects.values_list("sleutel", "leerling__extern_key"))
    stored = list(LasResultaat.objects.values_list("key", "leerling__key", "normterm"))
    assert len(stored) == 3 and {k: lk for k, lk, _ in stored} == ours  # each exactly once, at the right pupil
    assert sorted(term for _, _, term in stored) == ["A", "B", "C"]
    assert not ToetsResultaat.objects.filter(afgeleverd_op__isnull=True).exists()


def test_a_client_fault_from_our_las_is_not_retried(koppeling: LasKoppeling) -> None:
    from las.models import Toetsresultaat as LasResultaat

    # The application links a pupil to a number the LAS does not know.
    Leerling.objects.filter(school=koppeling.school, extern_key="L3").update(extern_key="L99", eckid="")
    [pk] = services.plan_pushes(enqueue=False)
    assert services.execute_push(pk) == ResultPush.REJECTED
    push = ResultPush.objects.get(pk=pk)
    assert push.foutcode == "Client.LeerlingOngeldig"
    assert push.fout.startswith("Leerling ongeldig: ") and "L99" in push.fout
    assert services.execute_push(pk) is None  # not retried
    # The batch was split to isolate the refused pupil (tests/sync/test_push_isolation.py): the others arrived.
    assert push.attempts == 1 and LasResultaat.objects.count() == 2
    assert not LasResultaat.objects.filter(leerling__key="L3").exists()
