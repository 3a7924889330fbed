"""`koppelpunt sync` in-process (no workers needed): progress as plain lines without a terminal, a summary of the
problems, and clear errors for a school without an approved connection."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from ea.models import LasKoppeling, LasType
from sync.models import ResultPush, SyncRun
from sync.simulatie import SimLas, brin

pytestmark = pytest.mark.django_db


def test_sync_all_now_with_progress(scholen: list[int], sim_las: SimLas) -> None:
    sim_las.scholen[brin(1)].weg = 6
    out = io.StringIO()
    call_command("sync", "--all", stdout=out)
    text = out.getvalue()
    assert "Synchroniseren: 3 school/scholen, 3 resultatenpakket(ten)." in text
    assert "Voortgang [------------------------------] 0/6" in text
    assert "Voortgang [##############################] 6/6  (klaar 2, vastgehouden 1, resultaten afgeleverd 3)" in text
    assert "Simulatieschool 1: vastgehouden – Vastgehouden: 6 van de 20 leerlingen (30%)" in text
    assert text.rstrip().endswith("Klaar.")
    assert SyncRun.objects.filter(aanleiding=SyncRun.HANDMATIG).count() == 3


def test_sync_one_school_without_results(scholen: list[int], sim_las: SimLas) -> None:
    out = io.StringIO()
    call_command("sync", "--school", str(scholen[2]), "--no-results", stdout=out)
    assert "1 school/scholen, 0 resultatenpakket(ten)" in out.getvalue()
    assert sim_las.pulls == {brin(2): 1}
    assert not ResultPush.objects.exists()


def test_sync_refuses_a_school_without_approved_connection(scholen: list[int]) -> None:
    LasKoppeling.objects.filter(school_id=scholen[0]).update(status=LasKoppeling.AFGEWEZEN)
    with pytest.raises(CommandError, match=f"Geen goedgekeurde koppeling voor school {scholen[0]}"):
        call_command("sync", "--school", str(scholen[0]), stdout=io.StringIO())


def test_a_connection_type_without_address_fails_at_once(scholen: list[int]) -> None:
    LasType.objects.filter(naam="Simulatie-LAS").update(leerlinggegevens_url="", leerresultaten_url="")
    call_command("sync", "--all", stdout=io.StringIO())
    run = SyncRun.objects.get(school_id=scholen[0])
    assert (run.state, run.attempts) == (SyncRun.FAILED, 1)
    assert "Voor koppelingstype Simulatie-LAS is nog geen adres ingesteld" in run.fout
    assert set(ResultPush.objects.values_list("state", flat=True)) == {ResultPush.FAILED}
