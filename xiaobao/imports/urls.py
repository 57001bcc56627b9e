from django.urls import path

from xiaobao.imports import views

urlpatterns = [path("", views.batch_index, name="imports-batches")]
