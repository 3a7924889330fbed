from django.contrib import admin

from sync.models import ResultPush, SyncInstelling, SyncRun, Toets, ToetsResultaat


@admin.register(SyncInstelling)
class SyncInstellingAdmin(admin.ModelAdmin):
    list_display = ["school", "actief", "hold_percentage", "pauze_van", "pauze_tot", "laatst_ontvangen"]
    list_filter = ["actief"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["id", "school", "nacht", "aanleiding", "state", "uitkomst", "attempts", "worker", "finished_at"]
    list_filter = ["state", "aanleiding", "nacht"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]


@admin.register(ResultPush)
class ResultPushAdmin(admin.ModelAdmin):
    list_display = ["id", "school", "state", "aantal", "attempts", "foutcode", "created_at", "finished_at"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in ResultPush._meta.fields]


@admin.register(Toets)
class ToetsAdmin(admin.ModelAdmin):
    list_display = ["naam", "code", "applicatie", "leerjaar"]


@admin.register(ToetsResultaat)
class ToetsResultaatAdmin(admin.ModelAdmin):
    list_display = ["leerling", "toets", "afnamedatum", "score", "norm", "afgeleverd_op"]
    list_filter = ["toets", "afgeleverd_op"]
    raw_id_fields = ["leerling", "push", "school"]
    readonly_fields = ["sleutel"]
