from django.urls import path

from xiaobao.retention import views

urlpatterns = [
    path("", views.retention_index, name="retention-index"),
    path("rules/<int:pk>/", views.retention_rule, name="retention-rule"),
    path("run/", views.retention_execute, name="retention-run"),
]
