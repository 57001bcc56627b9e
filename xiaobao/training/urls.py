from django.urls import path

from xiaobao.training import views

urlpatterns = [
    path("", views.session_index, name="training-index"),
    path("sessions/new/", views.session_new, name="training-session-new"),
    path("sessions/<int:pk>/", views.session_detail, name="training-session-detail"),
    path("sessions/<int:pk>/attendance/", views.attendance_record, name="training-attendance"),
    path("import/", views.attendance_import, name="training-attendance-import"),
    path("coverage/", views.coverage_page, name="training-coverage"),
    path("coverage/untrained.xlsx", views.untrained_export, name="training-untrained-export"),
]
