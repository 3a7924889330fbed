"""School-side screens around the UWLR service: issuing an autorisatiesleutel, and the results partners brought.

Every view resolves the vestiging through `vestiging_for_user_or_404` (a vestiging someone does not manage does
not exist for them), and every query is scoped to that vestiging.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from las import autorisatie
from las.models import Groep, Koppeling, KoppelingStatus, Leerling, Toetsresultaat, Vestiging
from las.permissions import vestiging_for_user_or_404


def _breadcrumb(*parts: str) -> str:
    return " > ".join([_("Management"), *parts])


@login_required
@require_http_methods(["GET", "POST"])
def sleutel_uitgeven(request: HttpRequest, code6: str, pk: int) -> HttpResponse:
    """Issue an autorisatiesleutel for the partner (SchoolOAS): GET explains, POST issues and shows it once."""
    vestiging = vestiging_for_user_or_404(request.user, code6)
    koppeling = get_object_or_404(Koppeling.objects.select_related("aanbod", "vestiging__school"),
                                  pk=pk, vestiging=vestiging)
    if koppeling.status == KoppelingStatus.BEEINDIGD:
        messages.error(request, _("An ended koppeling cannot be changed."))
        return redirect("las:detail", code6=vestiging.code6, pk=koppeling.pk)
    crumb = _breadcrumb(_("Koppelingen"), koppeling.aanbod.naam, _("Issue authorisation key"))
    if request.method == "POST":
        sleutel = autorisatie.issue_key(koppeling, request.user)
        # Rendered, not redirected: the key exists only in this response.
        response = render(request, "las/sleutel_getoond.html", {
            "vestiging": vestiging, "koppeling": koppeling, "sleutel": sleutel, "breadcrumb": crumb,
        })
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "las/sleutel_uitgeven.html", {
        "vestiging": vestiging, "koppeling": koppeling, "breadcrumb": crumb,
    })


def _resultaten(vestiging: Vestiging):
    return Toetsresultaat.objects.filter(leerling__vestiging=vestiging).select_related(
        "toets", "leerling", "koppeling__aanbod")


@login_required
def resultaten(request: HttpRequest, code6: str) -> HttpResponse:
    """Overview: groups with their number of results, and the latest results received."""
    vestiging = vestiging_for_user_or_404(request.user, code6)
    groepen = (
        Groep.objects.filter(vestiging=vestiging)
        .annotate(aantal=Count("leerlingen__toetsresultaten"))
        .select_related("schooljaar").order_by("-schooljaar__begindatum", "naam")
    )
    laatste = _resultaten(vestiging).order_by("-ontvangen_op", "-pk")[:50]
    return render(request, "las/resultaten.html", {
        "vestiging": vestiging, "groepen": groepen, "laatste": laatste,
        "breadcrumb": _breadcrumb(_("Results")),
    })


@login_required
def resultaten_groep(request: HttpRequest, code6: str, groep_id: int) -> HttpResponse:
    vestiging = vestiging_for_user_or_404(request.user, code6)
    groep = get_object_or_404(Groep, pk=groep_id, vestiging=vestiging)
    rijen = _resultaten(vestiging).filter(leerling__groep=groep).order_by(
        "leerling__achternaam", "leerling__roepnaam", "-afnamedatum", "toets__toetsnaam")
    return render(request, "las/resultaten_groep.html", {
        "vestiging": vestiging, "groep": groep, "rijen": rijen,
        "breadcrumb": _breadcrumb(_("Results"), groep.naam),
    })


@login_required
def resultaten_leerling(request: HttpRequest, code6: str, leerling_id: int) -> HttpResponse:
    vestiging = vestiging_for_user_or_404(request.user, code6)
    leerling = get_object_or_404(Leerling.objects.select_related("groep"), pk=leerling_id, vestiging=vestiging)
    rijen = _resultaten(vestiging).filter(leerling=leerling).order_by("-afnamedatum", "toets__toetsnaam")
    return render(request, "las/resultaten_leerling.html", {
        "vestiging": vestiging, "leerling": leerling, "rijen": rijen,
        "breadcrumb": _breadcrumb(_("Results"), leerling.volledige_naam),
    })
