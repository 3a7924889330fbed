from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from koppelpunt import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("inloggen/", views.ThrottledLoginView.as_view(), name="login"),
    path("uitloggen/", auth_views.LogoutView.as_view(), name="logout"),
    # The admin's own login form is not throttled: send it to ours (which keeps ?next=).
    path("beheer/django/login/", RedirectView.as_view(url="/inloggen/", query_string=True), name="admin_login"),
    path("beheer/django/", admin.site.urls),
    path("school/", include("las.urls")),
    path("applicatie/", include("ea.urls")),
    path("applicatie/synchronisatie/", include("sync.urls")),
]
