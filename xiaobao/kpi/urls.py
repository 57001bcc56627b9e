from django.urls import path

from xiaobao.kpi import views

urlpatterns = [
    path("", views.index, name="kpi-index"),
    path("freeze/", views.freeze, name="kpi-freeze"),
    path("records/<slug:kpi_id>/", views.records, name="kpi-records"),
    path("snapshots/", views.snapshots, name="kpi-snapshots"),
    path("snapshots/compare/", views.snapshot_compare, name="kpi-snapshot-compare"),
    path("snapshots/<int:pk>/", views.snapshot_detail, name="kpi-snapshot-detail"),
    path("snapshots/<int:pk>/recompute/", views.snapshot_recompute, name="kpi-snapshot-recompute"),
    path("settings/", views.quality_settings, name="kpi-quality-settings"),
    path("quality/", views.quality_values, name="kpi-quality-values"),
]
