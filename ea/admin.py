from django.contrib import admin

from ea.models import Applicatie, Groep, ImportRun, Klantenservice, LasKoppeling, LasType, Leerling, LinkRule, School


@admin.register(LasType)
class LasTypeAdmin(admin.ModelAdmin):
    list_display = ["naam", "leerlinggegevens_url", "getrapt", "xsdversie", "volgorde"]


@admin.register(LasKoppeling)
class LasKoppelingAdmin(admin.ModelAdmin):
    list_display = ["school", "las_type", "brincode", "schooljaar", "status", "requested_at", "decided_at"]
    list_filter = ["status", "las_type"]
    # The encrypted key is never shown or edited here; a school changes it on its own screen.
    exclude = ["autorisatiesleutel_versleuteld"]
    readonly_fields = ["requested_by", "decided_by", "decided_at"]


@admin.register(Applicatie)
class ApplicatieAdmin(admin.ModelAdmin):
    list_display = ["naam", "klantcode", "klantnaam"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["naam", "brincode", "dependancecode", "applicatie"]


@admin.register(Klantenservice)
class KlantenserviceAdmin(admin.ModelAdmin):
    list_display = ["user", "applicatie"]


@admin.register(Leerling)
class LeerlingAdmin(admin.ModelAdmin):
    list_display = ["achternaam", "roepnaam", "school", "groep", "extern_key", "actief"]
    list_filter = ["actief", "school"]
    search_fields = ["achternaam", "roepnaam", "extern_key", "eckid"]


@admin.register(Groep)
class GroepAdmin(admin.ModelAdmin):
    list_display = ["naam", "school", "schooljaar", "extern_key", "gearchiveerd"]


@admin.register(LinkRule)
class LinkRuleAdmin(admin.ModelAdmin):
    list_display = ["school", "soort", "actie", "extern_key", "eckid", "target_id", "created_at"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["school", "schooljaar", "state", "created_at", "finished_at"]
    readonly_fields = ["resultaat", "fout"]
