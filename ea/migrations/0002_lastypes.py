from django.db import migrations

# The LAS kinds offered in "Koppelen met LAS". Addresses of other vendors are agreed per partner contract and
# are filled in by the application's administrator (Django admin); our own school side is known.
LAS_TYPES = [
    ("Koppelpunt (eigen LAS)", "{BASE_URL}/school/uwlr/leerlinggegevens", "{BASE_URL}/school/uwlr/leerresultaten",
     True, 10),
    ("ESIS", "", "", True, 20),
    ("ParnasSys", "", "", True, 30),
    ("SchoolOAS (DotCom)", "", "", False, 40),
    ("Somtoday", "", "", False, 50),
    ("Magister", "", "", False, 60),
]


def add(apps, schema_editor):
    LasType = apps.get_model("ea", "LasType")
    for naam, lg, lr, getrapt, volgorde in LAS_TYPES:
        LasType.objects.get_or_create(
            naam=naam,
            defaults={"leerlinggegevens_url": lg, "leerresultaten_url": lr, "getrapt": getrapt, "volgorde": volgorde},
        )


def remove(apps, schema_editor):
    apps.get_model("ea", "LasType").objects.filter(naam__in=[t[0] for t in LAS_TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("ea", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
