from django.urls import path

app_name = "las"
urlpatterns: list[path] = []
