from django.urls import path

app_name = "ea"
urlpatterns: list[path] = []
