"""Admin (service desk) views of the UWLR service: lockouts (with an unlock action), the access log, results."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from las import autorisatie
from las.models import Toetsresultaat, UwlrBlokkade, UwlrToegang


@admin.register(UwlrBlokkade)
class UwlrBlokkadeAdmin(admin.ModelAdmin):
    list_display = ("sleutel", "mislukt", "geblokkeerd_tot", "laatste_poging")
    search_fields = ("sleutel",)
    readonly_fields = ("sleutel", "venster_start", "mislukt", "geblokkeerd_tot", "laatste_poging")
    actions = ("opheffen",)

    @admin.action(description=_("Lift the lockout"))
    def opheffen(self, request: Any, queryset: Any) -> None:
        count = sum(autorisatie.unlock(rij.sleutel) for rij in queryset)
        self.message_user(request, _("%(count)d lockout(s) lifted.") % {"count": count}, messages.SUCCESS)

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(UwlrToegang)
class UwlrToegangAdmin(admin.ModelAdmin):
    list_display = ("op", "operatie", "koppeling", "klantcode", "uitkomst", "leerlingen", "leerkrachten",
                    "groepen", "resultaten", "client_ip", "duur_ms")
    list_filter = ("operatie", "uitkomst")
    search_fields = ("klantcode", "klantnaam", "client_ip")
    list_select_related = ("koppeling__aanbod", "koppeling__vestiging__school")
    date_hierarchy = "op"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Toetsresultaat)
class ToetsresultaatAdmin(admin.ModelAdmin):
    list_display = ("leerling", "toets", "afnamedatum", "weergave", "normterm", "koppeling")
    list_select_related = ("leerling", "toets", "koppeling__aanbod")
    search_fields = ("key", "toets__toetsnaam")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
