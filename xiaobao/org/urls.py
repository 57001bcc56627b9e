from django.urls import path

from xiaobao.org import views

urlpatterns = [
    path("", views.unit_index, name="org-units"),
    path("<str:code>/", views.unit_detail, name="org-unit-detail"),
]
