from django.urls import path

from xiaobao.customers import views

urlpatterns = [
    path("", views.customer_index, name="customers-list"),
    path("<int:pk>/", views.customer_detail, name="customers-detail"),
    path("<int:pk>/reveal/<str:field>/", views.customer_reveal, name="customers-reveal"),
    path("<int:pk>/erase/", views.customer_erase_view, name="customers-erase"),
]
