from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from koppelpunt import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("inloggen/", views.ThrottledLoginView.as_view(), name="login"),
    path("uitloggen/", auth_views.LogoutView.as_view(), name="logout"),
    path("beheer/django/", admin.site.urls),
    path("school/", include("las.urls")),
    path("applicatie/", include("ea.urls")),
    path("applicatie/synchronisatie/", include("sync.urls")),
]
