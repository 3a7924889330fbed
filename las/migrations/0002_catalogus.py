from django.db import migrations


def load(apps, schema_editor):
    from las.catalogus import load_catalogue

    load_catalogue(apps.get_model("las", "KoppelingType"), apps.get_model("las", "KoppelingAanbod"))


class Migration(migrations.Migration):
    dependencies = [("las", "0001_school_en_koppelingen")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
