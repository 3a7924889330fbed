from django.urls import path

from sync import views

app_name = "sync"
urlpatterns = [
    path("school/<int:school_id>/", views.school, name="school"),
    path("school/<int:school_id>/instellingen/", views.instellingen, name="instellingen"),
    path("school/<int:school_id>/nu/", views.nu, name="nu"),
    path("klantenservice/", views.overzicht, name="overzicht"),
    path("klantenservice/resultaten/<int:pk>/opnieuw/", views.opnieuw, name="opnieuw"),
]
