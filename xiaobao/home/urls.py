from django.urls import path

from xiaobao.home import views

urlpatterns = [path("", views.index, name="home-index")]
