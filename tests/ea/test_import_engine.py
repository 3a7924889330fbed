"""Stage → reconcile → apply on uwlr.model data against the real database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ea import importer
from ea.importer import bulk as bulk_module
from ea.koppelen import verwijder_nummers
from ea.leerlingbeheer import heractiveer
from ea.models import Besluit, Groep, ImportRun, Leerkracht, Leerling, LinkRule, StagedLeerling
from tests.ea.conftest import eckid, gegevens, leerling
from uwlr import model

pytestmark = pytest.mark.django_db

G5A = model.Groep(key="G5A", naam="Groep 5a", jaargroep="5")
G1 = model.Groep(key="G1", naam="Groep 1", jaargroep="1")
TEACHER = model.Leerkracht(
    key="T1",
    achternaam="Bakker",
    roepnaam="Anna",
    emailadres="a.bakker@school.example",
    groepen=[model.LeerkrachtGroep(key="G5A")],
)


def basis() -> model.Leerlinggegevens:
    return gegevens(
        groepen=[G5A, G1],
        leerlingen=[
            leerling("L1", "Jansen", "Piet", "G5A", eckid=eckid(1)),
            leerling("L2", "Visser", "Sara", "G5A"),
            leerling("L3", "Smit", "Noor", "G1"),
        ],
        leerkrachten=[TEACHER],
    )


def run_import(school: Any, data: model.Leerlinggegevens, **kw: Any) -> ImportRun:
    run = importer.stage(school, data, **kw)
    importer.apply(run)
    return run


def snapshot(school: Any) -> list[tuple[Any, ...]]:
    fields = ("id", "achternaam", "roepnaam", "geboortedatum", "groep_id", "extern_key", "eckid", "actief")
    rows = list(Leerling.objects.filter(school=school).order_by("id").values_list(*fields))
    rows += list(
        Groep.objects.filter(school=school).order_by("id").values_list("id", "naam", "extern_key", "gearchiveerd")
    )
    rows += list(Leerkracht.objects.filter(school=school).order_by("id").values_list("id", "achternaam", "email"))
    return rows


def test_first_import_creates_everything_and_second_import_is_a_no_op(school: Any) -> None:
    run = importer.stage(school, basis())
    s = importer.samenvatting(run)
    assert (s["groepen"]["nieuw"], s["leerkrachten"]["nieuw"], s["leerlingen"]["nieuw"]) == (2, 1, 3)
    result = importer.apply(run)
    assert result["leerlingen_nieuw"] == 3
    assert run.state == ImportRun.APPLIED
    piet = Leerling.objects.get(extern_key="L1")
    assert piet.eckid == eckid(1) and piet.groep.naam == "Groep 5a" and piet.externe_code == eckid(1)
    assert list(Leerkracht.objects.get(extern_key="T1").groepen.values_list("extern_key", flat=True)) == ["G5A"]
    before = snapshot(school)

    again = importer.stage(school, basis())
    s = importer.samenvatting(again)
    for soort in ("groepen", "leerkrachten", "leerlingen"):
        assert (s[soort]["nieuw"], s[soort]["te_wijzigen"]) == (0, 0), soort
    assert s["te_deactiveren"] == 0
    assert importer.apply(again)["leerlingen_gewijzigd"] == 0
    assert snapshot(school) == before


def test_auto_link_by_eckid_first_then_las_key(school: Any) -> None:
    by_eckid = Leerling.objects.create(
        school=school, achternaam="Jansen", roepnaam="Piet", eckid=eckid(1), extern_key="OLD"
    )
    by_key = Leerling.objects.create(school=school, achternaam="Visser", roepnaam="Sara", extern_key="L2")
    # Same LAS key but a different ECK iD: another pupil, so no link.
    other = Leerling.objects.create(school=school, achternaam="Smit", roepnaam="Noor", extern_key="L3", eckid=eckid(99))
    data = basis()
    data.leerlingen[2].eckid = eckid(3)
    run = importer.stage(school, data)
    rows = {r.key: r for r in StagedLeerling.objects.filter(run=run)}
    assert (rows["L1"].besluit, rows["L1"].target_id, rows["L1"].reden) == ("bestaand", by_eckid.pk, "eckid")
    assert (rows["L2"].besluit, rows["L2"].target_id, rows["L2"].reden) == ("bestaand", by_key.pk, "key")
    assert rows["L3"].besluit == "nieuw" and rows["L3"].target_id != other.pk
    importer.apply(run)
    by_eckid.refresh_from_db()
    assert by_eckid.extern_key == "L1"  # the new LAS key is taken over


def test_key_to_eckid_rekeys_in_place(school: Any) -> None:
    run_import(school, basis())
    sara = Leerling.objects.get(extern_key="L2")
    assert sara.eckid == ""
    data = basis()
    data.leerlingen[1].eckid = eckid(2)
    run = importer.stage(school, data)
    assert importer.samenvatting(run)["leerlingen"]["te_wijzigen"] == 1
    importer.apply(run)
    sara.refresh_from_db()
    assert sara.eckid == eckid(2)
    # UWLR 2.3: the LAS now identifies her by ECK iD only; still the same pupil, nothing changes.
    data = basis()
    data.leerlingen[1] = leerling(None, "Visser", "Sara", "G5A", eckid=eckid(2))
    run = importer.stage(school, data)
    s = importer.samenvatting(run)
    assert (s["leerlingen"]["nieuw"], s["leerlingen"]["te_wijzigen"]) == (0, 0)
    importer.apply(run)
    assert Leerling.objects.filter(school=school).count() == 3


def test_proposal_on_name_and_birth_date(school: Any) -> None:
    known = Leerling.objects.create(
        school=school, achternaam="Visser", roepnaam="Sara", geboortedatum=dt.date(2016, 1, 1)
    )
    run = importer.stage(school, basis())
    row = StagedLeerling.objects.get(run=run, key="L2")
    assert (row.besluit, row.target_id, row.reden) == ("bestaand", known.pk, "suggestie")


def test_manual_link_becomes_a_rule_reused_with_a_new_las_key(school: Any) -> None:
    # The application knows "Pieter Jansen" (no numbers, other spelling): no automatic match.
    pieter = Leerling.objects.create(
        school=school, achternaam="Jansen", roepnaam="Pieter", geboortedatum=dt.date(2015, 3, 2)
    )
    run = importer.stage(school, basis())
    row = StagedLeerling.objects.get(run=run, key="L1")
    assert row.besluit == "nieuw"
    importer.koppel_handmatig(run, "leerling", row.pk, pieter.pk)
    assert importer.samenvatting(run)["leerlingen"]["nieuw"] == 2
    importer.apply(run)
    rule = LinkRule.objects.get(school=school, soort="leerling")
    assert (rule.eckid, rule.extern_key, rule.target_id) == (eckid(1), "L1", pieter.pk)
    pieter.refresh_from_db()
    assert (pieter.extern_key, pieter.eckid, pieter.roepnaam) == ("L1", eckid(1), "Piet")

    # New connection: old numbers cleared, the LAS now uses other keys. The rule still finds Pieter.
    verwijder_nummers(school)
    data = basis()
    data.leerlingen[0].key = "NEW-1"
    run = importer.stage(school, data)
    row = StagedLeerling.objects.get(run=run, key="NEW-1")
    assert (row.besluit, row.target_id, row.reden) == ("bestaand", pieter.pk, "regel")
    importer.apply(run)
    assert Leerling.objects.filter(school=school, roepnaam="Piet").count() == 1
    pieter.refresh_from_db()
    assert pieter.extern_key == "NEW-1"


def test_group_not_imported_takes_its_pupils_and_is_remembered(school: Any) -> None:
    run = importer.stage(school, basis())
    g1 = run.groepen.get(key="G1")
    importer.zet_besluit(run, "groep", g1.pk, Besluit.NIET)
    assert StagedLeerling.objects.get(run=run, key="L3").besluit == "niet"
    s = importer.samenvatting(run)
    assert (s["groepen"]["nieuw"], s["leerlingen"]["nieuw"], s["leerlingen"]["niet"]) == (1, 2, 1)
    importer.apply(run)
    assert not Groep.objects.filter(extern_key="G1").exists()
    assert not Leerling.objects.filter(extern_key="L3").exists()
    # Next import: Groep 1 is still Niet importeren (lasting rule), so are its pupils.
    run = importer.stage(school, basis())
    assert run.groepen.get(key="G1").besluit == "niet"
    assert StagedLeerling.objects.get(run=run, key="L3").besluit == "niet"
    # Back to importing by hand: the pupils follow.
    importer.zet_besluit(run, "groep", run.groepen.get(key="G1").pk, Besluit.NIEUW)
    assert StagedLeerling.objects.get(run=run, key="L3").besluit == "nieuw"


def test_missing_pupil_is_deactivated_and_can_be_reactivated(school: Any) -> None:
    run_import(school, basis())
    data = basis()
    del data.leerlingen[1]  # Sara left
    run = importer.stage(school, data)
    assert importer.samenvatting(run)["te_deactiveren"] == 1
    assert importer.apply(run)["leerlingen_gedeactiveerd"] == 1
    sara = Leerling.objects.get(extern_key="L2")
    assert not sara.actief and sara.deactivated_at is not None
    assert heractiveer(school, [sara.pk]) == 1
    sara.refresh_from_db()
    assert sara.actief and sara.deactivated_at is None
    # Deactivated again, then she is back in the LAS: the import reactivates her instead of a duplicate.
    run_import(school, data)
    run_import(school, basis())
    sara.refresh_from_db()
    assert sara.actief and Leerling.objects.filter(school=school).count() == 3


def test_jaarovergang_moves_pupils_archives_groups_without_duplicates(school: Any) -> None:
    run_import(school, basis())
    g6 = model.Groep(key="G6A-2026", naam="Groep 6a", jaargroep="6")
    volgend_jaar = gegevens(
        groepen=[g6],
        leerlingen=[
            leerling("L1", "Jansen", "Piet", "G6A-2026", eckid=eckid(1)),
            leerling("L2", "Visser", "Sara", "G6A-2026"),
        ],
        leerkrachten=[
            model.Leerkracht(
                key="T1", achternaam="Bakker", roepnaam="Anna", groepen=[model.LeerkrachtGroep(key="G6A-2026")]
            )
        ],
        schooljaar="2026-2027",
    )
    run = importer.stage(school, volgend_jaar)
    s = importer.samenvatting(run)
    assert (s["groepen"]["nieuw"], s["leerlingen"]["nieuw"], s["leerlingen"]["te_wijzigen"]) == (1, 0, 2)
    assert (s["te_archiveren"], s["te_deactiveren"]) == (2, 1)
    importer.apply(run)
    assert Leerling.objects.filter(school=school).count() == 3
    assert set(Groep.objects.filter(gearchiveerd=True).values_list("extern_key", flat=True)) == {"G5A", "G1"}
    nieuw = Groep.objects.get(extern_key="G6A-2026")
    assert nieuw.schooljaar == "2026-2027" and not nieuw.gearchiveerd
    assert set(nieuw.leerlingen.values_list("extern_key", flat=True)) == {"L1", "L2"}
    assert not Leerling.objects.get(extern_key="L3").actief  # left the school
    assert list(Leerkracht.objects.get(extern_key="T1").groepen.values_list("extern_key", flat=True)) in (
        ["G5A", "G6A-2026"],
        ["G6A-2026", "G5A"],
    )


def snapshot_counts() -> tuple[int, int, int, int]:
    return (Groep.objects.count(), Leerkracht.objects.count(), Leerling.objects.count(), LinkRule.objects.count())


def test_failure_in_the_middle_of_apply_leaves_database_unchanged(school: Any, monkeypatch: Any) -> None:
    run_import(school, basis())
    before, counts = snapshot(school), snapshot_counts()
    data = basis()
    data.groepen.append(model.Groep(key="G7", naam="Groep 7", jaargroep="7"))
    data.leerlingen[0].achternaam = "Jansen-de Vries"  # a change to an existing pupil
    data.leerlingen += [leerling(f"N{i}", f"Nieuw{i}", "Kind", "G7") for i in range(5)]
    run = importer.stage(school, data)
    # The database itself refuses the second batch of new pupils (a NOT NULL school), after the groups, the
    # teachers and the first batch of pupils were written.
    monkeypatch.setattr(bulk_module, "BATCH", 2)
    real = bulk_module._convert
    calls = []

    def failing(rows: Any, converters: Any) -> Any:
        out = real(rows, converters)
        calls.append(len(out))
        if len(calls) == 2:
            out[0] = (None, *out[0][1:])
        return out

    monkeypatch.setattr(bulk_module, "_convert", failing)
    with pytest.raises(importer.ImportFout, match="Er is niets veranderd"):
        importer.apply(run)
    assert len(calls) == 2
    assert snapshot(school) == before and snapshot_counts() == counts
    run.refresh_from_db()
    assert run.state == ImportRun.FAILED and run.fout == "IntegrityError"
    assert not StagedLeerling.objects.filter(run=run).exists()  # the staged copy is dropped


def test_new_teacher_without_email_blocks_apply_until_entered(school: Any) -> None:
    data = basis()
    data.leerkrachten.append(model.Leerkracht(key="T2", achternaam="Mulder", roepnaam="Kees"))
    run = importer.stage(school, data)
    counts = snapshot_counts()
    assert len(importer.samenvatting(run)["zonder_email"]) == 1
    with pytest.raises(importer.ImportFout, match="Vul een e-mailadres in.*Kees Mulder"):
        importer.apply(run)
    assert snapshot_counts() == counts
    row = run.leerkrachten.get(key="T2")
    with pytest.raises(importer.ImportFout, match="geen geldig e-mailadres"):
        importer.zet_email(run, row.pk, "kees@")
    importer.zet_email(run, row.pk, "k.mulder@school.example")
    importer.apply(run)
    assert Leerkracht.objects.get(extern_key="T2").email == "k.mulder@school.example"


def test_abort_changes_nothing(school: Any) -> None:
    run = importer.stage(school, basis())
    importer.afbreken(run)
    run.refresh_from_db()
    assert run.state == ImportRun.ABORTED and snapshot_counts() == (0, 0, 0, 0)
    with pytest.raises(importer.ImportFout):
        importer.apply(run)


def test_bad_las_data_is_refused_in_dutch(school: Any) -> None:
    data = basis()
    data.leerlingen.append(leerling("L1", "Dubbel", "Dirk", "G5A"))
    data.leerlingen.append(leerling("L9", "Zwerver", "Zoë", "NOPE"))
    with pytest.raises(importer.ImportFout, match="leerlingen met dezelfde sleutel: L1.*onbekende groepen: NOPE"):
        importer.stage(school, data)
    assert ImportRun.objects.count() == 0


def test_jaarovergang_can_carry_a_group_over_by_hand(school: Any) -> None:
    run_import(school, basis())
    oud = Groep.objects.get(extern_key="G5A")
    volgend_jaar = gegevens(
        groepen=[model.Groep(key="G6A-2026", naam="Groep 6a", jaargroep="6")],
        leerlingen=[leerling("L1", "Jansen", "Piet", "G6A-2026", eckid=eckid(1))],
        schooljaar="2026-2027",
    )
    run = importer.stage(school, volgend_jaar)
    row = run.groepen.get(key="G6A-2026")
    assert row.besluit == "nieuw"  # last year's group is never linked automatically
    importer.koppel_handmatig(run, "groep", row.pk, oud.pk)
    assert run.groepen.get(key="G6A-2026").target_id == oud.pk  # and a manual link to it holds
    assert importer.samenvatting(run)["te_archiveren"] == 1  # only Groep 1
    importer.apply(run)
    oud.refresh_from_db()
    assert (oud.naam, oud.schooljaar, oud.extern_key, oud.gearchiveerd) == ("Groep 6a", "2026-2027", "G6A-2026", False)
    assert Leerling.objects.get(extern_key="L1").groep == oud
    assert Groep.objects.get(extern_key="G1").gearchiveerd


def test_manual_link_takes_over_a_target_from_an_automatic_link(school: Any) -> None:
    piet = Leerling.objects.create(school=school, achternaam="Jansen", roepnaam="Piet", extern_key="L1")
    run = importer.stage(school, basis())
    l1, l2 = run.leerlingen.get(key="L1"), run.leerlingen.get(key="L2")
    assert (l1.besluit, l1.target_id) == ("bestaand", piet.pk)
    importer.koppel_handmatig(run, "leerling", l2.pk, piet.pk)  # the admin knows better
    l1.refresh_from_db()
    l2.refresh_from_db()
    assert (l2.besluit, l2.target_id, l2.handmatig) == ("bestaand", piet.pk, True)
    assert (l1.besluit, l1.target_id) == ("nieuw", None)
    # "Mijn keuze ongedaan maken" brings the automatic link back.
    importer.zet_besluit(run, "leerling", l2.pk, "auto")
    l1.refresh_from_db()
    assert (l1.besluit, l1.target_id) == ("bestaand", piet.pk)


def test_an_import_overtaken_by_another_applied_import_changes_nothing(school: Any, monkeypatch: Any) -> None:
    """Two imports of the same new pupils prepared at the same moment (two admins, or an admin and the nightly
    sync: neither saw the other's run, so neither aborted it): the second to apply would add the pupils twice, so
    it is refused in Dutch, changes nothing, and is aborted."""
    from ea.importer import staging

    first = importer.stage(school, basis())
    with monkeypatch.context() as m:
        m.setattr(staging, "afbreken", lambda run: None)  # the race: the first run was not there yet when looked at
        second = importer.stage(school, basis())
    assert ImportRun.objects.filter(school=school, state=ImportRun.STAGED).count() == 2
    assert importer.samenvatting(second)["leerlingen"]["nieuw"] == 3
    importer.apply(first)
    before = snapshot(school)
    with pytest.raises(importer.ImportFout, match="al een andere import voor deze school uitgevoerd"):
        importer.apply(second)
    assert snapshot(school) == before
    assert Leerling.objects.filter(school=school).count() == 3
    assert ImportRun.objects.get(pk=second.pk).state == ImportRun.ABORTED
    # A new import prepared after it is applied as usual (and is a no-op).
    third = importer.stage(school, basis())
    assert not any(importer.apply(third).values())
