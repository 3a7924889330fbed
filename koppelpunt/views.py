from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
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
