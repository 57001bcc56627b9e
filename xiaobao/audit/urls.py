from django.urls import path

from xiaobao.audit import views

urlpatterns = [path("", views.audit_index, name="audit-list")]
