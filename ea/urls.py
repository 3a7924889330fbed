from django.urls import path

from ea import views

app_name = "ea"
urlpatterns = [
    path("", views.home, name="home"),
    path("school/<int:school_id>/koppelen/", views.koppelen, name="koppelen"),
    path("school/<int:school_id>/koppelen/verwijder-nummers/", views.verwijder_nummers, name="verwijder_nummers"),
    path("school/<int:school_id>/importeren/", views.importeren, name="importeren"),
    path("school/<int:school_id>/importeren/<int:run_id>/", views.import_ophalen, name="import_ophalen"),
    path(
        "school/<int:school_id>/import/<int:run_id>/samenvatting/",
        views.import_samenvatting,
        name="import_samenvatting",
    ),
    path("school/<int:school_id>/import/<int:run_id>/emailadressen/", views.import_emails, name="import_emails"),
    path("school/<int:school_id>/import/<int:run_id>/<str:tab>/", views.import_tab, name="import_tab"),
    path(
        "school/<int:school_id>/import/<int:run_id>/<str:tab>/<int:staged_id>/besluit/",
        views.import_besluit,
        name="import_besluit",
    ),
    path(
        "school/<int:school_id>/import/<int:run_id>/<str:tab>/<int:staged_id>/koppelen/",
        views.import_koppel,
        name="import_koppel",
    ),
    path("school/<int:school_id>/leerlingen/", views.leerlingen, name="leerlingen"),
    path("klantenservice/", views.aanvragen, name="aanvragen"),
    path("klantenservice/aanvraag/<int:pk>/", views.aanvraag, name="aanvraag"),
]
