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
