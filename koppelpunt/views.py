from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

log = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the side of the product they work on."""
    from ea.permissions import is_application_user
    from las.permissions import is_school_user

    if is_school_user(request.user):
        return redirect("las:koppelingen")
    if is_application_user(request.user):
        return redirect("ea:home")
    return render(request, "koppelpunt/home.html")


def _database_ok() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _queue_ok() -> None:
    from huey.contrib.djhuey import HUEY

    # A cheap read from the job queue's storage (SQLite file, Redis or PostgreSQL): it fails when the backend
    # is unreachable, which is exactly when scheduled syncs and results pushes stop.
    HUEY.storage.queue_size()


HEALTH_CHECKS = (("database", _database_ok), ("queue", _queue_ok))


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 {"status": "ok"} when every component answers; else 503 naming the first failing component.

    Load balancers and monitoring poll this; it needs no login and says nothing about the data.
    """
    for component, check in HEALTH_CHECKS:
        try:
            check()
        except Exception as exc:
            # Only the type: a message might carry a connection URL with its password.
            log.error("health check failed", extra={"component": component, "error": type(exc).__name__})
            return JsonResponse({"status": "error", "component": component}, status=503)
    return JsonResponse({"status": "ok"})


# ---------------------------------------------------------------------------------------------------------------
# Login with a throttle: Django's LoginView lets anyone guess passwords as fast as the server answers.


def _login_limits() -> dict[str, int]:
    from django.conf import settings

    return {"login-ip": int(getattr(settings, "LOGIN_THROTTLE_FAILURES_IP", 20)),
            "login-user": int(getattr(settings, "LOGIN_THROTTLE_FAILURES_USER", 50))}


def _login_window() -> dt.timedelta:
    from django.conf import settings

    return dt.timedelta(seconds=int(getattr(settings, "LOGIN_THROTTLE_WINDOW_SECONDS", 600)))


def _login_keys(request: HttpRequest) -> list[str]:
    """Counters per client address (behind a trusted proxy: the forwarded one) and per user name tried."""
    from las.uwlr_service import client_ip

    keys = []
    ip = client_ip(request)
    if ip:
        keys.append(f"login-ip:{ip}")
    username = (request.POST.get("username") or "").strip().lower()[:100]
    if username:
        keys.append(login_user_key(username))
    return keys


def login_user_key(username: str) -> str:
    """The counter for a user name, by digest: the table never holds what people typed (sometimes a password,
    sometimes bytes such as NUL that PostgreSQL text columns refuse)."""
    import hashlib

    return "login-user:" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _locked_until(keys: list[str]) -> dt.datetime | None:
    from django.db.models import Max
    from django.utils import timezone

    from las.models import UwlrBlokkade

    return UwlrBlokkade.objects.filter(sleutel__in=keys, geblokkeerd_tot__gt=timezone.now()).aggregate(
        tot=Max("geblokkeerd_tot")
    )["tot"]


def _count_login_failure(keys: list[str]) -> None:
    from django.db import transaction
    from django.utils import timezone

    from las.models import UwlrBlokkade

    now, limits = timezone.now(), _login_limits()
    for sleutel in keys:
        with transaction.atomic():
            rij, created = UwlrBlokkade.objects.select_for_update().get_or_create(
                sleutel=sleutel, defaults={"venster_start": now, "mislukt": 1, "laatste_poging": now})
            if not created:
                if rij.venster_start < now - _login_window():
                    rij.venster_start, rij.mislukt = now, 1
                else:
                    rij.mislukt += 1
                rij.laatste_poging = now
            if rij.mislukt >= limits[sleutel.split(":", 1)[0]] and not rij.actief:
                rij.geblokkeerd_tot = now + _login_window()
                log.warning("login lockout", extra={"blokkade": sleutel.split(":", 1)[0], "mislukt": rij.mislukt})
            rij.save()


class ThrottledLoginView(LoginView):
    """The login page; after too many failed attempts from one address or for one user name it refuses every
    attempt (also a correct one) until the window has passed, without checking the password."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        tot = _locked_until(_login_keys(request))
        if tot is not None:
            from django.utils import timezone

            context = self.get_context_data(form=self.get_form_class()(request), blokkade_tot=timezone.localtime(tot))
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        _count_login_failure(_login_keys(self.request))
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        from las.models import UwlrBlokkade

        # A success resets the address's count (not the user name's: a stranger may be guessing it).
        UwlrBlokkade.objects.filter(sleutel__in=[k for k in _login_keys(self.request) if k.startswith("login-ip:")],
                                    geblokkeerd_tot__isnull=True).update(mislukt=0)
        return super().form_valid(form)
