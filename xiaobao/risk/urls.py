from django.urls import path

from xiaobao.risk import views

urlpatterns = [
    path("", views.alert_index, name="risk-alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="risk-alert-detail"),
    path("alerts/<int:pk>/assign/", views.alert_assign, name="risk-alert-assign"),
    path("alerts/<int:pk>/notes/", views.alert_note, name="risk-alert-note"),
    path("alerts/<int:pk>/evidence/", views.alert_evidence_upload, name="risk-alert-evidence"),
    path(
        "alerts/<int:pk>/evidence/<int:eid>/",
        views.alert_evidence_download,
        name="risk-alert-evidence-download",
    ),
    path("alerts/<int:pk>/<str:action>/", views.alert_decide, name="risk-alert-decide"),
    path("alerts/<int:pk>/pack.<str:fmt>", views.alert_pack, name="risk-alert-pack"),
    path("watchlist/", views.watch_index, name="risk-watchlist"),
    path("watchlist/<int:pk>/remove/", views.watch_remove, name="risk-watch-remove"),
    path("hits/", views.intake_hit_index, name="risk-hits"),
]
