"""The sync's e-mails to a school's admins go through Django i18n (English msgids, Dutch catalogue) and reach the
admins in exactly the Dutch wording they always had, whatever language the worker's thread happens to have on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation

from ea.models import School
from sync import services
from sync.models import SyncRun
from sync.simulatie import SimLas, brin

pytestmark = pytest.mark.django_db
NACHT = dt.date(2026, 11, 26)


@pytest.fixture(params=["nl", "en"])
def worker_taal(request: pytest.FixtureRequest) -> Iterator[str]:
    """The language active in the worker when it syncs: a huey worker has no request, so it may be anything."""
    with translation.override(request.param):
        yield request.param


def _mail_van(school_id: int) -> tuple[SyncRun, mail.EmailMessage]:
    run = SyncRun.objects.filter(school_id=school_id).latest("planned_at", "id")
    [msg] = mail.outbox
    return run, msg


def test_mail_for_new_records_is_the_dutch_text(scholen: list[int], sim_las: SimLas, worker_taal: str) -> None:
    sim_las.scholen[brin(2)].nieuw = 2
    services.plan_nacht(NACHT)
    services.run_due()
    school = School.objects.get(pk=scholen[2])
    app = school.applicatie.naam
    run, msg = _mail_van(school.pk)
    assert run.state == SyncRun.NEEDS_PERSON
    url = f"https://koppelpunt.example/applicatie/school/{school.pk}/import/{run.import_run_id}/groepen/"
    assert msg.subject == f"{app}: nieuwe gegevens uit het LAS controleren voor {school.naam}"
    assert msg.body == (
        f"Beste beheerder van {school.naam},\n"
        "\n"
        "Vannacht zijn de gegevens van uw school opgehaald uit het leerlingadministratiesysteem (LAS).\n"
        "\n"
        "Deze nieuwe gegevens kunnen niet automatisch worden ingelezen. Daarom willen wij u vragen deze gegevens te "
        "controleren. U kunt dit doen door deze link aan te klikken:\n"
        "\n"
        f"{url}\n"
        "\n"
        "Het gaat om 0 groep(en), 0 leerkracht(en) en 2 leerling(en) die nieuw zijn of die wij niet zeker kunnen "
        f"koppelen aan gegevens die al in {app} staan.\n"
        "Pas als u de gegevens heeft nagekeken en op 'Gegevens importeren' klikt, worden ze in "
        f"{app} geplaatst. Tot die tijd verandert er niets.\n"
        "\n"
        "Met vriendelijke groet,\n"
        f"{app}\n"
        "\n"
    )
    assert translation.get_language() == worker_taal  # the worker's own language is left as it was


def test_mail_for_a_held_import_is_the_dutch_text(scholen: list[int], sim_las: SimLas, worker_taal: str) -> None:
    sim_las.scholen[brin(0)].weg = 5  # 5 of 20 = 25 % would be deactivated; the school holds above 20 %
    services.plan_nacht(NACHT)
    services.run_due()
    school = School.objects.get(pk=scholen[0])
    app = school.applicatie.naam
    run, msg = _mail_van(school.pk)
    assert run.state == SyncRun.HELD
    url = f"https://koppelpunt.example/applicatie/school/{school.pk}/import/{run.import_run_id}/groepen/"
    assert msg.subject == f"{app}: veel wijzigingen uit het LAS voor {school.naam}, graag controleren"
    assert msg.body == (
        f"Beste beheerder van {school.naam},\n"
        "\n"
        "Vannacht zijn de gegevens van uw school opgehaald uit het leerlingadministratiesysteem (LAS).\n"
        "\n"
        "Deze nieuwe gegevens kunnen niet automatisch worden ingelezen: 5 leerlingen (25% van de leerlingen) zouden "
        "worden gewijzigd of gedeactiveerd. Bij meer dan 20% houden wij de import voor de zekerheid vast. Daarom "
        "willen wij u vragen deze gegevens te controleren. U kunt dit doen door deze link aan te klikken:\n"
        "\n"
        f"{url}\n"
        "\n"
        "Klopt het (bijvoorbeeld na de jaarovergang), klik dan op 'Gegevens importeren'. Klopt het niet, kies dan "
        "'Import afbreken' en neem contact op met de leverancier van uw LAS. Tot die tijd verandert er niets.\n"
        "\n"
        "Met vriendelijke groet,\n"
        f"{app}\n"
        "\n"
    )


def test_the_mail_templates_are_translated_not_written_in_dutch() -> None:
    # Rendered in English the same templates give the msgids: the Dutch comes from the catalogue.
    context = {
        "school": {"naam": "OBS De Linde"},
        "applicatie": {"naam": "Rekenwereld"},
        "import_url": "https://koppelpunt.example/x/",
        "telling": {"groepen": 1, "leerkrachten": 2, "leerlingen": 3},
        "aandeel": 25,
        "drempel": 20,
        "geraakt": 5,
    }
    for template in ("niet_automatisch", "vastgehouden"):
        with translation.override("en"):
            subject = render_to_string(f"sync/mail/{template}_onderwerp.txt", context)
            body = render_to_string(f"sync/mail/{template}.txt", context)
        assert subject.startswith("Rekenwereld: ") and "LAS" in subject
        assert body.startswith("Dear administrator of OBS De Linde,\n\nLast night")
        assert body.endswith("Kind regards,\nRekenwereld\n\n")
        for dutch in ("Beste", "Vannacht", "gegevens", "leerling", "Met vriendelijke groet"):
            assert dutch not in subject + body
