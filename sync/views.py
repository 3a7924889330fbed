"""Screens of the nightly sync (Dutch via i18n): per connection the last and next sync, its outcome, the last
results push and the safety valves; for the service desk an overview of the connections that need attention."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ea.klantenservice import actieve_koppeling
from ea.models import ImportRun, Klantenservice, School
from ea.permissions import beheerde_scholen
from sync import services
from sync.forms import InstellingForm
from sync.models import ResultPush, SyncRun, ToetsResultaat


def _klantenservice_app(user: Any) -> int | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Klantenservice.objects.filter(user=user).values_list("applicatie_id", flat=True).first()


def _school(request: HttpRequest, school_id: int) -> School:
    """A school this user administers, or one of the application the user is service desk of; else 404."""
    school = beheerde_scholen(request.user).filter(pk=school_id).select_related("applicatie").first()
    if school is None:
        app = _klantenservice_app(request.user)
        if app is not None:
            school = School.objects.filter(pk=school_id, applicatie_id=app).select_related("applicatie").first()
    if school is None:
        raise Http404
    return school


def _context(request: HttpRequest, school: School, form: InstellingForm | None = None) -> dict[str, Any]:
    inst = services.instelling(school)
    runs = list(SyncRun.objects.filter(school=school).select_related("import_run")[:10])
    laatste = next((r for r in runs if r.state not in SyncRun.ACTIVE), None)
    lopend = next((r for r in runs if r.state in SyncRun.ACTIVE), None)
    resultaten = ToetsResultaat.objects.filter(school=school).aggregate(
        totaal=Count("id"),
        afgeleverd=Count("id", filter=Q(afgeleverd_op__isnull=False)),
        zonder_nummer=Count("id", filter=Q(afgeleverd_op__isnull=True, leerling__extern_key="")),
    )
    return {
        "school": school,
        "koppeling": actieve_koppeling(school),
        "inst": inst,
        "form": form or InstellingForm(instance=inst),
        "runs": runs,
        "laatste": laatste,
        "lopend": lopend,
        "volgende": services.volgende_sync(school),
        "gepauzeerd_nu": inst.gepauzeerd(services._vandaag()),
        "laatste_push": ResultPush.objects.filter(school=school).first(),
        "resultaten": resultaten,
        "open_import": ImportRun.objects.filter(school=school, state=ImportRun.STAGED).first(),
        "is_klantenservice": _klantenservice_app(request.user) == school.applicatie_id,
    }


@login_required
def school(request: HttpRequest, school_id: int) -> HttpResponse:
    obj = _school(request, school_id)
    return render(request, "sync/school.html", _context(request, obj))


@login_required
@require_POST
def instellingen(request: HttpRequest, school_id: int) -> HttpResponse:
    obj = _school(request, school_id)
    form = InstellingForm(request.POST, instance=services.instelling(obj))
    if form.is_valid():
        form.save()
        messages.success(request, _("The sync settings have been saved."))
        return redirect("sync:school", obj.pk)
    return render(request, "sync/school.html", _context(request, obj, form), status=400)


@login_required
@require_POST
def nu(request: HttpRequest, school_id: int) -> HttpResponse:
    """ "Nu synchroniseren": hand a sync of this school to the workers (the page shows its progress)."""
    obj = _school(request, school_id)
    if actieve_koppeling(obj) is None:
        messages.error(request, _("There is no approved connection with a LAS yet."))
    elif services.plan_handmatig([obj.pk], enqueue=True):
        services.plan_pushes([obj.pk])
        messages.success(request, _("The sync has been queued; refresh this page in a moment to see the outcome."))
    return redirect("sync:school", obj.pk)


def _laatste_per_school(model_cls: Any, app_id: int) -> list[Any]:
    ids = (
        model_cls.objects.filter(school__applicatie_id=app_id)
        .values("school_id")
        .annotate(m=Max("id"))
        .values_list("m", flat=True)
    )
    return list(model_cls.objects.filter(pk__in=list(ids)).select_related("school"))


@login_required
def overzicht(request: HttpRequest) -> HttpResponse:
    """The service desk's list of connections that need attention: failed, held or waiting syncs, and results the
    LAS rejected, gave up on, or is being retried for."""
    app = _klantenservice_app(request.user)
    if app is None:
        raise PermissionDenied
    syncs = [
        r
        for r in _laatste_per_school(SyncRun, app)
        if r.state in (SyncRun.FAILED, SyncRun.HELD, SyncRun.NEEDS_PERSON)
        or (r.state == SyncRun.PLANNED and r.attempts > 0)
    ]
    pushes = [
        p
        for p in _laatste_per_school(ResultPush, app)
        if p.state in (ResultPush.REJECTED, ResultPush.FAILED) or (p.state == ResultPush.QUEUED and p.attempts > 0)
    ]
    volgorde = {SyncRun.FAILED: 0, SyncRun.PLANNED: 1, SyncRun.HELD: 2, SyncRun.NEEDS_PERSON: 3}
    syncs.sort(key=lambda r: (volgorde.get(r.state, 9), r.school.naam))
    pushes.sort(key=lambda p: (p.state != ResultPush.REJECTED, p.school.naam))
    # A push the LAS refused in part (some pupils or scores): how many of its results are still with it.
    open_per_push = dict(
        ToetsResultaat.objects.filter(push__in=pushes, afgeleverd_op__isnull=True)
        .values_list("push_id")
        .annotate(n=Count("id"))
    )
    for p in pushes:
        p.niet_afgeleverd = open_per_push.get(p.pk, 0)
    totaal = SyncRun.objects.filter(school__applicatie_id=app).values("school_id").distinct().count()
    return render(request, "sync/overzicht.html", {"syncs": syncs, "pushes": pushes, "totaal": totaal})


@login_required
@require_POST
def opnieuw(request: HttpRequest, pk: int) -> HttpResponse:
    app = _klantenservice_app(request.user)
    if app is None:
        raise PermissionDenied
    push = get_object_or_404(ResultPush, pk=pk, school__applicatie_id=app)
    if services.opnieuw_versturen(push):
        messages.success(request, _("The results are queued to be sent again."))
    else:
        messages.error(request, _("These results cannot be sent again now."))
    return redirect("sync:overzicht")
