"""Every URL the project serves, enumerated from Django's resolver, checked against every role.

- anonymous → redirect to the login page (or 403/404), except the few public URLs listed below;
- a logged-in user of the wrong role or the wrong school → 403/404 (never the page, never a success);
- a POST without a CSRF token, even by the owner → 403 (only the two UWLR SOAP endpoints are CSRF-exempt);
- every HTML answer carries the Content-Security-Policy header, and session/CSRF cookies are HttpOnly/SameSite.
New URLs are picked up automatically: their parameters are filled from the victim's objects by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from ea import lastypes
from ea import models as ea
from las.models import Groep, KoppelingAanbod, Leerling
from tests.las.uwlr_helpers import activate, school, vestiging

pytestmark = pytest.mark.django_db

# URLs anyone may open. SOAP endpoints authenticate with the autorisatie header; `bevestigen` with its token.
PUBLIC = {"home", "health", "login", "admin_login", "logout", "las:voorwaarden", "las:bevestigen",
          "las:uwlr_leerlinggegevens", "las:uwlr_leerresultaten"}
CSRF_EXEMPT = {"las:uwlr_leerlinggegevens", "las:uwlr_leerresultaten"}
DENIED = {403, 404}


@dataclass
class Route:
    name: str
    route: str
    callback: Any


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue  # Django's admin has its own staff + permission model, checked in test_admin_requires_staff
            sub_ns = f"{ns}{p.namespace}:" if p.namespace else ns
            yield from _walk(p.url_patterns, prefix + str(p.pattern), sub_ns)
        elif isinstance(p, URLPattern):
            yield Route(f"{ns}{p.name}", prefix + str(p.pattern), p.callback)


ROUTES = sorted(_walk(get_resolver().url_patterns), key=lambda r: r.name)


@dataclass
class World:
    owner: dict[str, Client]   # namespace/kind → a client that owns the victim's objects
    others: dict[str, Client]  # role name → a client that must not see them
    values: dict[str, dict[str, Any]]


def _client(user: Any, **kw: Any) -> Client:
    client = Client(**kw)
    client.force_login(user)
    return client


@pytest.fixture
def world(db: None, settings: Any) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User = get_user_model()
    # School side: the victim vestiging 21QW00 (Anna), another school 12AB (Bram).
    school("21QW", (("00", 4),))
    school("12AB", (("00", 3),), seed=2)
    v = vestiging("21QW")
    k, _code = activate(v, "snappet")
    anna, bram = User.objects.create_user("anna"), User.objects.create_user("bram")
    from las.models import SchoolBeheerder as LasBeheerder

    LasBeheerder.objects.create(user=anna, vestiging=v)
    LasBeheerder.objects.create(user=bram, vestiging=vestiging("12AB"))
    # Application side: the victim school (Xavier admin), another school (Yara), service desks of two apps.
    lastypes.ensure()
    app = ea.Applicatie.objects.create(naam="Rekenwereld", klantcode="REKENWERELD", klantnaam="Rekenwereld B.V.")
    other_app = ea.Applicatie.objects.create(naam="Taalwereld", klantcode="TAAL", klantnaam="Taal B.V.")
    ea_school = ea.School.objects.create(applicatie=app, naam="OBS De Linde", brincode="21QW", dependancecode="00")
    ea_other = ea.School.objects.create(applicatie=app, naam="CBS Anders", brincode="12AB", dependancecode="00")
    xavier, yara, ks, ks_other, plain = (User.objects.create_user(n) for n in
                                         ("xavier", "yara", "klantenservice", "klantenservice_taal", "plain"))
    ea.SchoolBeheerder.objects.create(user=xavier, school=ea_school)
    ea.SchoolBeheerder.objects.create(user=yara, school=ea_other)
    ea.Klantenservice.objects.create(user=ks, applicatie=app)
    ea.Klantenservice.objects.create(user=ks_other, applicatie=other_app)
    aanvraag = ea.LasKoppeling.objects.create(
        school=ea_school, las_type=ea.LasType.objects.first(), brincode="21QW", schooljaar="2026-2027",
        autorisatiesleutel_versleuteld="x", klantcode=app.klantcode, klantnaam=app.klantnaam)
    run = ea.ImportRun.objects.create(school=ea_school, schooljaar="2026-2027")
    staged = ea.StagedLeerling.objects.create(run=run, key="L1", achternaam="Jansen")
    staff = User.objects.create_user("staff", is_staff=True)
    las_values = {"code6": v.code6, "pk": k.pk, "slug": KoppelingAanbod.objects.filter(actief=True).first().slug
                  if hasattr(KoppelingAanbod, "actief") else "snappet",
                  "groep_id": Groep.objects.filter(vestiging=v).first().pk,
                  "leerling_id": Leerling.objects.filter(vestiging=v).first().pk, "token": "x" * 40}
    ea_values = {"school_id": ea_school.pk, "run_id": run.pk, "tab": "leerlingen", "staged_id": staged.pk,
                 "pk": aanvraag.pk}
    return World(
        owner={"las": _client(anna), "ea": _client(xavier), "ks": _client(ks), "sync": _client(xavier)},
        others={"bram (other school)": _client(bram), "yara (other EA school)": _client(yara),
                "service desk of another app": _client(ks_other), "plain user": _client(plain),
                "staff without permissions": _client(staff), "anna (school side)": _client(anna),
                "xavier (EA admin)": _client(xavier), "service desk": _client(ks)},
        values={"las": las_values, "ea": ea_values, "sync": {**ea_values, "pk": 10**9}, "": {}},
    )


def _url(route: Route, world: World) -> str:
    ns = route.name.split(":", 1)[0] if ":" in route.name else ""
    values = world.values.get(ns, {})

    def fill(m: re.Match[str]) -> str:
        name = m.group(2)
        return str(values.get(name, 10**9 if (m.group(1) or "") == "int" else "x"))

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: fill(m), route.route)


def _kind(route: Route) -> str:
    """Which owner role a URL belongs to."""
    ns = route.name.split(":", 1)[0] if ":" in route.name else ""
    if ns == "ea" and "klantenservice" in route.route:
        return "ks"
    if ns == "sync" and "klantenservice" in route.route:
        return "ks"
    return ns


# Overview pages every user of a side may open: they must list only the user's own things (no victim marker).
LISTS = {"las:koppelingen", "ea:home", "ea:aanvragen", "sync:overzicht"}
VICTIM_MARKERS = ("OBS De Linde", "Vestiging 21QW00", "School 21QW")


def _allowed_others(route: Route) -> set[str]:
    """Roles other than the owner that may legitimately use a URL on the victim's objects."""
    kind = _kind(route)
    if kind == "las":
        return {"anna (school side)"}
    if kind == "ea":
        return {"xavier (EA admin)"}
    if kind == "sync":  # the application's own service desk may run a school's synchronisation
        return {"xavier (EA admin)", "service desk"}
    if kind == "ks":
        return {"service desk"}
    return set()


PRIVATE = [r for r in ROUTES if r.name not in PUBLIC]


def test_every_route_is_classified() -> None:
    assert {r.name for r in ROUTES} >= {"las:detail", "ea:koppelen", "ea:aanvraag"}
    exempt = {r.name for r in ROUTES if getattr(r.callback, "csrf_exempt", False)}
    assert exempt == CSRF_EXEMPT, f"unexpected CSRF-exempt views: {exempt - CSRF_EXEMPT}"


@pytest.mark.parametrize("route", PRIVATE, ids=lambda r: r.name)
def test_anonymous_is_sent_to_login(route: Route, world: World) -> None:
    url = _url(route, world)
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        if response.status_code == 302:
            assert response["Location"].startswith("/inloggen/"), (method, url, response["Location"])
        else:
            assert response.status_code in DENIED | {405}, (method, url, response.status_code)


@pytest.mark.parametrize("route", PRIVATE, ids=lambda r: r.name)
def test_wrong_role_is_refused(route: Route, world: World) -> None:
    url = _url(route, world)
    allowed = _allowed_others(route)
    for role, client in world.others.items():
        if role in allowed:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"actie": "beeindigen", "besluit": "negeren"}
                                               if method == "post" else None)
            if route.name in LISTS and response.status_code in (200, 302):
                text = response.content.decode()
                assert not [m for m in VICTIM_MARKERS if m in text], (role, url)
                continue
            assert response.status_code in DENIED | {405}, (role, method, url, response.status_code)


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name not in CSRF_EXEMPT], ids=lambda r: r.name)
def test_post_without_csrf_token_is_refused(route: Route, world: World) -> None:
    owner = world.owner.get(_kind(route))
    client = Client(enforce_csrf_checks=True)
    if owner is not None:
        client.cookies = owner.cookies
    response = client.post(_url(route, world), {"actie": "beeindigen"})
    assert response.status_code == 403, (route.name, response.status_code)


def test_owner_pages_have_csp_and_safe_cookies(world: World) -> None:
    checked = 0
    for route in PRIVATE:
        owner = world.owner.get(_kind(route))
        if owner is None:
            continue
        response = owner.get(_url(route, world))
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            csp = response["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, route.name
            assert "unsafe-inline" not in csp
            checked += 1
    assert checked >= 8
    login = Client().get("/inloggen/")
    assert "Content-Security-Policy" in login
    session = Client()
    from tests.las.cast import PASSWORD

    get_user_model().objects.create_user("cookie", password=PASSWORD)
    session.post("/inloggen/", {"username": "cookie", "password": PASSWORD})
    morsel = session.cookies["sessionid"]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"


def test_admin_requires_staff(world: World) -> None:
    assert Client().get("/beheer/django/").status_code == 302
    for role in ("plain user", "anna (school side)", "xavier (EA admin)"):
        response = world.others[role].get("/beheer/django/")
        assert response.status_code == 302 and "/login/" in response["Location"], role
    # Staff without model permissions sees no koppeling data.
    response = world.others["staff without permissions"].get("/beheer/django/las/koppeling/")
    assert response.status_code == 403


def test_production_session_and_cookie_settings(tmp_path: Any) -> None:
    """Production settings as a deployment sets them: secure cookies, HSTS, no DEBUG, CSP middleware on."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOPPELPUNT_", "DATABASE_URL"))}
    env.update({"KOPPELPUNT_ENV": "production", "KOPPELPUNT_ALLOWED_HOSTS": "koppelpunt.example.nl",
                "KOPPELPUNT_SECRET_KEY": "s" * 60, "KOPPELPUNT_KEY_PEPPER": "p" * 48,
                "KOPPELPUNT_FIELD_ENCRYPTION_KEY": "f" * 44, "KOPPELPUNT_DATA_DIR": str(tmp_path),
                "DJANGO_SETTINGS_MODULE": "koppelpunt.settings"})
    script = ("import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n, None) for n in ["
              "'DEBUG','SESSION_COOKIE_SECURE','SESSION_COOKIE_HTTPONLY','SESSION_COOKIE_SAMESITE','CSRF_COOKIE_SECURE',"
              "'SECURE_SSL_REDIRECT','SECURE_HSTS_SECONDS','SECURE_CONTENT_TYPE_NOSNIFF','X_FRAME_OPTIONS',"
              "'SESSION_COOKIE_AGE','MIDDLEWARE']}))")
    result = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    s = json.loads(result.stdout.strip().splitlines()[-1])
    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["SESSION_COOKIE_HTTPONLY"]
    assert s["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert s["SECURE_SSL_REDIRECT"] and s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"] and s["X_FRAME_OPTIONS"] == "DENY"
    assert s["SESSION_COOKIE_AGE"] <= 12 * 3600
    assert "koppelpunt.middleware.ContentSecurityPolicyMiddleware" in s["MIDDLEWARE"]
    assert "django.middleware.csrf.CsrfViewMiddleware" in s["MIDDLEWARE"]
