"""School-side screens: Koppelingenoverzicht, activeren, bewerken, beëindigen, detail, partner confirmation."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from las import services
from las.catalogus import voorwaarden_path
from las.debug import SecretMaskingFilter
from las.forms import ActiverenForm, BewerkenForm
from las.models import Koppeling, KoppelingAanbod, KoppelingStatus, KoppelingType, Vestiging
from las.permissions import vestiging_for_user_or_404, vestigingen_for

log = logging.getLogger("las.koppelingen")


def _breadcrumb(*parts: str) -> str:
    return " > ".join([_("Management"), _("Koppelingen"), *parts])


def _no_store(response: HttpResponse) -> HttpResponse:
    """Pages that may echo a code back must not be kept in any browser or proxy cache."""
    response["Cache-Control"] = "no-store"
    return response


def _koppeling_or_404(vestiging: Vestiging, pk: int) -> Koppeling:
    return get_object_or_404(
        Koppeling.objects.select_related("aanbod__type", "vestiging__school", "activated_by", "ended_by"),
        pk=pk, vestiging=vestiging,
    )


@login_required
def koppelingen(request: HttpRequest) -> HttpResponse:
    """Entry point (Beheer > Koppelingen): straight to the vestiging, or a chooser when there are several."""
    vestigingen = list(vestigingen_for(request.user))
    if not vestigingen:
        raise Http404("no vestiging")
    if len(vestigingen) == 1:
        return redirect("las:overzicht", code6=vestigingen[0].code6)
    return render(request, "las/vestiging_kiezen.html", {
        "vestigingen": vestigingen, "breadcrumb": _breadcrumb(_("Choose vestiging")),
    })


@login_required
def overzicht(request: HttpRequest, code6: str) -> HttpResponse:
    vestiging = vestiging_for_user_or_404(request.user, code6)
    koppelingen = vestiging.koppelingen.select_related("aanbod__type", "activated_by", "ended_by")
    lopend = list(koppelingen.lopend().order_by("aanbod__type__volgorde", "aanbod__naam"))
    beeindigd = list(koppelingen.beeindigd().order_by("-ended_at"))
    running = {k.aanbod_id: k for k in lopend}
    types = KoppelingType.objects.prefetch_related(
        Prefetch("aanbod", queryset=KoppelingAanbod.objects.filter(beschikbaar=True).order_by("volgorde", "naam"))
    )
    open_slug = request.GET.get("open", "")
    groepen = []
    for ktype in types:
        items = [(aanbod, running.get(aanbod.pk)) for aanbod in ktype.aanbod.all()]
        if items:
            groepen.append({"type": ktype, "items": items, "count": len(items), "open": ktype.slug == open_slug})
    return render(request, "las/overzicht.html", {
        "vestiging": vestiging, "lopend": lopend, "beeindigd": beeindigd, "groepen": groepen,
        "meerdere_vestigingen": vestigingen_for(request.user).count() > 1,
        "breadcrumb": _breadcrumb(_("Koppelingen overview")),
    })


@sensitive_post_parameters("verificatiecode")
@sensitive_variables("data", "form")
@login_required
@require_http_methods(["GET", "POST"])
def activeren(request: HttpRequest, code6: str, slug: str) -> HttpResponse:
    request.exception_reporter_filter = SecretMaskingFilter()
    vestiging = vestiging_for_user_or_404(request.user, code6)
    aanbod = get_object_or_404(KoppelingAanbod.objects.select_related("type"), slug=slug, beschikbaar=True)
    bestaand = vestiging.koppelingen.lopend().filter(aanbod=aanbod).first()
    if bestaand is not None:
        messages.info(request, _("%(aanbod)s is already activated for this vestiging.") % {"aanbod": aanbod.naam})
        return redirect("las:detail", code6=vestiging.code6, pk=bestaand.pk)
    form = ActiverenForm(request.POST or None, vestiging=vestiging)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            koppeling = services.activate(
                vestiging=vestiging, aanbod=aanbod, user=request.user, naam=data["naam"],
                startdatum=data["startdatum"], code=data["verificatiecode"],
                confirm_url_builder=request.build_absolute_uri,
            )
        except services.CodeInUse:
            form.add_error("verificatiecode", _("This verification code is already in use. Choose a different code."))
        except services.AlreadyRunning:
            messages.info(request, _("%(aanbod)s is already activated for this vestiging.") % {"aanbod": aanbod.naam})
            return redirect("las:overzicht", code6=vestiging.code6)
        else:
            # Rendered, not redirected: the code is shown this once and is never put in a session or URL.
            return _no_store(render(request, "las/code_getoond.html", {
                "vestiging": vestiging, "koppeling": koppeling, "code": data["verificatiecode"], "nieuw": True,
                "breadcrumb": _breadcrumb(_("Activate koppeling")),
            }))
    return _no_store(render(request, "las/activeren.html", {
        "vestiging": vestiging, "aanbod": aanbod, "form": form, "breadcrumb": _breadcrumb(_("Activate koppeling")),
    }))


@login_required
def detail(request: HttpRequest, code6: str, pk: int) -> HttpResponse:
    vestiging = vestiging_for_user_or_404(request.user, code6)
    koppeling = _koppeling_or_404(vestiging, pk)
    return render(request, "las/detail.html", {
        "vestiging": vestiging, "koppeling": koppeling, "events": koppeling.events.select_related("user"),
        "breadcrumb": _breadcrumb(koppeling.aanbod.naam),
    })


@sensitive_post_parameters("verificatiecode")
@sensitive_variables("code", "form")
@login_required
@require_http_methods(["GET", "POST"])
def bewerken(request: HttpRequest, code6: str, pk: int) -> HttpResponse:
    request.exception_reporter_filter = SecretMaskingFilter()
    vestiging = vestiging_for_user_or_404(request.user, code6)
    koppeling = _koppeling_or_404(vestiging, pk)
    if koppeling.status == KoppelingStatus.BEEINDIGD:
        messages.error(request, _("An ended koppeling cannot be changed."))
        return redirect("las:detail", code6=vestiging.code6, pk=koppeling.pk)
    form = BewerkenForm(request.POST or None, koppeling=koppeling)
    if request.method == "POST" and form.is_valid():
        if form.actie == BewerkenForm.PAUZEREN:
            services.pause(koppeling, request.user)
            messages.success(request, _("The verification code has been removed: %(aanbod)s is paused.")
                             % {"aanbod": koppeling.aanbod.naam})
            return redirect("las:overzicht", code6=vestiging.code6)
        was_paused = koppeling.status == KoppelingStatus.GEPAUZEERD
        code = form.cleaned_data["verificatiecode"]
        try:
            services.rotate(koppeling, code, request.user)
        except services.CodeInUse:
            form.add_error("verificatiecode", _("This verification code is already in use. Choose a different code."))
        else:
            return _no_store(render(request, "las/code_getoond.html", {
                "vestiging": vestiging, "koppeling": koppeling, "code": code, "hervat": was_paused,
                "breadcrumb": _breadcrumb(_("Edit koppeling")),
            }))
    return _no_store(render(request, "las/bewerken.html", {
        "vestiging": vestiging, "koppeling": koppeling, "form": form, "breadcrumb": _breadcrumb(_("Edit koppeling")),
    }))


@login_required
@require_http_methods(["GET", "POST"])
def beeindigen(request: HttpRequest, code6: str, pk: int) -> HttpResponse:
    vestiging = vestiging_for_user_or_404(request.user, code6)
    koppeling = _koppeling_or_404(vestiging, pk)
    if koppeling.status == KoppelingStatus.BEEINDIGD:
        return redirect("las:detail", code6=vestiging.code6, pk=koppeling.pk)
    if request.method == "POST":
        services.end(koppeling, request.user)
        messages.success(request, _("%(aanbod)s has been ended.") % {"aanbod": koppeling.aanbod.naam})
        return redirect("las:overzicht", code6=vestiging.code6)
    return render(request, "las/beeindigen.html", {
        "vestiging": vestiging, "koppeling": koppeling, "breadcrumb": _breadcrumb(_("End koppeling")),
    })


def voorwaarden(request: HttpRequest, slug: str) -> FileResponse:
    """The terms of use of a koppeling, as a download (they are public documents of the partner)."""
    aanbod = get_object_or_404(KoppelingAanbod, slug=slug)
    path = voorwaarden_path(aanbod.voorwaarden_bestand)
    if path is None:
        raise Http404("no terms file")
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"gebruikersvoorwaarden-{slug}{path.suffix}")


@require_http_methods(["GET", "POST"])
def bevestigen(request: HttpRequest, token: str) -> HttpResponse:
    """The partner's confirmation link. GET only shows what is confirmed (mail scanners follow links); POST does it."""
    try:
        koppeling = services.koppeling_from_token(token)
    except signing.SignatureExpired:
        return render(request, "las/bevestigen.html", {"fout": _(
            "This confirmation link has expired. Ask the school to contact the service desk.")}, status=400)
    except signing.BadSignature:
        return render(request, "las/bevestigen.html", {"fout": _("This confirmation link is not valid.")}, status=400)
    bevestigd = False
    if request.method == "POST":
        wie = (request.POST.get("naam") or "").strip()[:150]
        bevestigd = services.confirm(
            koppeling, wie=_("Partner %(klant)s via confirmation link") % {"klant": koppeling.aanbod.klantnaam},
            notitie=wie,
        )
        koppeling.refresh_from_db()
    return render(request, "las/bevestigen.html", {"koppeling": koppeling, "bevestigd": bevestigd})
