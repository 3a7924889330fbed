"""State of every nightly job in our own tables, and the application's test results.

The queue (huey) only carries "look at job N" messages. Whether job N still has to be done, who is doing it and
how it ended lives here: a worker takes a job with a conditional UPDATE (`… WHERE id = N AND state = 'planned'`;
one row updated = it won), keeps a heartbeat while it works, and writes the end state only while it still holds
the claim (the claim token is the fence). A claim whose heartbeat stops (the worker was killed) is taken back
after a lease, so no job is lost, and no job is done twice.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ea.models import Applicatie, ImportRun, LasKoppeling, Leerling, School


class SyncInstelling(models.Model):
    """The safety valves of one school's connection (one active connection per school: they stay with the school
    when the connection is renewed), plus what the delta request needs."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="sync_instelling")
    actief = models.BooleanField(_("nightly sync on"), default=True)
    hold_percentage = models.PositiveSmallIntegerField(
        _("hold when more than this share of the pupils would change or be deactivated (%)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    pauze_van = models.DateField(_("pause from"), null=True, blank=True)
    pauze_tot = models.DateField(_("pause until (inclusive)"), null=True, blank=True)
    # `laatstontvangengegevens` of the next request: when the data that is now in the application was fetched.
    # Only valid for the connection settings it was fetched with (`delta_sleutel`).
    laatst_ontvangen = models.DateTimeField(null=True, blank=True, editable=False)
    delta_sleutel = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = _("sync settings")
        verbose_name_plural = _("sync settings")

    def __str__(self) -> str:
        return str(self.school)

    def gepauzeerd(self, datum: dt.date) -> bool:
        if self.pauze_van is None and self.pauze_tot is None:
            return False
        van = self.pauze_van or dt.date.min
        tot = self.pauze_tot or dt.date.max
        return van <= datum <= tot


class SyncNacht(models.Model):
    """One row per night that has been planned, so that the scheduler plans every night once (also when several
    schedulers run, or one comes back after being down past the sync time)."""

    datum = models.DateField(unique=True)
    gepland_op = models.DateTimeField(default=timezone.now)
    voltooid = models.BooleanField(default=False)


class SyncRun(models.Model):
    PLANNED, CLAIMED, RUNNING = "planned", "claimed", "running"
    APPLIED, HELD, NEEDS_PERSON, FAILED = "applied", "held", "needs_person", "failed"
    STATES = [
        (PLANNED, _("planned")),
        (CLAIMED, _("claimed")),
        (RUNNING, _("running")),
        (APPLIED, _("done")),
        (HELD, _("held")),
        (NEEDS_PERSON, _("waiting for an admin")),
        (FAILED, _("failed")),
    ]
    ACTIVE = (PLANNED, CLAIMED, RUNNING)
    BUSY = (CLAIMED, RUNNING)
    NACHT, HANDMATIG = "nacht", "handmatig"
    AANLEIDINGEN = [(NACHT, _("nightly")), (HANDMATIG, _("manual"))]
    GEEN_WIJZIGINGEN, BIJGEWERKT, ONGEWIJZIGD = "geen_wijzigingen", "bijgewerkt", "ongewijzigd"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="sync_runs")
    koppeling = models.ForeignKey(LasKoppeling, null=True, on_delete=models.SET_NULL, related_name="+")
    nacht = models.DateField(_("night"))
    aanleiding = models.CharField(max_length=10, choices=AANLEIDINGEN, default=NACHT)
    state = models.CharField(_("state"), max_length=12, choices=STATES, default=PLANNED)
    not_before = models.DateTimeField(default=timezone.now)
    planned_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=120, blank=True)
    uitkomst = models.CharField(max_length=20, blank=True)
    fout = models.TextField(_("error"), blank=True)
    resultaat = models.JSONField(default=dict, blank=True)
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-planned_at", "-id"]
        constraints = [
            # The scheduler may plan a night twice (two schedulers, a restart): the database keeps one.
            models.UniqueConstraint(fields=["school", "nacht"], condition=Q(aanleiding="nacht"), name="sync_run_nacht"),
            # Two workers never sync the same school at once: at most one unfinished run per school.
            models.UniqueConstraint(
                fields=["school"], condition=Q(state__in=["planned", "claimed", "running"]), name="sync_run_een_actief"
            ),
        ]
        indexes = [models.Index(fields=["state", "not_before"])]

    def __str__(self) -> str:
        return f"sync {self.pk} {self.school_id} {self.nacht} {self.state}"

    @property
    def is_probleem(self) -> bool:
        return self.state in (self.FAILED, self.HELD, self.NEEDS_PERSON)


class ResultPush(models.Model):
    """One batch of results of one school on its way to the LAS (BrengLeerresultaten)."""

    QUEUED, CLAIMED, SENDING = "queued", "claimed", "sending"
    DELIVERED, REJECTED, FAILED = "delivered", "rejected", "failed"
    STATES = [
        (QUEUED, _("queued")),
        (CLAIMED, _("claimed")),
        (SENDING, _("sending")),
        (DELIVERED, _("delivered")),
        (REJECTED, _("rejected by the LAS")),
        (FAILED, _("failed")),
    ]
    ACTIVE = (QUEUED, CLAIMED, SENDING)
    BUSY = (CLAIMED, SENDING)

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="result_pushes")
    koppeling = models.ForeignKey(LasKoppeling, null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=STATES, default=QUEUED)
    aantal = models.PositiveIntegerField(_("results"), default=0)
    not_before = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # BrengLeerresultaten requests sent for this push, over all attempts: one per attempt, unless the LAS refused
    # some pupils and the batch was split to isolate them (about k·log2(n) for k refused pupils of n).
    verzoeken = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=120, blank=True)
    foutcode = models.CharField(max_length=64, blank=True)
    fout = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school"], condition=Q(state__in=["queued", "claimed", "sending"]), name="sync_push_een_actief"
            ),
        ]
        indexes = [models.Index(fields=["state", "not_before"])]

    def __str__(self) -> str:
        return f"push {self.pk} {self.school_id} {self.state}"


class Toets(models.Model):
    """A test of the application, with its normering: score bands that each carry a term (e.g. A–E)."""

    applicatie = models.ForeignKey(Applicatie, on_delete=models.CASCADE, related_name="toetsen")
    code = models.CharField(_("test code"), max_length=64)
    naam = models.CharField(_("name"), max_length=128)
    leerjaar = models.CharField(_("year group"), max_length=2, blank=True)
    # [{"term": "A", "van": 40, "tot": 50, "omschrijving": "…"}, …]: integer bands, inclusive, not overlapping.
    normering = models.JSONField(_("norms"), default=list, blank=True)

    class Meta:
        ordering = ["naam"]
        verbose_name = _("test")
        verbose_name_plural = _("tests")
        constraints = [models.UniqueConstraint(fields=["applicatie", "code"], name="sync_toets_code")]

    def __str__(self) -> str:
        return self.naam

    def norm_voor(self, score: int) -> str:
        for band in self.normering:
            if int(band["van"]) <= score <= int(band["tot"]):
                return str(band["term"])
        return ""


def nieuwe_resultaatsleutel() -> str:
    return "kp-" + secrets.token_hex(12)


class ToetsResultaat(models.Model):
    """A pupil's normed score on a test. `sleutel` is made once and sent with every delivery attempt, so a LAS
    that deduplicates on the result key stores it once however often we send it."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    leerling = models.ForeignKey(Leerling, on_delete=models.CASCADE, related_name="toetsresultaten")
    toets = models.ForeignKey(Toets, on_delete=models.PROTECT, related_name="resultaten")
    afnamedatum = models.DateField(_("date taken"))
    score = models.PositiveIntegerField(_("score"))
    norm = models.CharField(_("norm"), max_length=64, blank=True)
    sleutel = models.CharField(max_length=64, unique=True, default=nieuwe_resultaatsleutel, editable=False)
    push = models.ForeignKey(ResultPush, null=True, blank=True, on_delete=models.SET_NULL, related_name="resultaten")
    afgeleverd_op = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-afnamedatum", "-id"]
        verbose_name = _("test result")
        verbose_name_plural = _("test results")
        indexes = [models.Index(fields=["school", "push", "afgeleverd_op"])]

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.norm:
            self.norm = self.toets.norm_voor(self.score)
        super().save(*args, **kwargs)  # type: ignore[arg-type]
