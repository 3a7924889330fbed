"""School data (the LAS side of UWLR) and the koppelingen a school activates for its partners.

Field names follow EDEXML 2.1 (see `uwlr.model`) so that the UWLR endpoint can map rows onto the wire
dataclasses one to one. Every record carries `mutatiedatum` (auto-updated); changes that leave no row behind
(deletions, group membership) bump `Vestiging.data_version`/`gewijzigd_op` instead (see `las.signals`), so
"has anything changed for this vestiging since T" is a single comparison.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BRIN_VALIDATOR = RegexValidator(r"^[0-9]{2}[A-Z]{2}$", _("A BRIN code is 2 digits followed by 2 capital letters."))
DEPENDANCE_VALIDATOR = RegexValidator(r"^[0-9]{2}$", _("A vestiging number is 2 digits."))


def new_key() -> str:
    """A fresh LAS key. Random, so a key is never handed out twice, even after the record was deleted."""
    return uuid.uuid4().hex


class Jaargroep(models.TextChoices):
    G1 = "1", _("Groep 1")
    G2 = "2", _("Groep 2")
    G3 = "3", _("Groep 3")
    G4 = "4", _("Groep 4")
    G5 = "5", _("Groep 5")
    G6 = "6", _("Groep 6")
    G7 = "7", _("Groep 7")
    G8 = "8", _("Groep 8")
    COMBINATIE = "C", _("Combination group")
    SBO = "S", _("S(B)O")
    VSO = "V", _("VSO")
    PEUTER = "0", _("Toddler group")


class Geslacht(models.IntegerChoices):
    ONBEKEND = 0, _("Unknown")
    JONGEN = 1, _("Boy")
    MEISJE = 2, _("Girl")
    NIET_GESPECIFICEERD = 9, _("Not specified")


class Rol(models.TextChoices):
    ADJ = "ADJ", _("Deputy head")
    ADM = "ADM", _("Administrative staff")
    DIR = "DIR", _("Head teacher")
    ICT = "ICT", _("ICT coordinator")
    IB = "IB", _("Internal supervisor (IB)")
    LRK = "LRK", _("Teacher")
    LOS = "LOS", _("Teaching support")
    LOC = "LOC", _("Location manager")
    OWA = "OWA", _("Teaching assistant")
    RT = "RT", _("Remedial teacher")
    STA = "STA", _("Trainee")
    VAK = "VAK", _("Subject teacher")


# ---------------------------------------------------------------------------------------------------------------
# Organisation


class Bestuur(models.Model):
    naam = models.CharField(_("name"), max_length=200)
    bestuursnummer = models.CharField(_("board number"), max_length=10, blank=True)
    mutatiedatum = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("school board")
        verbose_name_plural = _("school boards")
        ordering = ["naam"]

    def __str__(self) -> str:
        return self.naam


class School(models.Model):
    bestuur = models.ForeignKey(Bestuur, on_delete=models.PROTECT, related_name="scholen", verbose_name=_("board"))
    brincode = models.CharField(_("BRIN code"), max_length=4, unique=True, validators=[BRIN_VALIDATOR])
    naam = models.CharField(_("name"), max_length=200)
    mutatiedatum = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["brincode"]

    def __str__(self) -> str:
        return f"{self.brincode} {self.naam}"


class Vestiging(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="vestigingen", verbose_name=_("school"))
    dependancecode = models.CharField(_("vestiging number"), max_length=2, validators=[DEPENDANCE_VALIDATOR])
    key = models.CharField(_("LAS key"), max_length=256, unique=True, default=new_key)
    naam = models.CharField(_("name"), max_length=64)
    omschrijving = models.CharField(_("description"), max_length=256, blank=True)
    plaats = models.CharField(_("town"), max_length=100, blank=True)
    mutatiedatum = models.DateTimeField(auto_now=True)
    # Bumped on every change to the vestiging's school data, including deletions and group membership.
    data_version = models.PositiveBigIntegerField(default=0, editable=False)
    gewijzigd_op = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("vestiging")
        verbose_name_plural = _("vestigingen")
        ordering = ["school__brincode", "dependancecode"]
        constraints = [models.UniqueConstraint(fields=["school", "dependancecode"], name="las_vestiging_unique_code")]

    def __str__(self) -> str:
        return f"{self.code6} {self.naam}"

    @property
    def code6(self) -> str:
        """BRIN + vestigingsnummer, the 6 characters a verification code must start with (e.g. 21QW00)."""
        return f"{self.school.brincode}{self.dependancecode}"

    def changed_since(self, moment: dt.datetime) -> bool:
        """True when any school data of this vestiging changed after `moment` (for UWLR deltas)."""
        return self.gewijzigd_op > moment

    @classmethod
    def bump(cls, ids: Any) -> None:
        """Record that the data of these vestigingen changed now."""
        ids = {i for i in ids if i is not None}
        if ids:
            cls.objects.filter(pk__in=ids).update(data_version=F("data_version") + 1, gewijzigd_op=timezone.now())

    @classmethod
    def by_code6(cls, code6: str) -> Vestiging | None:
        code6 = code6.strip().upper()
        if len(code6) != 6:
            return None
        return cls.objects.select_related("school").filter(
            school__brincode=code6[:4], dependancecode=code6[4:]
        ).first()


class Schooljaar(models.Model):
    """A school year, `2026-2027`. It starts on 1 August (the usual Dutch cut-over)."""

    naam = models.CharField(_("name"), max_length=9, unique=True,
                            validators=[RegexValidator(r"^[0-9]{4}-[0-9]{4}$", _("Use the form 2026-2027."))])
    begindatum = models.DateField(_("start date"))
    einddatum = models.DateField(_("end date"))

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["-begindatum"]

    def __str__(self) -> str:
        return self.naam

    @staticmethod
    def naam_voor(datum: dt.date) -> str:
        start = datum.year if datum.month >= 8 else datum.year - 1
        return f"{start}-{start + 1}"

    @classmethod
    def voor_datum(cls, datum: dt.date | None = None) -> Schooljaar:
        """The school year containing `datum` (default today), created when missing."""
        datum = datum or timezone.localdate()
        naam = cls.naam_voor(datum)
        start = int(naam[:4])
        jaar, _created = cls.objects.get_or_create(
            naam=naam, defaults={"begindatum": dt.date(start, 8, 1), "einddatum": dt.date(start + 1, 7, 31)}
        )
        return jaar


# ---------------------------------------------------------------------------------------------------------------
# Groups, pupils, teachers


class Groep(models.Model):
    """A stamgroep. Jaargroep `C` marks a combination group; the pupils then carry their own jaargroep."""

    vestiging = models.ForeignKey(Vestiging, on_delete=models.CASCADE, related_name="groepen")
    schooljaar = models.ForeignKey(Schooljaar, on_delete=models.PROTECT, related_name="groepen")
    key = models.CharField(_("LAS key"), max_length=256, unique=True, default=new_key)
    naam = models.CharField(_("name"), max_length=64)
    jaargroep = models.CharField(_("year group"), max_length=2, choices=Jaargroep.choices)
    omschrijving = models.CharField(_("description"), max_length=256, blank=True)
    mutatiedatum = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["vestiging", "naam"]

    def __str__(self) -> str:
        return self.naam


class SamengesteldeGroep(models.Model):
    """A composed group (cluster, subject group) across stamgroepen; it has no jaargroep."""

    vestiging = models.ForeignKey(Vestiging, on_delete=models.CASCADE, related_name="samengestelde_groepen")
    schooljaar = models.ForeignKey(Schooljaar, on_delete=models.PROTECT, related_name="samengestelde_groepen")
    key = models.CharField(_("LAS key"), max_length=256, unique=True, default=new_key)
    naam = models.CharField(_("name"), max_length=64)
    omschrijving = models.CharField(_("description"), max_length=256, blank=True)
    mutatiedatum = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("composed group")
        verbose_name_plural = _("composed groups")
        ordering = ["vestiging", "naam"]

    def __str__(self) -> str:
        return self.naam


class LeerlingQuerySet(models.QuerySet["Leerling"]):
    def ingeschreven(self, datum: dt.date | None = None) -> LeerlingQuerySet:
        """Pupils enrolled on `datum` (default today): started on or before it and not yet left."""
        datum = datum or timezone.localdate()
        return self.filter(Q(instroomdatum__isnull=True) | Q(instroomdatum__lte=datum)).filter(
            Q(uitstroomdatum__isnull=True) | Q(uitstroomdatum__gte=datum)
        )


class Leerling(models.Model):
    vestiging = models.ForeignKey(Vestiging, on_delete=models.CASCADE, related_name="leerlingen")
    key = models.CharField(_("LAS key"), max_length=256, unique=True, default=new_key)
    eckid = models.CharField(_("ECK iD"), max_length=256, blank=True, db_index=True)
    achternaam = models.CharField(_("surname"), max_length=200)
    voorvoegsel = models.CharField(_("prefix"), max_length=10, blank=True)
    voornamen = models.CharField(_("first names"), max_length=200, blank=True)
    voorletters = models.CharField(_("initials"), max_length=6, blank=True)
    roepnaam = models.CharField(_("given name"), max_length=64, blank=True)
    geboortedatum = models.DateField(_("date of birth"), null=True, blank=True)
    geslacht = models.PositiveSmallIntegerField(_("gender"), choices=Geslacht.choices, default=Geslacht.ONBEKEND)
    start_ondw_jgr3 = models.DateField(_("start of groep 3"), null=True, blank=True)
    jaargroep = models.CharField(_("year group"), max_length=2, choices=Jaargroep.choices, blank=True)
    groep = models.ForeignKey(Groep, on_delete=models.SET_NULL, null=True, blank=True, related_name="leerlingen")
    samengestelde_groepen = models.ManyToManyField(SamengesteldeGroep, blank=True, related_name="leerlingen")
    gebruikersnaam = models.CharField(_("username"), max_length=64, blank=True)
    emailadres = models.CharField(_("e-mail address"), max_length=256, blank=True)
    bsn_ondwnr_4 = models.CharField(_("last 4 digits of BSN/education number"), max_length=4, blank=True,
                                    validators=[RegexValidator(r"^[0-9]{4}$")])
    instroomdatum = models.DateField(_("enrolment date"), null=True, blank=True)
    uitstroomdatum = models.DateField(_("leaving date"), null=True, blank=True)
    mutatiedatum = models.DateTimeField(auto_now=True)

    objects = LeerlingQuerySet.as_manager()

    class Meta:
        verbose_name = _("pupil")
        verbose_name_plural = _("pupils")
        ordering = ["achternaam", "roepnaam"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Remember where the pupil was, so a move bumps the vestiging it left as well.
        self._loaded_vestiging_id = self.vestiging_id

    def __str__(self) -> str:
        return self.volledige_naam

    @property
    def volledige_naam(self) -> str:
        return " ".join(p for p in (self.roepnaam or self.voorletters, self.voorvoegsel, self.achternaam) if p)

    def ingeschreven_op(self, datum: dt.date) -> bool:
        if self.instroomdatum and self.instroomdatum > datum:
            return False
        return not (self.uitstroomdatum and self.uitstroomdatum < datum)


class Leerkracht(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="leerkrachten")
    key = models.CharField(_("LAS key"), max_length=256, unique=True, default=new_key)
    eckid = models.CharField(_("ECK iD"), max_length=256, blank=True, db_index=True)
    achternaam = models.CharField(_("surname"), max_length=200)
    voorvoegsel = models.CharField(_("prefix"), max_length=10, blank=True)
    voornamen = models.CharField(_("first names"), max_length=200, blank=True)
    voorletters = models.CharField(_("initials"), max_length=6, blank=True)
    roepnaam = models.CharField(_("given name"), max_length=64, blank=True)
    gebruikersnaam = models.CharField(_("username"), max_length=64, blank=True)
    emailadres = models.CharField(_("e-mail address"), max_length=256, blank=True)
    rol = models.CharField(_("role"), max_length=3, choices=Rol.choices, blank=True)
    groepen = models.ManyToManyField(Groep, through="LeerkrachtGroep", blank=True, related_name="leerkrachten")
    samengestelde_groepen = models.ManyToManyField(
        SamengesteldeGroep, through="LeerkrachtSamengesteldeGroep", blank=True, related_name="leerkrachten"
    )
    mutatiedatum = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("teacher")
        verbose_name_plural = _("teachers")
        ordering = ["achternaam", "roepnaam"]

    def __str__(self) -> str:
        return " ".join(p for p in (self.roepnaam or self.voorletters, self.voorvoegsel, self.achternaam) if p)


class LeerkrachtGroep(models.Model):
    leerkracht = models.ForeignKey(Leerkracht, on_delete=models.CASCADE)
    groep = models.ForeignKey(Groep, on_delete=models.CASCADE)
    rol = models.CharField(_("role in the group"), max_length=3, choices=Rol.choices, default=Rol.LRK, blank=True)
    mutatiedatum = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("teacher in group")
        verbose_name_plural = _("teachers in groups")
        constraints = [models.UniqueConstraint(fields=["leerkracht", "groep"], name="las_leerkrachtgroep_unique")]

    def __str__(self) -> str:
        return f"{self.leerkracht} – {self.groep}"


class LeerkrachtSamengesteldeGroep(models.Model):
    leerkracht = models.ForeignKey(Leerkracht, on_delete=models.CASCADE)
    samengestelde_groep = models.ForeignKey(SamengesteldeGroep, on_delete=models.CASCADE)
    rol = models.CharField(_("role in the group"), max_length=3, choices=Rol.choices, default=Rol.LRK, blank=True)
    mutatiedatum = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("teacher in composed group")
        verbose_name_plural = _("teachers in composed groups")
        constraints = [
            models.UniqueConstraint(fields=["leerkracht", "samengestelde_groep"], name="las_leerkrachtsgroep_unique")
        ]

    def __str__(self) -> str:
        return f"{self.leerkracht} – {self.samengestelde_groep}"


# ---------------------------------------------------------------------------------------------------------------
# Who may manage koppelingen


class SchoolBeheerder(models.Model):
    """A user authorised to manage the koppelingen of one vestiging (one row per vestiging)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="las_beheer")
    vestiging = models.ForeignKey(Vestiging, on_delete=models.CASCADE, related_name="beheerders")

    class Meta:
        verbose_name = _("school administrator")
        verbose_name_plural = _("school administrators")
        constraints = [models.UniqueConstraint(fields=["user", "vestiging"], name="las_schoolbeheerder_unique")]

    def __str__(self) -> str:
        return f"{self.user} – {self.vestiging}"


# ---------------------------------------------------------------------------------------------------------------
# Catalogue (data, loaded from las/fixtures/catalogus.json and editable in the admin)


class Profiel(models.TextChoices):
    """The data set a partner receives; the names match the profiles of the `uwlr` library."""

    SMALLE_SET = "smalle_set", _("Narrow set")
    LVS_SET = "lvs_set", _("LVS set")
    SMALLE_SET_ECKID = "smalle_set_eckid", _("Narrow set with ECK iD")
    LVS_SET_ECKID = "lvs_set_eckid", _("LVS set with ECK iD")
    ECKID = "eckid", _("ECK iD only")


class KoppelingType(models.Model):
    slug = models.SlugField(unique=True)
    naam = models.CharField(_("name"), max_length=100)
    volgorde = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("koppeling type")
        verbose_name_plural = _("koppeling types")
        ordering = ["volgorde", "naam"]

    def __str__(self) -> str:
        return self.naam


class KoppelingAanbod(models.Model):
    """One koppeling a school can activate (Basispoort, Snappet, …)."""

    type = models.ForeignKey(KoppelingType, on_delete=models.PROTECT, related_name="aanbod", verbose_name=_("type"))
    slug = models.SlugField(unique=True)
    naam = models.CharField(_("name"), max_length=100)
    omschrijving = models.CharField(_("description"), max_length=500, blank=True)
    prijs = models.CharField(_("price"), max_length=200, blank=True)
    # File name inside las/voorwaarden/ (shipped with the code, served by the download view).
    voorwaarden_bestand = models.CharField(_("terms of use file"), max_length=200, blank=True)
    klantcode = models.CharField(_("customer code (UWLR header)"), max_length=64, blank=True)
    klantnaam = models.CharField(_("customer name (UWLR header)"), max_length=64, blank=True)
    profiel = models.CharField(_("data profile"), max_length=20, choices=Profiel.choices, default=Profiel.SMALLE_SET)
    support_email = models.EmailField(_("partner support e-mail"), blank=True)
    bevestiging_vereist = models.BooleanField(_("partner must confirm activation"), default=False)
    beschikbaar = models.BooleanField(_("available"), default=True)
    volgorde = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("available koppeling")
        verbose_name_plural = _("available koppelingen")
        ordering = ["type__volgorde", "volgorde", "naam"]

    def __str__(self) -> str:
        return self.naam


# ---------------------------------------------------------------------------------------------------------------
# Activated koppelingen


class KoppelingStatus(models.TextChoices):
    ACTIEF = "actief", _("Active")
    GEPAUZEERD = "gepauzeerd", _("Paused")
    WACHT = "wacht", _("Waiting for confirmation")
    BEEINDIGD = "beeindigd", _("Ended")


class CodeSoort(models.TextChoices):
    VERIFICATIECODE = "verificatiecode", _("Verification code (chosen by the school)")
    AUTORISATIESLEUTEL = "autorisatiesleutel", _("Issued authorisation key")


class KoppelingQuerySet(models.QuerySet["Koppeling"]):
    def met_code(self, code: str) -> KoppelingQuerySet:
        """The koppeling(en) whose code (verification code or issued key) is `code`, under any accepted pepper.

        This is how the UWLR endpoint finds the koppeling for an `autorisatiesleutel`; check `is_bruikbaar()`
        and the partner's klantcode/klantnaam on the result.
        """
        from las.secrets import code_digests

        return self.filter(code_hmac__in=code_digests(code))

    def lopend(self) -> KoppelingQuerySet:
        return self.exclude(status=KoppelingStatus.BEEINDIGD)

    def beeindigd(self) -> KoppelingQuerySet:
        return self.filter(status=KoppelingStatus.BEEINDIGD)


class Koppeling(models.Model):
    """A koppeling a vestiging activated. The code itself is never stored: only its HMAC (`las.secrets`)."""

    vestiging = models.ForeignKey(Vestiging, on_delete=models.PROTECT, related_name="koppelingen")
    aanbod = models.ForeignKey(KoppelingAanbod, on_delete=models.PROTECT, related_name="koppelingen",
                               verbose_name=_("koppeling"))
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     related_name="+", verbose_name=_("activated by"))
    naam = models.CharField(_("your name"), max_length=200)
    akkoord_op = models.DateTimeField(_("agreed at"))
    startdatum = models.DateField(_("start date"))
    status = models.CharField(_("status"), max_length=12, choices=KoppelingStatus.choices)
    # NULL while paused (code removed). Unique: this is how "the code is unique" is enforced, and how the
    # UWLR endpoint finds the koppeling of the autorisatiesleutel it receives.
    code_hmac = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    kind = models.CharField(_("kind of code"), max_length=20, choices=CodeSoort.choices,
                            default=CodeSoort.VERIFICATIECODE)
    code_gewijzigd_op = models.DateTimeField(_("code changed at"), null=True, blank=True)
    bevestigd_op = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("ended by"))
    aangemaakt_op = models.DateTimeField(auto_now_add=True)
    mutatiedatum = models.DateTimeField(auto_now=True)

    objects = KoppelingQuerySet.as_manager()

    class Meta:
        verbose_name = _("activated koppeling")
        verbose_name_plural = _("activated koppelingen")
        ordering = ["-aangemaakt_op"]
        constraints = [
            # A vestiging has at most one running koppeling per partner offer; ended ones stay as history.
            models.UniqueConstraint(fields=["vestiging", "aanbod"], condition=~Q(status="beeindigd"),
                                    name="las_koppeling_one_running"),
        ]

    def __str__(self) -> str:
        return f"{self.aanbod} ({self.vestiging.code6})"

    @property
    def gestart(self) -> bool:
        return self.startdatum <= timezone.localdate()

    @property
    def status_label(self) -> str:
        """Status as shown to the school; an active koppeling that has not started yet says so."""
        if self.status == KoppelingStatus.ACTIEF and not self.gestart:
            return str(_("Active from %(date)s")) % {"date": self.startdatum.strftime("%-d-%-m-%Y")}
        return str(self.get_status_display())

    @property
    def status_css(self) -> str:
        return {"wacht": "wacht", "beeindigd": "beeindigd"}.get(self.status, self.status)

    def is_bruikbaar(self, datum: dt.date | None = None) -> bool:
        """True when a partner may use this koppeling now: active, started, and a code is set."""
        datum = datum or timezone.localdate()
        return self.status == KoppelingStatus.ACTIEF and self.startdatum <= datum and bool(self.code_hmac)


class KoppelingEvent(models.Model):
    class Soort(models.TextChoices):
        ACTIVATED = "activated", _("Activated")
        PAUSED = "paused", _("Paused")
        RESUMED = "resumed", _("Resumed")
        ROTATED = "rotated", _("Code changed")
        ENDED = "ended", _("Ended")
        CONFIRMED = "confirmed", _("Confirmed by partner")
        MAIL_SENT = "mail_sent", _("Confirmation requested from partner")

    koppeling = models.ForeignKey(Koppeling, on_delete=models.CASCADE, related_name="events")
    soort = models.CharField(_("event"), max_length=12, choices=Soort.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    wie = models.CharField(_("by"), max_length=200)
    op = models.DateTimeField(_("at"), default=timezone.now)
    notitie = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("koppeling event")
        verbose_name_plural = _("koppeling events")
        ordering = ["op", "pk"]

    def __str__(self) -> str:
        return f"{self.get_soort_display()} – {self.wie}"


# ===============================================================================================================
# UWLR service (the school's SOAP endpoints): access log, throttling of failed keys, answer cache, and the
# test results partners bring back. Owned by las.uwlr_service / las.autorisatie / las.leerlinggegevens /
# las.leerresultaten.


class UwlrToegang(models.Model):
    """One UWLR request as the school sees it ("Laatste uitwisseling"). Never holds the key itself."""

    koppeling = models.ForeignKey(Koppeling, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="uwlr_toegang", verbose_name=_("koppeling"))
    op = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    operatie = models.CharField(_("operation"), max_length=40)
    klantcode = models.CharField(_("customer code"), max_length=64, blank=True)
    klantnaam = models.CharField(_("customer name"), max_length=64, blank=True)
    leerlingen = models.PositiveIntegerField(_("pupils"), default=0)
    leerkrachten = models.PositiveIntegerField(_("teachers"), default=0)
    groepen = models.PositiveIntegerField(_("groups"), default=0)
    resultaten = models.PositiveIntegerField(_("results"), default=0)
    # "ok", "geenwijzigingen", "geengegevens" or the UWLR fault code (Client.AutorisatieOngeldig, …)
    uitkomst = models.CharField(_("outcome"), max_length=64)
    melding = models.CharField(_("message"), max_length=300, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP address"), null=True, blank=True)
    duur_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("UWLR exchange")
        verbose_name_plural = _("UWLR exchanges")
        ordering = ["-op", "-pk"]
        indexes = [models.Index(fields=["koppeling", "-op"], name="las_uwlrtoegang_kopp_op")]

    def __str__(self) -> str:
        return f"{self.op:%Y-%m-%d %H:%M} {self.operatie} {self.uitkomst}"

    @property
    def geslaagd(self) -> bool:
        return not ("." in self.uitkomst and self.uitkomst.split(".", 1)[0] in {"Client", "Server"})


class UwlrBlokkade(models.Model):
    """Failed-authentication counter per client IP (`ip:…`) or klantcode (`klant:…`), shared by all processes."""

    sleutel = models.CharField(_("blocked party"), max_length=120, unique=True)
    venster_start = models.DateTimeField(_("window start"), default=timezone.now)
    mislukt = models.PositiveIntegerField(_("failed attempts"), default=0)
    geblokkeerd_tot = models.DateTimeField(_("blocked until"), null=True, blank=True, db_index=True)
    laatste_poging = models.DateTimeField(_("last attempt"), default=timezone.now)

    class Meta:
        verbose_name = _("UWLR lockout")
        verbose_name_plural = _("UWLR lockouts")
        ordering = ["-laatste_poging"]

    def __str__(self) -> str:
        return self.sleutel

    @property
    def actief(self) -> bool:
        return self.geblokkeerd_tot is not None and self.geblokkeerd_tot > timezone.now()


class UwlrAntwoordCache(models.Model):
    """A serialised Leerlinggegevens answer, keyed by everything it depends on (incl. the data version)."""

    sleutel = models.CharField(max_length=64, unique=True)
    vestiging = models.ForeignKey(Vestiging, on_delete=models.CASCADE, related_name="+")
    data_version = models.PositiveBigIntegerField()
    inhoud = models.BinaryField()
    leerlingen = models.PositiveIntegerField(default=0)
    leerkrachten = models.PositiveIntegerField(default=0)
    groepen = models.PositiveIntegerField(default=0)
    aangemaakt_op = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cached UWLR answer")
        verbose_name_plural = _("cached UWLR answers")

    def __str__(self) -> str:
        return f"{self.vestiging_id} v{self.data_version}"


class Toets(models.Model):
    """A test definition a partner sent with its results (UWLR `toets`), kept per koppeling."""

    koppeling = models.ForeignKey(Koppeling, on_delete=models.CASCADE, related_name="toetsen")
    toetscode = models.CharField(_("test code"), max_length=256)
    toetsnaam = models.CharField(_("test name"), max_length=256, blank=True)
    vakgebied = models.CharField(_("subject"), max_length=256, blank=True)
    leerjaar = models.CharField(_("school year level"), max_length=256, blank=True)
    versie = models.CharField(_("version"), max_length=256, blank=True)
    # The whole definition (normering, onderdelen, hiërarchie) as sent, in JSON; see las.leerresultaten.
    definitie = models.JSONField(_("definition"), default=dict)
    bijgewerkt_op = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("test")
        verbose_name_plural = _("tests")
        ordering = ["toetsnaam", "toetscode"]
        constraints = [models.UniqueConstraint(fields=["koppeling", "toetscode"], name="las_toets_unique_code")]

    def __str__(self) -> str:
        return self.toetsnaam or self.toetscode


class Toetsresultaat(models.Model):
    """One result (UWLR `resultaat`) of one pupil. The partner's result key makes a resend idempotent."""

    class Soort(models.TextChoices):
        SCORE = "score", _("Score")
        OSO = "oso", _("OSO result")
        ANDER = "ander", _("Other result")

    koppeling = models.ForeignKey(Koppeling, on_delete=models.CASCADE, related_name="toetsresultaten")
    leerling = models.ForeignKey(Leerling, on_delete=models.CASCADE, related_name="toetsresultaten")
    toets = models.ForeignKey(Toets, on_delete=models.CASCADE, related_name="resultaten")
    key = models.CharField(_("result key"), max_length=256)
    schooljaar = models.CharField(_("school year"), max_length=9)
    afnamedatum = models.DateField(_("date taken"))
    toetsonderdeelcode = models.CharField(_("test part"), max_length=256, blank=True)
    soort = models.CharField(_("kind"), max_length=5, choices=Soort.choices)
    score = models.BigIntegerField(_("score"), null=True, blank=True)
    weergave = models.CharField(_("result"), max_length=300)
    normterm = models.CharField(_("norm"), max_length=256, blank=True)
    details = models.JSONField(_("details"), default=dict)
    ontvangen_op = models.DateTimeField(_("received at"), default=timezone.now)
    bijgewerkt_op = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("test result")
        verbose_name_plural = _("test results")
        ordering = ["-afnamedatum", "toets__toetsnaam", "toetsonderdeelcode"]
        constraints = [models.UniqueConstraint(fields=["koppeling", "key"], name="las_toetsresultaat_unique_key")]

    def __str__(self) -> str:
        return f"{self.toets} {self.afnamedatum}: {self.weergave}"
