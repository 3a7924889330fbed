from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from las import models as m
from las import services


@admin.register(m.Bestuur)
class BestuurAdmin(admin.ModelAdmin):
    list_display = ["naam", "bestuursnummer", "mutatiedatum"]
    search_fields = ["naam", "bestuursnummer"]


class VestigingInline(admin.TabularInline):
    model = m.Vestiging
    extra = 0
    fields = ["dependancecode", "naam", "plaats", "key"]


@admin.register(m.School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["brincode", "naam", "bestuur", "mutatiedatum"]
    search_fields = ["brincode", "naam"]
    inlines = [VestigingInline]


class SchoolBeheerderInline(admin.TabularInline):
    model = m.SchoolBeheerder
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(m.Vestiging)
class VestigingAdmin(admin.ModelAdmin):
    list_display = ["code6", "naam", "school", "plaats", "data_version", "gewijzigd_op"]
    list_select_related = ["school"]
    search_fields = ["school__brincode", "naam", "plaats"]
    readonly_fields = ["data_version", "gewijzigd_op", "mutatiedatum"]
    inlines = [SchoolBeheerderInline]


@admin.register(m.Schooljaar)
class SchooljaarAdmin(admin.ModelAdmin):
    list_display = ["naam", "begindatum", "einddatum"]


class LeerkrachtGroepInline(admin.TabularInline):
    model = m.LeerkrachtGroep
    extra = 0
    autocomplete_fields = ["leerkracht"]


@admin.register(m.Groep)
class GroepAdmin(admin.ModelAdmin):
    list_display = ["naam", "jaargroep", "vestiging", "schooljaar", "mutatiedatum"]
    list_filter = ["schooljaar", "vestiging", "jaargroep"]
    search_fields = ["naam", "key"]
    readonly_fields = ["mutatiedatum"]
    inlines = [LeerkrachtGroepInline]


class LeerkrachtSamengesteldeGroepInline(admin.TabularInline):
    model = m.LeerkrachtSamengesteldeGroep
    extra = 0
    autocomplete_fields = ["leerkracht"]


@admin.register(m.SamengesteldeGroep)
class SamengesteldeGroepAdmin(admin.ModelAdmin):
    list_display = ["naam", "vestiging", "schooljaar", "mutatiedatum"]
    list_filter = ["schooljaar", "vestiging"]
    search_fields = ["naam", "key"]
    readonly_fields = ["mutatiedatum"]
    inlines = [LeerkrachtSamengesteldeGroepInline]


@admin.register(m.Leerling)
class LeerlingAdmin(admin.ModelAdmin):
    list_display = ["achternaam", "voorvoegsel", "roepnaam", "geboortedatum", "jaargroep", "groep", "vestiging",
                    "mutatiedatum"]
    list_filter = ["vestiging", "jaargroep"]
    list_select_related = ["groep", "vestiging__school"]
    search_fields = ["achternaam", "roepnaam", "voornamen", "key", "eckid"]
    autocomplete_fields = ["groep"]
    filter_horizontal = ["samengestelde_groepen"]
    readonly_fields = ["mutatiedatum"]


@admin.register(m.Leerkracht)
class LeerkrachtAdmin(admin.ModelAdmin):
    list_display = ["achternaam", "voorvoegsel", "roepnaam", "emailadres", "rol", "school", "mutatiedatum"]
    list_filter = ["school", "rol"]
    search_fields = ["achternaam", "roepnaam", "emailadres", "gebruikersnaam", "key"]
    readonly_fields = ["mutatiedatum"]
    inlines = [LeerkrachtGroepInline, LeerkrachtSamengesteldeGroepInline]


@admin.register(m.SchoolBeheerder)
class SchoolBeheerderAdmin(admin.ModelAdmin):
    list_display = ["user", "vestiging"]
    list_select_related = ["user", "vestiging__school"]
    autocomplete_fields = ["user", "vestiging"]
    search_fields = ["user__username", "vestiging__school__brincode"]


class KoppelingAanbodInline(admin.TabularInline):
    model = m.KoppelingAanbod
    extra = 0
    fields = ["naam", "slug", "profiel", "bevestiging_vereist", "beschikbaar", "volgorde"]


@admin.register(m.KoppelingType)
class KoppelingTypeAdmin(admin.ModelAdmin):
    list_display = ["naam", "slug", "volgorde"]
    prepopulated_fields = {"slug": ["naam"]}
    inlines = [KoppelingAanbodInline]


@admin.register(m.KoppelingAanbod)
class KoppelingAanbodAdmin(admin.ModelAdmin):
    list_display = ["naam", "type", "klantnaam", "klantcode", "profiel", "bevestiging_vereist", "beschikbaar"]
    list_filter = ["type", "profiel", "bevestiging_vereist", "beschikbaar"]
    search_fields = ["naam", "klantnaam", "klantcode"]
    prepopulated_fields = {"slug": ["naam"]}


class KoppelingEventInline(admin.TabularInline):
    model = m.KoppelingEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("op", "soort", "wie", "notitie")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.Koppeling)
class KoppelingAdmin(admin.ModelAdmin):
    list_display = ["aanbod", "vestiging", "status", "startdatum", "kind", "akkoord_op", "ended_at"]
    list_filter = ["status", "aanbod__type", "aanbod"]
    list_select_related = ["aanbod", "vestiging__school"]
    search_fields = ["vestiging__school__brincode", "aanbod__naam", "naam"]
    # The code's fingerprint is not shown and nothing here changes it: codes are set by the school only.
    fields = ["vestiging", "aanbod", "status", "kind", "naam", "activated_by", "akkoord_op", "startdatum",
              "code_gewijzigd_op", "bevestigd_op", "ended_at", "ended_by"]
    readonly_fields = ["vestiging", "aanbod", "status", "kind", "activated_by", "akkoord_op", "code_gewijzigd_op",
                       "bevestigd_op", "ended_at", "ended_by"]
    inlines = [KoppelingEventInline]
    actions = ["bevestig"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Confirm selected koppelingen (partner confirmation)"))
    def bevestig(self, request: HttpRequest, queryset: QuerySet[m.Koppeling]) -> None:
        done = sum(
            services.confirm(k, user=request.user, notitie=str(_("via the service desk (admin)"))) for k in queryset
        )
        skipped = queryset.count() - done
        self.message_user(request, ngettext("%d koppeling confirmed.", "%d koppelingen confirmed.", done) % done,
                          messages.SUCCESS)
        if skipped:
            self.message_user(
                request, ngettext("%d koppeling was not waiting for confirmation.",
                                  "%d koppelingen were not waiting for confirmation.", skipped) % skipped,
                messages.WARNING,
            )


from las import uwlr_admin  # noqa: E402,F401  (UWLR service: lockouts, access log, results)
