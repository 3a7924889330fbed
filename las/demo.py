"""Demo and benchmark data: a realistic Dutch primary school, generated deterministically.

`build_school` is the reusable part (benchmarks call it for 3,000-pupil schools); `seed` is what
`koppelpunt demo` runs: it is idempotent (a school whose BRIN exists is left alone) and prints the logins.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from las.catalogus import load_catalogue
from las.models import (
    Bestuur,
    Geslacht,
    Groep,
    Jaargroep,
    Leerkracht,
    LeerkrachtGroep,
    LeerkrachtSamengesteldeGroep,
    Leerling,
    Rol,
    SamengesteldeGroep,
    School,
    SchoolBeheerder,
    Schooljaar,
    Vestiging,
)

JONGENSNAMEN = (
    "Noah", "Liam", "Luca", "Lucas", "Sem", "Daan", "Finn", "Levi", "Milan", "Bram", "Mees", "Jesse", "Thijs",
    "Jayden", "Max", "Julian", "Adam", "Gijs", "Siem", "Ties", "Sam", "Boaz", "Mason", "Otis", "Jens", "Ruben",
    "Tijn", "Hugo", "Teun", "Lars", "Stijn", "Mohammed", "Ravi", "Olivier", "Jan", "Joep", "Floris", "Dex",
    "Morris", "Vince"
)
MEISJESNAMEN = (
    "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva", "Liv", "Lotte", "Evi", "Noor",
    "Anna", "Fenna", "Saar", "Lauren", "Nina", "Maud", "Olivia", "Fleur", "Roos", "Lieke", "Isa", "Femke", "Elin",
    "Lina", "Hanna", "Vera", "Jasmijn", "Amira", "Sanne", "Ilse", "Floor", "Merel", "Jill", "Nova", "Lynn", "Esmee"
)
ACHTERNAMEN = (
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"), ("", "Janssen"),
    ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"),
    ("", "Vos"), ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"),
    ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"), ("van der", "Linden"),
    ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"), ("van den", "Heuvel"), ("van der", "Veen"),
    ("van den", "Broek"), ("de", "Bruijn"), ("de", "Jong"), ("", "Schouten"), ("van", "Beek"), ("", "Willems"),
    ("van", "Vliet"), ("van de", "Ven"), ("", "Hoekstra"), ("", "Maas"), ("", "Verhoeven"), ("", "Koster"),
    ("van", "Dam"), ("van der", "Wal"), ("", "Prins"), ("", "Blom"), ("", "Huisman"), ("", "Yılmaz"),
    ("", "El Amrani"), ("", "Nguyen"), ("", "Kaya"), ("", "Boukhari"), ("", "Pinas"), ("", "Wijaya"),
)
LEERKRACHT_VOORNAMEN = (
    "Annemiek", "Marieke", "Joost", "Sandra", "Petra", "Ingrid", "Bas", "Wouter", "Ellen", "Karin", "Linda", "Mark",
    "Esther", "Judith", "Marloes", "Hanneke", "Tom", "Rik", "Anouk", "Monique", "Ilona", "Bart", "Wendy", "Corine",
    "Gerben", "Miriam", "Dennis", "Yvonne", "Harm", "Saskia"
)


@dataclass(frozen=True)
class VestigingSpec:
    dependancecode: str
    naam: str
    plaats: str
    leerlingen: int


def _key(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def _eckid(rng: random.Random) -> str:
    return "https://ketenid.nl/pilot/" + f"{rng.getrandbits(512):0128x}"


def _initial(naam: str) -> str:
    return naam[0] + "."


def _geboortedatum(rng: random.Random, jaargroep: int, startjaar: int) -> dt.date:
    # A pupil in groep g is (g + 3) years old on 1 October of the school year, give or take one year in 12.
    leeftijd = jaargroep + 3 + (1 if rng.random() < 0.08 else 0)
    eerste = dt.date(startjaar - leeftijd - 1, 10, 2)
    return eerste + dt.timedelta(days=rng.randrange(365))


def _suffix(index: int, count: int) -> str:
    if count == 1:
        return ""
    return "abcdefghijklmnopqrstuvwxyz"[index] if count <= 26 else f"-{index + 1}"


def _groepen_plan(aantal: int, max_per_groep: int = 28) -> list[tuple[str, str, list[int]]]:
    """(naam suffix, jaargroep, [pupil years]) per stamgroep: a combination group 1/2, then 3..8."""
    per_jaar = aantal / 8
    plan: list[tuple[str, str, list[int]]] = []
    kleuters = max(1, math.ceil(2 * per_jaar / max_per_groep))
    for i in range(kleuters):
        plan.append((f"1/2{_suffix(i, kleuters)}", Jaargroep.COMBINATIE, [1, 2]))
    for jaar in range(3, 9):
        parallel = max(1, math.ceil(per_jaar / max_per_groep))
        for i in range(parallel):
            plan.append((f"{jaar}{_suffix(i, parallel)}", str(jaar), [jaar]))
    return plan


@transaction.atomic
def build_school(
    *, brincode: str, naam: str, bestuur: str, vestigingen: list[VestigingSpec], seed: int = 1,
    schooljaar: Schooljaar | None = None, eckid_ratio: float = 0.9, email_domein: str | None = None,
) -> School:
    """Create a whole school (vestigingen, groups, pupils, teachers) in bulk; deterministic for a given `seed`.

    Returns the existing school untouched when the BRIN code is already present.
    """
    existing = School.objects.filter(brincode=brincode).first()
    if existing is not None:
        return existing
    rng = random.Random(f"{seed}-{brincode}")
    schooljaar = schooljaar or Schooljaar.voor_datum()
    startjaar = schooljaar.begindatum.year
    domein = email_domein or f"{naam.split()[-1].lower()}.example.nl"
    bestuur_obj, _ = Bestuur.objects.get_or_create(naam=bestuur)
    school = School.objects.create(bestuur=bestuur_obj, brincode=brincode, naam=naam)
    teachers_used: set[str] = set()

    def teacher(rol: str) -> Leerkracht:
        for _attempt in range(50):
            voornaam = rng.choice(LEERKRACHT_VOORNAMEN)
            voorvoegsel, achternaam = rng.choice(ACHTERNAMEN)
            login = f"{voornaam}.{achternaam}".lower().replace(" ", "")
            if login not in teachers_used:
                break
        login = login if login not in teachers_used else f"{login}{len(teachers_used)}"
        teachers_used.add(login)
        return Leerkracht(
            school=school, key=_key(rng), eckid=_eckid(rng) if rng.random() < eckid_ratio else "",
            achternaam=achternaam, voorvoegsel=voorvoegsel, voornamen=voornaam, voorletters=_initial(voornaam),
            roepnaam=voornaam, gebruikersnaam=login, emailadres=f"{login}@{domein}", rol=rol,
        )

    leerkrachten: list[Leerkracht] = [teacher(Rol.DIR), teacher(Rol.IB)]
    teacher_links: list[tuple[Leerkracht, Groep, str]] = []
    sgroup_links: list[tuple[Leerkracht, SamengesteldeGroep, str]] = []
    leerlingen: list[Leerling] = []
    sgroep_leden: list[tuple[Leerling, SamengesteldeGroep]] = []

    for spec in vestigingen:
        vestiging = Vestiging.objects.create(
            school=school, dependancecode=spec.dependancecode, naam=spec.naam, plaats=spec.plaats,
            key=f"{brincode}{spec.dependancecode}",
        )
        plan = _groepen_plan(spec.leerlingen)
        groepen = Groep.objects.bulk_create([
            Groep(vestiging=vestiging, schooljaar=schooljaar, key=_key(rng), naam=f"Groep {suffix}",
                  jaargroep=jaargroep, omschrijving="Combinatiegroep 1/2" if jaargroep == Jaargroep.COMBINATIE else "")
            for suffix, jaargroep, _years in plan
        ])
        plusklas, leesclub = SamengesteldeGroep.objects.bulk_create([
            SamengesteldeGroep(vestiging=vestiging, schooljaar=schooljaar, key=_key(rng), naam="Plusklas",
                               omschrijving="Verrijking voor groep 6 t/m 8"),
            SamengesteldeGroep(vestiging=vestiging, schooljaar=schooljaar, key=_key(rng), naam="Leesclub 4/5",
                               omschrijving="Extra leesbegeleiding"),
        ])
        for groep in groepen:
            lk = teacher(Rol.LRK)
            leerkrachten.append(lk)
            teacher_links.append((lk, groep, Rol.LRK))
            if rng.random() < 0.3:  # a duo partner, or a teaching assistant
                duo = teacher(Rol.LRK)
                leerkrachten.append(duo)
                teacher_links.append((duo, groep, rng.choice([Rol.LRK, Rol.OWA])))
        vak = teacher(Rol.VAK)
        leerkrachten.append(vak)
        sgroup_links.append((vak, plusklas, Rol.VAK))
        sgroup_links.append((vak, leesclub, Rol.LRK))

        # Spread the pupils over the groups in proportion to the years they hold.
        slots = [(groep, year) for groep, (_s, _j, years) in zip(groepen, plan, strict=True) for year in years]
        jaren = {year: [g for g, y in slots if y == year] for year in range(1, 9)}
        for index in range(spec.leerlingen):
            year = index % 8 + 1
            groep = jaren[year][(index // 8) % len(jaren[year])]
            jongen = rng.random() < 0.5
            roepnaam = rng.choice(JONGENSNAMEN if jongen else MEISJESNAMEN)
            tweede = rng.choice(JONGENSNAMEN if jongen else MEISJESNAMEN)
            voornamen = roepnaam if rng.random() < 0.4 else f"{roepnaam} {tweede}"
            voorvoegsel, achternaam = rng.choice(ACHTERNAMEN)
            geboren = _geboortedatum(rng, year, startjaar)
            vierde = geboren.replace(year=geboren.year + 4) if not (geboren.month == 2 and geboren.day == 29) \
                else dt.date(geboren.year + 4, 3, 1)
            # Most pupils started on their 4th birthday; some moved here from another school later on.
            instroom = vierde
            if year > 2 and rng.random() < 0.1:
                instroom = dt.date(startjaar - rng.randrange(0, year - 2), 8, 20)
            leerling = Leerling(
                vestiging=vestiging, key=_key(rng), eckid=_eckid(rng) if rng.random() < eckid_ratio else "",
                achternaam=achternaam, voorvoegsel=voorvoegsel, voornamen=voornamen,
                voorletters="".join(_initial(n) for n in voornamen.split())[:6], roepnaam=roepnaam,
                geboortedatum=geboren, geslacht=Geslacht.JONGEN if jongen else Geslacht.MEISJE,
                start_ondw_jgr3=dt.date(startjaar - (year - 3), 8, 1) if year >= 3 else None,
                jaargroep=str(year), groep=groep, bsn_ondwnr_4=f"{rng.randrange(10000):04d}",
                instroomdatum=instroom,
            )
            leerlingen.append(leerling)
            if year >= 6 and rng.random() < 0.12:
                sgroep_leden.append((leerling, plusklas))
            if year in (4, 5) and rng.random() < 0.2:
                sgroep_leden.append((leerling, leesclub))

    Leerkracht.objects.bulk_create(leerkrachten, batch_size=500)
    Leerling.objects.bulk_create(leerlingen, batch_size=500)
    LeerkrachtGroep.objects.bulk_create(
        [LeerkrachtGroep(leerkracht=lk, groep=g, rol=rol) for lk, g, rol in teacher_links], batch_size=500
    )
    LeerkrachtSamengesteldeGroep.objects.bulk_create(
        [LeerkrachtSamengesteldeGroep(leerkracht=lk, samengestelde_groep=g, rol=rol) for lk, g, rol in sgroup_links]
    )
    Through = Leerling.samengestelde_groepen.through
    Through.objects.bulk_create(
        [Through(leerling_id=ll.pk, samengesteldegroep_id=g.pk) for ll, g in sgroep_leden], batch_size=500
    )
    # bulk_create sends no signals: record the change explicitly.
    Vestiging.bump(school.vestigingen.values_list("pk", flat=True))
    return school


# ---------------------------------------------------------------------------------------------------------------
# `koppelpunt demo`

DEMO_BRIN = "21QW"
DEMO_BEHEERDER = ("schoolbeheer", "Vlinderboom-2026!")
DEMO_SERVICEDESK = ("las_servicedesk", "Servicedesk-2026!")


def _user(username: str, password: str, **extra: Any) -> Any:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults=extra)
    if created:
        user.set_password(password)
        user.save()
    return user


def seed(stdout: Any, base_url: str = "") -> School:
    """Seed the demo school and its logins; safe to run any number of times."""
    load_catalogue()
    school = build_school(
        brincode=DEMO_BRIN, naam="OBS De Vlinderboom", bestuur="Stichting Openbaar Onderwijs Rivierenland",
        vestigingen=[
            VestigingSpec("00", "De Vlinderboom", "Tiel", 240),
            VestigingSpec("01", "De Vlinderboom – locatie Passewaaij", "Tiel", 120),
        ],
        seed=2026, email_domein="vlinderboom.example.nl",
    )
    beheerder = _user(DEMO_BEHEERDER[0], DEMO_BEHEERDER[1], first_name="Marieke", last_name="de Groot",
                      email="m.degroot@vlinderboom.example.nl")
    for vestiging in school.vestigingen.all():
        SchoolBeheerder.objects.get_or_create(user=beheerder, vestiging=vestiging)
    servicedesk = _user(DEMO_SERVICEDESK[0], DEMO_SERVICEDESK[1], first_name="Servicedesk", is_staff=True)
    servicedesk.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="las",
        codename__in=["view_koppeling", "change_koppeling", "view_koppelingaanbod", "change_koppelingaanbod",
                      "view_koppelingtype", "view_vestiging", "view_school"],
    ))
    pupils = Leerling.objects.filter(vestiging__school=school).count()
    stdout.write(
        f"School (LAS): {school.naam}, BRIN {school.brincode}, {school.vestigingen.count()} vestigingen, "
        f"{pupils} leerlingen, schooljaar {Schooljaar.voor_datum().naam}\n"
        f"  Schoolbeheerder: {DEMO_BEHEERDER[0]} / {DEMO_BEHEERDER[1]}  → {base_url}/school/koppelingen/\n"
        f"  Servicedesk (LAS): {DEMO_SERVICEDESK[0]} / {DEMO_SERVICEDESK[1]}  → {base_url}/beheer/django/\n"
    )
    from las.uwlr_demo import seed_uwlr  # UWLR service demo koppeling (las.uwlr_demo)

    seed_uwlr(stdout, base_url, school.vestigingen.get(dependancecode="00"), beheerder)
    return school
