"""School data: mutation times for UWLR deltas, the demo seed, the code digest."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from las import demo
from las.models import Groep, Leerkracht, LeerkrachtGroep, Leerling, SamengesteldeGroep, Schooljaar, Vestiging
from las.secrets import code_digest, code_digests, verify_code
from tests.las.cast import Cast


@pytest.fixture
def school(cast: Cast) -> dict[str, object]:
    jaar = Schooljaar.voor_datum(dt.date(2026, 11, 26))
    groep = Groep.objects.create(vestiging=cast.a00, schooljaar=jaar, naam="Groep 5", jaargroep="5")
    sgroep = SamengesteldeGroep.objects.create(vestiging=cast.a00, schooljaar=jaar, naam="Plusklas")
    leerling = Leerling.objects.create(vestiging=cast.a00, achternaam="Vries", voorvoegsel="de", roepnaam="Sem",
                                       groep=groep, jaargroep="5")
    return {"groep": groep, "sgroep": sgroep, "leerling": leerling, "jaar": jaar}


def _moment(vestiging: Vestiging) -> tuple[int, dt.datetime]:
    vestiging.refresh_from_db()
    return vestiging.data_version, vestiging.gewijzigd_op


def test_schooljaar_from_date() -> None:
    assert Schooljaar.naam_voor(dt.date(2026, 11, 26)) == "2026-2027"
    assert Schooljaar.naam_voor(dt.date(2027, 7, 31)) == "2026-2027"
    assert Schooljaar.naam_voor(dt.date(2027, 8, 1)) == "2027-2028"


def test_code6(cast: Cast) -> None:
    assert cast.a00.code6 == "21QW00" and cast.a01.code6 == "21QW01"
    assert Vestiging.by_code6("21qw01") == cast.a01 and Vestiging.by_code6("21QW02") is None


def test_every_kind_of_change_bumps_the_vestiging(cast: Cast, school: dict) -> None:
    leerling: Leerling = school["leerling"]  # type: ignore[assignment]
    steps = {
        "edit pupil": lambda: (setattr(leerling, "roepnaam", "Semmie"), leerling.save()),
        "add to composed group": lambda: leerling.samengestelde_groepen.add(school["sgroep"]),
        "remove from composed group": lambda: leerling.samengestelde_groepen.remove(school["sgroep"]),
        "reverse add": lambda: school["sgroep"].leerlingen.add(leerling),
        "reverse clear": lambda: school["sgroep"].leerlingen.clear(),
        "edit group": lambda: (setattr(school["groep"], "naam", "Groep 5b"), school["groep"].save()),
        "teacher": lambda: Leerkracht.objects.create(school=cast.school_a, achternaam="Bakker"),
        "teacher in group": lambda: LeerkrachtGroep.objects.create(
            leerkracht=Leerkracht.objects.first(), groep=school["groep"]),
        "delete pupil": lambda: Leerling.objects.get(pk=leerling.pk).delete(),
    }
    other_school = _moment(cast.b00)
    for name, step in steps.items():
        before = _moment(cast.a00)
        step()
        after = _moment(cast.a00)
        assert after[0] > before[0] and after[1] >= before[1], name
        assert cast.a00.changed_since(before[1]), name
    # The other school was never touched.
    assert _moment(cast.b00) == other_school


def test_mutatiedatum_moves_on_edit_and_membership(cast: Cast, school: dict) -> None:
    leerling: Leerling = school["leerling"]  # type: ignore[assignment]
    first = leerling.mutatiedatum
    leerling.achternaam = "Jong"
    leerling.save()
    leerling.refresh_from_db()
    assert leerling.mutatiedatum > first
    second = leerling.mutatiedatum
    leerling.samengestelde_groepen.add(school["sgroep"])
    leerling.refresh_from_db()
    assert leerling.mutatiedatum > second


def test_moving_a_pupil_bumps_both_vestigingen(cast: Cast, school: dict) -> None:
    leerling = Leerling.objects.get(pk=school["leerling"].pk)  # type: ignore[attr-defined]
    old, new = _moment(cast.a00)[0], _moment(cast.a01)[0]
    leerling.vestiging = cast.a01
    leerling.groep = None
    leerling.save()
    assert _moment(cast.a00)[0] > old and _moment(cast.a01)[0] > new


def test_new_keys_are_unique_and_stable(cast: Cast, school: dict) -> None:
    leerling: Leerling = school["leerling"]  # type: ignore[assignment]
    key = leerling.key
    leerling.roepnaam = "Sam"
    leerling.save()
    leerling.refresh_from_db()
    assert leerling.key == key and len(key) == 32
    other = Leerling.objects.create(vestiging=cast.a00, achternaam="Bos")
    assert other.key != key


def test_demo_seed_twice_creates_nothing_twice(db: None) -> None:
    out = io.StringIO()
    demo.seed(out, base_url="http://127.0.0.1:8000")
    counts = (Leerling.objects.count(), Leerkracht.objects.count(), Groep.objects.count(),
              SamengesteldeGroep.objects.count(), Vestiging.objects.count())
    names = list(Leerling.objects.order_by("key").values_list("achternaam", "roepnaam", "key")[:20])
    demo.seed(out, base_url="http://127.0.0.1:8000")
    assert (Leerling.objects.count(), Leerkracht.objects.count(), Groep.objects.count(),
            SamengesteldeGroep.objects.count(), Vestiging.objects.count()) == counts
    assert names == list(Leerling.objects.order_by("key").values_list("achternaam", "roepnaam", "key")[:20])
    assert "Schoolbeheerder: schoolbeheer / " in out.getvalue()
    assert 200 <= counts[0] <= 600 and counts[4] == 2


def test_demo_school_is_plausible(db: None) -> None:
    demo.seed(io.StringIO())
    jaar = Schooljaar.voor_datum()
    startjaar = jaar.begindatum.year
    pupils = list(Leerling.objects.select_related("groep"))
    with_eckid = [p for p in pupils if p.eckid]
    assert 0.8 < len(with_eckid) / len(pupils) < 1
    assert all(p.eckid.startswith("https://ketenid.nl/pilot/") and len(p.eckid) == 25 + 128 for p in with_eckid)
    assert {p.voorvoegsel for p in pupils} >= {"", "de", "van", "van der"}
    for p in pupils:
        age_on_oct1 = startjaar - p.geboortedatum.year - ((p.geboortedatum.month, p.geboortedatum.day) > (10, 1))
        assert age_on_oct1 - 3 in (int(p.jaargroep), int(p.jaargroep) + 1), (p, p.geboortedatum, p.jaargroep)
        assert p.groep.jaargroep in (p.jaargroep, "C")
    assert Groep.objects.filter(jaargroep="C").exists()
    assert set(Groep.objects.values_list("jaargroep", flat=True)) >= {"C", "3", "4", "5", "6", "7", "8"}
    assert Leerling.samengestelde_groepen.through.objects.exists()
    assert LeerkrachtGroep.objects.count() >= Groep.objects.count()
    assert all("@" in e for e in Leerkracht.objects.values_list("emailadres", flat=True))


def test_build_school_scales(db: None) -> None:
    start = timezone.now()
    school = demo.build_school(brincode="99ZZ", naam="Benchmarkschool", bestuur="Bench",
                               vestigingen=[demo.VestigingSpec("00", "Hoofd", "Ergens", 1500)], seed=7)
    assert Leerling.objects.filter(vestiging__school=school).count() == 1500
    assert max(g.leerlingen.count() for g in Groep.objects.filter(vestiging__school=school)) <= 30
    assert (timezone.now() - start).total_seconds() < 30


def test_code_digest_and_pepper_chain(settings) -> None:
    settings.KEY_PEPPER = "new-pepper"
    settings.KEY_PEPPER_PREVIOUS = ["old-pepper"]
    digest = code_digest("21QW00Ygr67BfgKl!gr8xx")
    assert len(digest) == 64 and digest == code_digests("21QW00Ygr67BfgKl!gr8xx")[0]
    assert verify_code("21QW00Ygr67BfgKl!gr8xx", digest)
    assert not verify_code("21QW00Ygr67BfgKl!gr8xy", digest)
    assert not verify_code("21QW00Ygr67BfgKl!gr8xx", None)
    # The digest is keyed with every pepper in the chain: dropping or swapping one breaks it.
    settings.KEY_PEPPER_PREVIOUS = []
    assert not verify_code("21QW00Ygr67BfgKl!gr8xx", digest)
    settings.KEY_PEPPER, settings.KEY_PEPPER_PREVIOUS = "old-pepper", ["new-pepper"]
    assert not verify_code("21QW00Ygr67BfgKl!gr8xx", digest)


def test_management_commands(db: None) -> None:
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("las_catalogus", stdout=out)
    assert "12 koppelingen" in out.getvalue()
    call_command("las_school", "33XY", "--leerlingen", "40", "--vestigingen", "2", stdout=out)
    assert "2 vestigingen, 80 leerlingen" in out.getvalue()
    with pytest.raises(CommandError, match="already exists"):
        call_command("las_school", "33XY")
    with pytest.raises(CommandError, match="BRIN"):
        call_command("las_school", "3XYZ")


def test_ingeschreven(cast: Cast) -> None:
    today = dt.date(2026, 11, 26)
    Leerling.objects.create(vestiging=cast.a00, achternaam="Nu")
    Leerling.objects.create(vestiging=cast.a00, achternaam="Later", instroomdatum=today + dt.timedelta(days=1))
    Leerling.objects.create(vestiging=cast.a00, achternaam="Weg", uitstroomdatum=today - dt.timedelta(days=1))
    Leerling.objects.create(vestiging=cast.a00, achternaam="Laatste dag", uitstroomdatum=today)
    assert sorted(Leerling.objects.ingeschreven(today).values_list("achternaam", flat=True)) == ["Laatste dag", "Nu"]
