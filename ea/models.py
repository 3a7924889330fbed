"""Application side (EA) data: the application's own schools, groups, teachers and pupils, the LAS connection
requests (koppelingen), lasting link rules and the staged imports of the import wizard.

Records are never deleted by an import: pupils are deactivated, groups archived. Every record can carry the
external numbers that tie it to the LAS (`extern_key` = the LAS key, `eckid` = the ECK iD).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ea import crypto


class Applicatie(models.Model):
    """The educational application itself: who we are when we call a LAS (klantcode/klantnaam)."""

    naam = models.CharField(_("name"), max_length=100)
    klantcode = models.CharField(_("customer code"), max_length=64)
    klantnaam = models.CharField(_("customer name"), max_length=64)

    def __str__(self) -> str:
        return self.naam


class School(models.Model):
    applicatie = models.ForeignKey(Applicatie, on_delete=models.PROTECT, related_name="scholen")
    naam = models.CharField(_("name"), max_length=200)
    brincode = models.CharField(_("BRIN code"), max_length=4, blank=True)
    dependancecode = models.CharField(_("dependance code"), max_length=2, blank=True)

    class Meta:
        ordering = ["naam"]

    def __str__(self) -> str:
        return self.naam


class SchoolBeheerder(models.Model):
    """An application admin (beheerder) of one school in the application."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ea_beheer")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="beheerders")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "school"], name="ea_beheerder_uniek")]


class Klantenservice(models.Model):
    """A service-desk user of the application: checks and approves connection requests."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ea_klantenservice")
    applicatie = models.ForeignKey(Applicatie, on_delete=models.CASCADE, related_name="klantenservice")


class Groep(models.Model):
    STAMGROEP = "stamgroep"
    SAMENGESTELD = "samengesteld"
    SOORTEN = [(STAMGROEP, _("class")), (SAMENGESTELD, _("composite group"))]

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="groepen")
    naam = models.CharField(_("name"), max_length=64)
    jaargroep = models.CharField(_("year group"), max_length=2, blank=True)
    soort = models.CharField(max_length=12, choices=SOORTEN, default=STAMGROEP)
    schooljaar = models.CharField(_("school year"), max_length=9, blank=True)
    extern_key = models.CharField(_("external number"), max_length=256, blank=True)
    gearchiveerd = models.BooleanField(_("archived"), default=False)

    class Meta:
        ordering = ["naam"]
        indexes = [models.Index(fields=["school", "extern_key"])]

    def __str__(self) -> str:
        return self.naam


class Persoon(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    achternaam = models.CharField(_("surname"), max_length=200, blank=True)
    voorvoegsel = models.CharField(_("prefix"), max_length=10, blank=True)
    roepnaam = models.CharField(_("first name"), max_length=64, blank=True)
    extern_key = models.CharField(_("external number"), max_length=256, blank=True)
    eckid = models.CharField(_("ECK iD"), max_length=256, blank=True)

    class Meta:
        abstract = True

    @property
    def naam(self) -> str:
        return " ".join(p for p in (self.roepnaam, self.voorvoegsel, self.achternaam) if p)

    @property
    def sorteernaam(self) -> str:
        return f"{self.achternaam}, {self.roepnaam} {self.voorvoegsel}".strip()

    def __str__(self) -> str:
        return self.naam


class Leerkracht(Persoon):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="leerkrachten")
    email = models.EmailField(_("e-mail address"), blank=True)
    # Stamgroepen and samengestelde groepen alike (`Groep.soort` tells them apart).
    groepen = models.ManyToManyField(Groep, blank=True, related_name="leerkrachten")
    actief = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        ordering = ["achternaam", "roepnaam"]
        indexes = [models.Index(fields=["school", "extern_key"]), models.Index(fields=["school", "eckid"])]


class Leerling(Persoon):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="leerlingen")
    geboortedatum = models.DateField(_("date of birth"), null=True, blank=True)
    jaargroep = models.CharField(_("year group"), max_length=2, blank=True)
    groep = models.ForeignKey(Groep, null=True, blank=True, on_delete=models.SET_NULL, related_name="leerlingen")
    # The pupil's samengestelde groepen (niveaugroepen, clusters); each import replaces them for its groups.
    samengestelde_groepen = models.ManyToManyField(
        Groep, blank=True, related_name="samengestelde_leerlingen", verbose_name=_("composite groups")
    )
    actief = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        ordering = ["achternaam", "roepnaam"]
        indexes = [models.Index(fields=["school", "extern_key"]), models.Index(fields=["school", "eckid"])]

    @property
    def externe_code(self) -> str:
        """The stable code the LAS sends with every export (ECK iD when there is one, else the LAS key)."""
        return self.eckid or self.extern_key


class LinkRule(models.Model):
    """A lasting decision from the wizard, so the next import, a new LAS key or a re-activated connection
    never creates a duplicate. Looked up by ECK iD first, then by LAS key, per school and record kind."""

    GROEP, LEERKRACHT, LEERLING = "groep", "leerkracht", "leerling"
    SOORTEN = [(GROEP, _("group")), (LEERKRACHT, _("teacher")), (LEERLING, _("pupil"))]
    KOPPEL, NEGEER = "koppel", "negeer"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="link_rules")
    soort = models.CharField(max_length=10, choices=SOORTEN)
    eckid = models.CharField(max_length=256, blank=True)
    extern_key = models.CharField(max_length=256, blank=True)
    actie = models.CharField(max_length=6, choices=[(KOPPEL, "koppel"), (NEGEER, "negeer")], default=KOPPEL)
    target_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["school", "soort"])]


class LasType(models.Model):
    """A kind of LAS the application can connect to, with its UWLR endpoint addresses.

    `{BASE_URL}` in an address is replaced by this server's public address (for our own school side).
    """

    naam = models.CharField(_("name"), max_length=100, unique=True)
    leerlinggegevens_url = models.CharField(_("Leerlinggegevens address"), max_length=500, blank=True)
    leerresultaten_url = models.CharField(_("Leerresultaten address"), max_length=500, blank=True)
    getrapt = models.BooleanField(_("supports stepped retrieval (getrapt)"), default=False)
    xsdversie = models.CharField(max_length=8, default="2.2")
    volgorde = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["volgorde", "naam"]

    def __str__(self) -> str:
        return self.naam

    @staticmethod
    def _resolve(url: str) -> str:
        return url.replace("{BASE_URL}", settings.BASE_URL.rstrip("/"))

    @property
    def leerlinggegevens_adres(self) -> str:
        return self._resolve(self.leerlinggegevens_url)

    @property
    def leerresultaten_adres(self) -> str:
        return self._resolve(self.leerresultaten_url)


class LasKoppeling(models.Model):
    """A connection request of one school to its LAS, and (once approved) the active connection."""

    AANGEVRAAGD, GOEDGEKEURD, AFGEWEZEN, VERVANGEN = "aangevraagd", "goedgekeurd", "afgewezen", "vervangen"
    STATUSSEN = [
        (AANGEVRAAGD, _("requested")),
        (GOEDGEKEURD, _("approved")),
        (AFGEWEZEN, _("rejected")),
        (VERVANGEN, _("replaced")),
    ]

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="koppelingen")
    las_type = models.ForeignKey(LasType, on_delete=models.PROTECT, related_name="+", verbose_name=_("type"))
    brincode = models.CharField(_("BRIN code"), max_length=4)
    dependancecode = models.CharField(_("dependance code"), max_length=2, blank=True)
    schooljaar = models.CharField(_("school year"), max_length=9)
    # Fernet token; the plain key is only ever needed to put it in the SOAP header of a call.
    autorisatiesleutel_versleuteld = models.TextField()
    schoolkey = models.CharField(_("SchoolKey"), max_length=256, blank=True)
    klantcode = models.CharField(max_length=64)
    klantnaam = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=STATUSSEN, default=AANGEVRAAGD)
    reden = models.TextField(_("reason"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.school} – {self.las_type}"

    @property
    def autorisatiesleutel(self) -> str:
        return crypto.decrypt(self.autorisatiesleutel_versleuteld)

    @autorisatiesleutel.setter
    def autorisatiesleutel(self, value: str) -> None:
        self.autorisatiesleutel_versleuteld = crypto.encrypt(value)

    @property
    def sleutel_masker(self) -> str:
        if not self.autorisatiesleutel_versleuteld:
            return ""
        try:
            return crypto.mask(self.autorisatiesleutel)
        except crypto.SleutelOnleesbaar:
            return "\u2022" * 8 + " ?"


class ImportRun(models.Model):
    """One import of the wizard. It starts as a background fetch from the LAS (`ophalen`, see `ea.tasks`): a
    worker takes it with a conditional UPDATE (`worker` = its claim token, the fence for writing the outcome) and
    keeps `heartbeat_at` fresh; the same row then becomes the staged import, or ends `failed` with a Dutch `fout`."""

    OPHALEN, STAGED, APPLIED, ABORTED, FAILED = "ophalen", "staged", "applied", "aborted", "failed"
    STATES = [
        (OPHALEN, _("fetching")),
        (STAGED, _("staged")),
        (APPLIED, _("imported")),
        (ABORTED, _("aborted")),
        (FAILED, _("failed")),
    ]

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="imports")
    koppeling = models.ForeignKey(LasKoppeling, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    schooljaar = models.CharField(max_length=9)
    state = models.CharField(max_length=8, choices=STATES, default=STAGED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fout = models.TextField(blank=True)
    resultaat = models.JSONField(default=dict, blank=True)
    # The answer carries the school's whole teacher list: only then are LAS teachers missing from it deactivated.
    leerkrachten_compleet = models.BooleanField(default=False)
    # The background fetch: who holds it (claim token, empty while waiting for a worker) and its last sign of life.
    worker = models.CharField(max_length=120, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The language of the admin who started the fetch: the worker writes the LAS's error in it.
    taal = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A second click while the school's data are being fetched never starts a second fetch.
            models.UniqueConstraint(fields=["school"], condition=Q(state="ophalen"), name="ea_import_een_ophalen"),
        ]


class Besluit(models.TextChoices):
    NIEUW = "nieuw", _("new")
    BESTAAND = "bestaand", _("existing")
    NIET = "niet", _("do not import")


class StagedRecord(models.Model):
    """One record of the LAS answer as staged for review, with the wizard's decision for it."""

    AUTO_ECKID, AUTO_KEY, REGEL, HANDMATIG = "eckid", "key", "regel", "handmatig"

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=256)
    besluit = models.CharField(max_length=8, choices=Besluit.choices, default=Besluit.NIEUW)
    target_id = models.BigIntegerField(null=True, blank=True)
    # How the target was found (eckid/key/regel/handmatig); a manual decision survives re-reconciling.
    reden = models.CharField(max_length=10, blank=True)
    handmatig = models.BooleanField(default=False)
    suggestie_id = models.BigIntegerField(null=True, blank=True)
    wijzigt = models.BooleanField(default=False)

    class Meta:
        abstract = True


class StagedGroep(StagedRecord):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="groepen")
    naam = models.CharField(max_length=64)
    jaargroep = models.CharField(max_length=2, blank=True)
    soort = models.CharField(max_length=12, default=Groep.STAMGROEP)

    class Meta:
        ordering = ["naam", "id"]


class StagedLeerkracht(StagedRecord):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="leerkrachten")
    eckid = models.CharField(max_length=256, blank=True)
    achternaam = models.CharField(max_length=200, blank=True)
    voorvoegsel = models.CharField(max_length=10, blank=True)
    roepnaam = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=256, blank=True)
    groep_keys = models.TextField(blank=True)  # newline-separated group keys

    class Meta:
        ordering = ["achternaam", "roepnaam", "id"]

    @property
    def naam(self) -> str:
        return " ".join(p for p in (self.roepnaam, self.voorvoegsel, self.achternaam) if p)


class StagedLeerling(StagedRecord):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="leerlingen")
    eckid = models.CharField(max_length=256, blank=True)
    achternaam = models.CharField(max_length=200, blank=True)
    voorvoegsel = models.CharField(max_length=10, blank=True)
    roepnaam = models.CharField(max_length=64, blank=True)
    geboortedatum = models.DateField(null=True, blank=True)
    jaargroep = models.CharField(max_length=2, blank=True)
    groep_key = models.CharField(max_length=256, blank=True)
    samengestelde_keys = models.TextField(blank=True)  # newline-separated keys of samengestelde groepen

    class Meta:
        ordering = ["achternaam", "roepnaam", "id"]
        indexes = [models.Index(fields=["run", "groep_key"])]

    @property
    def naam(self) -> str:
        return " ".join(p for p in (self.roepnaam, self.voorvoegsel, self.achternaam) if p)
