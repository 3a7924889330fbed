from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render


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


def health(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:
        return JsonResponse({"status": "error", "component": "database"}, status=503)
