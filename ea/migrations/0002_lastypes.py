from django.db import migrations

from ea.lastypes import LAS_TYPES, ensure


def add(apps, schema_editor):
    ensure(apps.get_model("ea", "LasType"))


def remove(apps, schema_editor):
    apps.get_model("ea", "LasType").objects.filter(naam__in=[t[0] for t in LAS_TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("ea", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
