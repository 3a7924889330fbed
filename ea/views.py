"""Screens of the application side. Server-rendered, Dutch (via i18n), no inline script or style (CSP)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ea import importer, klantenservice, leerlingbeheer, tasks
from ea import koppelen as las
from ea.forms import AfwijsForm, KoppelForm, ZoekForm, huidig_schooljaar
from ea.importer.reconcile import STAGED_MODELS, TARGET_MODELS
from ea.models import Besluit, Groep, ImportRun, LasKoppeling, Leerkracht, Leerling, LinkRule, School, StagedGroep
from ea.permissions import beheerde_scholen, is_klantenservice

View = Callable[..., HttpResponse]
TABS = {"groepen": LinkRule.GROEP, "leerkrachten": LinkRule.LEERKRACHT, "leerlingen": LinkRule.LEERLING}
SECTIE_LIMIET = 300
# Seconds between two looks of the fetch page at its fetch.
OPHALEN_VERVERSEN = 2


def beheerder_view(view: View) -> View:
    """The school in the URL must be one the user administers; passes the School instead of its id."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, school_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        school = beheerde_scholen(request.user).filter(pk=school_id).select_related("applicatie").first()
        if school is None:
            raise Http404
        return view(request, school, *args, **kwargs)

    return wrapped


def klantenservice_view(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_klantenservice(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scholen = list(beheerde_scholen(request.user))
    ks = is_klantenservice(request.user)
    if ks and not scholen:
        return redirect("ea:aanvragen")
    if len(scholen) == 1 and not ks:
        return redirect("ea:koppelen", scholen[0].pk)
    if not scholen and not ks:
        raise PermissionDenied
    return render(request, "ea/home.html", {"scholen": scholen, "klantenservice": ks})


# ---------------------------------------------------------------------------------------------------------------
# Koppelen met LAS


def _initial(school: School, koppeling: LasKoppeling | None) -> dict[str, Any]:
    if koppeling:
        return {
            "las_type": koppeling.las_type_id,
            "brincode": koppeling.brincode,
            "dependancecode": koppeling.dependancecode,
            "schooljaar": koppeling.schooljaar,
            "schoolkey": koppeling.schoolkey,
        }
    return {"brincode": school.brincode, "dependancecode": school.dependancecode, "schooljaar": huidig_schooljaar()}


@beheerder_view
def koppelen(request: HttpRequest, school: School) -> HttpResponse:
    actief = klantenservice.actieve_koppeling(school)
    aanvraag = klantenservice.lopende_aanvraag(school)
    afwijzing = klantenservice.laatste_afwijzing(school)
    if request.method == "POST":
        actie = request.POST.get("actie")
        form = KoppelForm(request.POST, sleutel_verplicht=actie != "opslaan")
        if form.is_valid():
            if actie == "opslaan" and actief:
                klantenservice.opslaan(actief, form.cleaned_data)
                messages.success(request, _("Your changes have been saved."))
                return redirect("ea:koppelen", school.pk)
            if actie == "aanvragen":
                klantenservice.aanvragen(school, form.cleaned_data, request.user)
                messages.success(
                    request,
                    _("Your request has been filed. The service desk checks it; you will receive an e-mail."),
                )
                return redirect("ea:koppelen", school.pk)
            messages.error(request, _("Unknown action."))
    else:
        form = KoppelForm(initial=_initial(school, actief or aanvraag), sleutel_verplicht=actief is None)
    return render(
        request,
        "ea/koppelen.html",
        {"school": school, "form": form, "actief": actief, "aanvraag": aanvraag, "afwijzing": afwijzing},
    )


@beheerder_view
def verwijder_nummers(request: HttpRequest, school: School) -> HttpResponse:
    if request.method == "POST":
        groepen, leerlingen = las.verwijder_nummers(school)
        messages.success(
            request,
            _("The external numbers of %(g)d groups and %(l)d pupils have been removed. No data was deleted.")
            % {"g": groepen, "l": leerlingen},
        )
        return redirect("ea:koppelen", school.pk)
    context = {
        "school": school,
        "groepen": Groep.objects.filter(school=school).exclude(extern_key="").count(),
        "leerlingen": Leerling.objects.filter(school=school).exclude(extern_key="", eckid="").count(),
    }
    return render(request, "ea/verwijder_nummers.html", context)


# ---------------------------------------------------------------------------------------------------------------
# Service desk


@klantenservice_view
def aanvragen(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert user.is_authenticated  # klantenservice_view lets only a signed-in service-desk user in
    base = LasKoppeling.objects.filter(school__applicatie__klantenservice__user=user).select_related(
        "school", "las_type", "requested_by", "decided_by"
    )
    return render(
        request,
        "ea/aanvragen.html",
        {
            "open": base.filter(status=LasKoppeling.AANGEVRAAGD).order_by("requested_at"),
            "besloten": base.exclude(status=LasKoppeling.AANGEVRAAGD).order_by("-decided_at", "-id")[:50],
        },
    )


def _aanvraag(request: HttpRequest, pk: int) -> LasKoppeling:
    return get_object_or_404(
        LasKoppeling.objects.select_related("school", "las_type", "requested_by"),
        pk=pk,
        school__applicatie__klantenservice__user=request.user,
    )


@klantenservice_view
def aanvraag(request: HttpRequest, pk: int) -> HttpResponse:
    koppeling = _aanvraag(request, pk)
    uitkomst = None
    afwijs_form = AfwijsForm()
    if request.method == "POST":
        actie = request.POST.get("actie")
        try:
            if actie == "test":
                uitkomst = las.test_verbinding(koppeling)
            elif actie == "goedkeuren":
                n = klantenservice.goedkeuren(koppeling, request.user)
                messages.success(
                    request, _("The request has been approved; %(n)d administrator(s) were e-mailed.") % {"n": n}
                )
                return redirect("ea:aanvragen")
            elif actie == "afwijzen":
                afwijs_form = AfwijsForm(request.POST)
                if afwijs_form.is_valid():
                    n = klantenservice.afwijzen(koppeling, request.user, afwijs_form.cleaned_data["reden"])
                    messages.success(
                        request, _("The request has been rejected; %(n)d administrator(s) were e-mailed.") % {"n": n}
                    )
                    return redirect("ea:aanvragen")
        except klantenservice.AanvraagFout as exc:
            messages.error(request, str(exc))
            return redirect("ea:aanvragen")
    return render(
        request, "ea/aanvraag.html", {"koppeling": koppeling, "uitkomst": uitkomst, "afwijs_form": afwijs_form}
    )


# ---------------------------------------------------------------------------------------------------------------
# Import wizard


def _run(school: School, run_id: int, *, staged: bool = True) -> ImportRun:
    run = get_object_or_404(ImportRun, pk=run_id, school=school)
    if staged and run.state != ImportRun.STAGED:
        raise Http404
    return run


@beheerder_view
def importeren(request: HttpRequest, school: School) -> HttpResponse:
    """The start of the wizard: "Gegevens importeren" has the school fetched from the LAS in the background
    (`ea.tasks`: a LAS may take longer to answer than a web request may last) and shows the fetch's page."""
    actief = klantenservice.actieve_koppeling(school)
    if request.method == "POST":
        if actief is None:
            messages.error(request, _("There is no approved connection with a LAS yet."))
            return redirect("ea:koppelen", school.pk)
        run = tasks.start(school, actief, request.user)
        return redirect("ea:import_ophalen", school.pk, run.pk)
    ophalen = tasks.lopend(school)
    open_run = school.imports.filter(state=ImportRun.STAGED).first()
    laatste = school.imports.exclude(state__in=[ImportRun.STAGED, ImportRun.OPHALEN]).first()
    return render(
        request,
        "ea/importeren.html",
        {"school": school, "actief": actief, "open_run": open_run, "laatste": laatste, "ophalen": ophalen},
    )


@beheerder_view
def import_ophalen(request: HttpRequest, school: School, run_id: int) -> HttpResponse:
    """The page of one fetch: refreshes itself while the LAS is asked, then goes on to the wizard's first tab; a
    failed or dead fetch shows why, with a button to try again."""
    run = _run(school, run_id, staged=False)
    if run.state == ImportRun.STAGED:
        return redirect("ea:import_tab", school.pk, run.pk, "groepen")
    if run.state not in (ImportRun.OPHALEN, ImportRun.FAILED):
        return redirect("ea:importeren", school.pk)
    vastgelopen = tasks.is_vastgelopen(run)
    context = {
        "school": school,
        "run": run,
        "bezig": run.state == ImportRun.OPHALEN and not vastgelopen,
        "vastgelopen": vastgelopen,
        "verversen": OPHALEN_VERVERSEN,
    }
    return render(request, "ea/import_ophalen.html", context)


def _secties(run: ImportRun, soort: str, q: str) -> dict[str, Any]:
    model = STAGED_MODELS[soort]
    qs = model.objects.filter(run=run)
    if q:
        cond = Q(key__icontains=q)
        cond |= (
            Q(naam__icontains=q) if soort == LinkRule.GROEP else Q(achternaam__icontains=q) | Q(roepnaam__icontains=q)
        )
        qs = qs.filter(cond)
    secties: dict[str, dict[str, Any]] = {}
    for besluit in (Besluit.NIEUW, Besluit.BESTAAND, Besluit.NIET):
        sqs = qs.filter(besluit=besluit)
        rows = list(sqs[:SECTIE_LIMIET])
        secties[besluit.value] = {"rows": rows, "totaal": sqs.count() if len(rows) == SECTIE_LIMIET else len(rows)}
    targets: set[int] = set()
    for sectie in secties.values():
        targets |= {r.target_id for r in sectie["rows"] if r.target_id}
    doel = TARGET_MODELS[soort].objects.in_bulk(list(targets))
    groepnamen = (
        dict(StagedGroep.objects.filter(run=run).values_list("key", "naam")) if soort == LinkRule.LEERLING else {}
    )
    for sectie in secties.values():
        for r in sectie["rows"]:
            r.doel = doel.get(r.target_id)
            r.groepnaam = groepnamen.get(getattr(r, "groep_key", ""), "")
    return secties


@beheerder_view
def import_tab(request: HttpRequest, school: School, run_id: int, tab: str) -> HttpResponse:
    if tab not in TABS:
        raise Http404
    run = _run(school, run_id)
    zoek = ZoekForm(request.GET)
    q = zoek.cleaned_data["q"].strip() if zoek.is_valid() else ""
    context = {
        "school": school,
        "run": run,
        "tab": tab,
        "tabs": [("groepen", _("Groups")), ("leerkrachten", _("Teachers")), ("leerlingen", _("Pupils"))],
        "secties": _secties(run, TABS[tab], q),
        "zoek": zoek,
        "q": q,
        "limiet": SECTIE_LIMIET,
    }
    return render(request, "ea/import_tab.html", context)


def _terug(school: School, run: ImportRun, tab: str, staged_id: int | None = None) -> HttpResponse:
    url = reverse("ea:import_tab", args=[school.pk, run.pk, tab])
    return redirect(f"{url}#r{staged_id}" if staged_id else url)


@require_POST
@beheerder_view
def import_besluit(request: HttpRequest, school: School, run_id: int, tab: str, staged_id: int) -> HttpResponse:
    if tab not in TABS:
        raise Http404
    run = _run(school, run_id)
    try:
        importer.zet_besluit(run, TABS[tab], staged_id, request.POST.get("besluit", ""))
    except importer.ImportFout as exc:
        messages.error(request, str(exc))
    return _terug(school, run, tab, staged_id)


@beheerder_view
def import_koppel(request: HttpRequest, school: School, run_id: int, tab: str, staged_id: int) -> HttpResponse:
    """ "koppeling aanpassen": search the existing records, "koppel" one, and go back to where the user was."""
    if tab not in TABS:
        raise Http404
    run = _run(school, run_id)
    soort = TABS[tab]
    row = get_object_or_404(STAGED_MODELS[soort], run=run, pk=staged_id)
    if request.method == "POST":
        try:
            target = int(request.POST.get("target", ""))
            importer.koppel_handmatig(run, soort, staged_id, target)
        except (ValueError, importer.ImportFout) as exc:
            messages.error(request, str(exc) if isinstance(exc, importer.ImportFout) else _("Choose a record."))
            return redirect(request.get_full_path())
        return _terug(school, run, tab, staged_id)
    zoek = ZoekForm(request.GET)
    q = zoek.cleaned_data["q"].strip() if zoek.is_valid() else ""
    model = TARGET_MODELS[soort]
    qs = model.objects.filter(school=school)
    if soort == LinkRule.GROEP:
        qs = qs.filter(gearchiveerd=False)
        if q:
            qs = qs.filter(naam__icontains=q)
    else:
        if soort == LinkRule.LEERLING:
            qs = qs.select_related("groep")
        if q:
            qs = qs.filter(Q(achternaam__icontains=q) | Q(roepnaam__icontains=q) | Q(extern_key=q))
    kandidaten = list(qs.order_by(*(["naam"] if soort == LinkRule.GROEP else ["achternaam", "roepnaam"]))[:100])
    return render(
        request,
        "ea/import_koppel.html",
        {"school": school, "run": run, "tab": tab, "row": row, "zoek": zoek, "q": q, "kandidaten": kandidaten},
    )


@require_POST
@beheerder_view
def import_emails(request: HttpRequest, school: School, run_id: int) -> HttpResponse:
    run = _run(school, run_id)
    fouten = []
    for name in request.POST:
        value = request.POST.get(name, "")
        if name.startswith("email-") and name[6:].isdigit():
            try:
                importer.zet_email(run, int(name[6:]), value)
            except importer.ImportFout as exc:
                fouten.append(str(exc))
    for fout in fouten:
        messages.error(request, fout)
    if not fouten:
        messages.success(request, _("The e-mail addresses have been saved."))
    return _terug(school, run, "leerkrachten")


@beheerder_view
def import_samenvatting(request: HttpRequest, school: School, run_id: int) -> HttpResponse:
    run = _run(school, run_id)
    if request.method == "POST":
        actie = request.POST.get("actie")
        if actie == "afbreken":
            importer.afbreken(run)
            messages.success(request, _("The import has been aborted. Nothing has been changed."))
            return redirect("ea:importeren", school.pk)
        if actie == "importeren":
            try:
                resultaat = importer.apply(run, request.user)
            except importer.ImportFout as exc:
                messages.error(request, str(exc))
                run.refresh_from_db()
                if run.state == ImportRun.STAGED:
                    return redirect("ea:import_samenvatting", school.pk, run.pk)
                return redirect("ea:importeren", school.pk)
            messages.success(
                request,
                _(
                    "The data have been imported: %(g)d new groups, %(t)d new teachers, %(l)d new pupils, "
                    "%(w)d pupils changed, %(d)d pupils deactivated."
                )
                % {
                    "g": resultaat["groepen_nieuw"],
                    "t": resultaat["leerkrachten_nieuw"],
                    "l": resultaat["leerlingen_nieuw"],
                    "w": resultaat["leerlingen_gewijzigd"],
                    "d": resultaat["leerlingen_gedeactiveerd"],
                },
            )
            if resultaat.get("leerkrachten_gedeactiveerd"):
                messages.info(
                    request,
                    _("%(n)d teacher(s) no longer in the LAS have been deactivated.")
                    % {"n": resultaat["leerkrachten_gedeactiveerd"]},
                )
            return redirect("ea:leerlingen", school.pk)
    s = importer.samenvatting(run)
    rijen = [(_("Groups"), s["groepen"]), (_("Teachers"), s["leerkrachten"]), (_("Pupils"), s["leerlingen"])]
    return render(request, "ea/import_samenvatting.html", {"school": school, "run": run, "s": s, "rijen": rijen})


# ---------------------------------------------------------------------------------------------------------------
# Leerlingen beheren


@beheerder_view
def leerlingen(request: HttpRequest, school: School) -> HttpResponse:
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("leerling") if i.isdigit()]
        if request.POST.get("actie") == "heractiveren":
            n = leerlingbeheer.heractiveer(school, ids)
            messages.success(request, _("%(n)d pupil(s) reactivated.") % {"n": n})
        return redirect(request.get_full_path())
    status = request.GET.get("status", "actief")
    zoek = ZoekForm(request.GET)
    q = zoek.cleaned_data["q"].strip() if zoek.is_valid() else ""
    groep = leerlingbeheer.groep(school, request.GET.get("groep"))
    qs = leerlingbeheer.leerlingen(school)
    if groep is not None:
        qs = leerlingbeheer.in_groep(qs, groep)
    qs = qs.filter(actief=status != "gedeactiveerd")
    if q:
        qs = qs.filter(Q(achternaam__icontains=q) | Q(roepnaam__icontains=q) | Q(extern_key=q) | Q(eckid=q))
    totaal = qs.count()
    return render(
        request,
        "ea/leerlingen.html",
        {
            "school": school,
            "leerlingen": list(qs[:500]),
            "totaal": totaal,
            "status": status,
            "zoek": zoek,
            "q": q,
            "aantal_gedeactiveerd": Leerling.objects.filter(school=school, actief=False).count(),
            "leerkrachten": Leerkracht.objects.filter(school=school).count(),
            "groep": groep,
            "groepen": leerlingbeheer.groepen(school) if status == "groepen" else [],
        },
    )
