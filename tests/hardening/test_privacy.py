"""Logs and e-mails of the main flows never carry keys, codes or pupil data.

One run through both sides over real HTTP (Django's live server as the LAS): a school activates koppelingen
with verification codes, rotates one, issues a key; an application asks to connect with the key, the service
desk approves, the school is imported from the LAS, results are brought back; a partner guesses keys until it
is locked out; an unexpected error happens while a key is in scope. Every log record (as the JSON formatter
writes it, at DEBUG) and every e-mail is scanned for the secrets and personal data used.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from ea import importer, koppelen
from ea.forms import huidig_schooljaar
from ea.models import Applicatie, Klantenservice, LasKoppeling, LasType
from ea.models import School as EaSchool
from ea.models import SchoolBeheerder as EaBeheerder
from koppelpunt.logging import JsonFormatter
from las import autorisatie
from las.models import SchoolBeheerder, Vestiging
from tests.ea.own_las import SLEUTEL, las_data, own_las_endpoint, seed_own_las
from tests.las.uwlr_helpers import LG_URL, LR_URL
from uwlr import leerlinggegevens as lg
from uwlr import leerresultaten as lr
from uwlr import soap
from uwlr.model import Operation, Verzoek

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not own_las_endpoint(), reason="the school side has no UWLR endpoint in this checkout"),
]

TOP_CODE = "21QW00TopDossier-SWV-geheim-9f3k"
ROTATED = "21QW00Rekenwereld-nieuw-7Gh2x"


def _personal_data() -> list[str]:
    data = las_data(huidig_schooljaar())
    found: list[str] = []
    for p in data.leerlingen:
        found += [rf"\b{p.achternaam}\b", rf"\b{p.roepnaam}\b"]
        if p.geboortedatum:
            found += [p.geboortedatum.isoformat(), p.geboortedatum.strftime("%d-%m-%Y")]
        if p.eckid:
            found.append(re.escape(p.eckid.rsplit("/", 1)[-1][:40]))
    for t in data.leerkrachten:
        if t.emailadres:
            found.append(re.escape(t.emailadres))
        found.append(rf"\b{t.achternaam}\b")
    return found


def test_logs_and_mails_hold_no_secrets_or_pupil_data(live_server: Any, settings: Any, monkeypatch: Any,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    settings.BASE_URL = live_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.UWLR_THROTTLE_FAILURES_IP = 3
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    issued: list[str] = []
    try:
        with caplog.at_level(logging.DEBUG):
            issued.append(_run_flows(live_server.url, monkeypatch))
    finally:
        root.removeHandler(handler)
    logs = stream.getvalue() + "\n".join(
        f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in caplog.records)
    mails = "\n".join(f"{m.subject}\n{m.body}\n" + "\n".join(str(a[0]) for a in getattr(m, "alternatives", []))
                      for m in mail.outbox)
    assert len(caplog.records) > 20 and len(mail.outbox) >= 3, (len(caplog.records), len(mail.outbox))
    secrets = [SLEUTEL, TOP_CODE, ROTATED, *issued, "niet-de-goede", "gok-"]
    for name, text in (("logs", logs), ("e-mails", mails)):
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {name}"
            if len(secret) >= 20:  # the part after the school code is the secret part
                assert secret[6:] not in text, f"the tail of {secret!r} in {name}"
        for pattern in _personal_data():
            match = re.search(pattern, text)
            assert match is None, f"{pattern!r} in {name}: …{text[max(0, match.start() - 200):match.end() + 100]}…"


def _run_flows(base: str, monkeypatch: Any) -> str:
    User = get_user_model()
    # --- School side: the LAS with Rekenwereld active under SLEUTEL; the school admin works in the screens.
    las_koppeling = seed_own_las(las_data(huidig_schooljaar()))
    v = Vestiging.objects.get()
    anna = User.objects.create_user("anna", email="anna@vlinderboom.example")
    SchoolBeheerder.objects.create(user=anna, vestiging=v)
    school_admin = Client()
    school_admin.force_login(anna)
    response = school_admin.post(f"/school/{v.code6}/koppelingen/activeren/swv-top-dossier/", {
        "naam": "Anna de Vries", "akkoord": "on", "startdatum": timezone.localdate().isoformat(),
        "verificatiecode": TOP_CODE})
    assert response.status_code in (200, 302)
    response = school_admin.post(f"/school/{v.code6}/koppelingen/{las_koppeling.pk}/bewerken/",
                                 {"verificatiecode": ROTATED, "actie": "opslaan"})
    assert response.status_code in (200, 302)
    page = school_admin.post(f"/school/{v.code6}/koppelingen/{las_koppeling.pk}/sleutel/").content.decode()
    issued = re.search(rf"{v.code6}-[A-Za-z0-9]{{40}}", page)
    assert issued, "the issued key is shown once"
    key = issued.group(0)
    # The key issued last is the one that works; the application gets it from the school.
    # --- Application side: ask to connect, the service desk approves, import over HTTP.
    app = Applicatie.objects.create(naam="Rekenwereld", klantcode="REKENWERELD", klantnaam="Rekenwereld")
    ea_school = EaSchool.objects.create(applicatie=app, naam="OBS De Vlinderboom", brincode="21QW")
    bea = User.objects.create_user("bea", email="bea@vlinderboom.example")
    vera = User.objects.create_user("vera", email="vera@rekenwereld.example")
    EaBeheerder.objects.create(user=bea, school=ea_school)
    Klantenservice.objects.create(user=vera, applicatie=app)
    ea_admin, desk = Client(), Client()
    ea_admin.force_login(bea)
    desk.force_login(vera)
    response = ea_admin.post(f"/applicatie/school/{ea_school.pk}/koppelen/", {
        "las_type": LasType.objects.get(naam="Koppelpunt (eigen LAS)").pk, "brincode": "21QW",
        "dependancecode": "00", "schooljaar": huidig_schooljaar(), "autorisatiesleutel": key, "schoolkey": "",
        "actie": "aanvragen"})
    assert response.status_code in (200, 302)
    aanvraag = LasKoppeling.objects.get()
    assert desk.post(f"/applicatie/klantenservice/aanvraag/{aanvraag.pk}/", {"actie": "goedkeuren"}).status_code == 302
    aanvraag.refresh_from_db()
    run = importer.stage(ea_school, koppelen.haal_school(aanvraag), koppeling=aanvraag)
    importer.zet_email(run, run.leerkrachten.get(key="T2").pk, "k.mulder@school.example")  # the LAS has none
    result = importer.apply(run)
    assert result["leerlingen_nieuw"] == 3
    # --- Results back to the school.
    a = soap.Autorisatie(key, "REKENWERELD", "Rekenwereld")
    verzoek = lr.LeerresultatenVerzoek(
        school=lr.ResultatenSchool(schooljaar=huidig_schooljaar(), aanmaakdatum=dt.datetime(2026, 11, 20, 10),
                                   brincode="21QW"),
        toetsafnames=(lr.Toetsafname("L1", (lr.Resultaat("R1", dt.date(2026, 11, 18), "T1", 30),),
                                     eckid="https://ketenid.nl/pilot/" + "a1" * 64),),
        toetsen=(lr.Toets(toetscode=lr.VocabulaireGebondenVeld("T1"), toetsnaam="Rekenen",
                          toetsnormering=lr.Normering((lr.Norm("Goed", 0, 50),))),),
    )
    partner = Client(REMOTE_ADDR="198.51.100.20")
    assert partner.post(LR_URL, lr.build_request(verzoek, a), content_type="text/xml").status_code == 200
    # --- Wrong keys until the lockout, then an unexpected error with the key in scope.
    guesser = Client(REMOTE_ADDR="203.0.113.66")
    for i in range(4):
        bad = soap.Autorisatie(f"21QW00-gok-{i:08d}-niet-de-goede", "REKENWERELD", "Rekenwereld")
        body = lg.build_request(Verzoek(Operation.HAAL_LEERLINGGEGEVENS, huidig_schooljaar(), brincode="21QW"), bad)
        guesser.post(LG_URL, body, content_type="text/xml")
    assert autorisatie.active_lockouts().exists()
    from las import leerlinggegevens as las_lg

    def boom(koppeling: Any, verzoek: Any, **kw: Any) -> Any:
        raise RuntimeError(f"database went away while serving {koppeling.pk}")

    monkeypatch.setattr(las_lg, "serve", boom)
    body = lg.build_request(Verzoek(Operation.HAAL_LEERLINGGEGEVENS, huidig_schooljaar(), brincode="21QW"), a)
    assert b"InterneFout" in partner.post(LG_URL, body, content_type="text/xml").content
    return key


def test_nightly_sync_logs_and_mails_hold_no_keys_or_pupil_data(settings: Any, monkeypatch: Any,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """The nightly jobs (pull, new pupils for an admin, a failing LAS, results pushed) log and mail counts and
    ids only: no autorisatiesleutel, no pupil name or birth date."""
    import datetime as _dt

    from sync import services
    from sync.simulatie import SimLas, achternaam, brin, seed, sleutel

    monkeypatch.setattr(services, "dispatch", lambda kind, pk, delay: None)  # the jobs run in this process
    settings.BASE_URL = "https://koppelpunt.example"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with SimLas(aantal=3) as las, caplog.at_level(logging.DEBUG):
            seed(3, las.base_url)
            las.scholen[brin(1)].nieuw = 2  # new pupils: the admins get a mail
            las.scholen[brin(2)].hernoemd = 2  # renamed pupils: applied automatically
            services.plan_nacht(_dt.date(2026, 11, 26))
            services.run_due()
            las.down = 3  # the next night the LAS refuses requests: logged, retried later
            services.plan_nacht(_dt.date(2026, 11, 27))
            services.run_due()
            services.close_transport()
    finally:
        root.removeHandler(handler)
    logs = stream.getvalue() + "\n".join(f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in caplog.records)
    mails = "\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox)
    assert len(caplog.records) > 5 and mail.outbox
    for name, text in (("logs", logs), ("e-mails", mails)):
        for i in range(3):
            assert sleutel(i) not in text, name
            assert sleutel(i)[6:] not in text, name
            for j in range(25):
                assert achternaam(i, j) not in text, (name, achternaam(i, j))
        assert "2016-09-01" not in text and "01-09-2016" not in text, name
