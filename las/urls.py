from django.urls import path, register_converter

from las import views


class Code6Converter:
    regex = "[0-9]{2}[A-Za-z]{2}[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value


register_converter(Code6Converter, "code6")

app_name = "las"
urlpatterns = [
    path("koppelingen/", views.koppelingen, name="koppelingen"),
    path("<code6:code6>/koppelingen/", views.overzicht, name="overzicht"),
    path("<code6:code6>/koppelingen/activeren/<slug:slug>/", views.activeren, name="activeren"),
    path("<code6:code6>/koppelingen/<int:pk>/", views.detail, name="detail"),
    path("<code6:code6>/koppelingen/<int:pk>/bewerken/", views.bewerken, name="bewerken"),
    path("<code6:code6>/koppelingen/<int:pk>/beeindigen/", views.beeindigen, name="beeindigen"),
    path("voorwaarden/<slug:slug>/", views.voorwaarden, name="voorwaarden"),
    path("bevestigen/<str:token>/", views.bevestigen, name="bevestigen"),
]

# UWLR SOAP endpoints and the school's result screens (las.uwlr_service, las.uwlr_views)
from las import uwlr_service, uwlr_views  # noqa: E402

urlpatterns += [
    path("uwlr/leerlinggegevens", uwlr_service.leerlinggegevens_endpoint, name="uwlr_leerlinggegevens"),
    path("uwlr/leerresultaten", uwlr_service.leerresultaten_endpoint, name="uwlr_leerresultaten"),
    path("<code6:code6>/koppelingen/<int:pk>/sleutel/", uwlr_views.sleutel_uitgeven, name="sleutel_uitgeven"),
    path("<code6:code6>/resultaten/", uwlr_views.resultaten, name="resultaten"),
    path("<code6:code6>/resultaten/groep/<int:groep_id>/", uwlr_views.resultaten_groep, name="resultaten_groep"),
    path("<code6:code6>/resultaten/leerling/<int:leerling_id>/", uwlr_views.resultaten_leerling,
         name="resultaten_leerling"),
]
