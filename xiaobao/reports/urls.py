from django.urls import path

from xiaobao.reports import views

urlpatterns = [
    path("", views.reports_index, name="reports-index"),
    path("generate/", views.reports_generate, name="reports-generate"),
    path("<int:pk>/", views.reports_job, name="reports-job"),
    path("<int:pk>/download/", views.reports_download, name="reports-download"),
    path("templates/", views.reports_templates, name="reports-templates"),
    path("templates/<str:key>/", views.reports_template_edit, name="reports-template-edit"),
    path("templates/<str:key>/reset/", views.reports_template_reset, name="reports-template-reset"),
]
