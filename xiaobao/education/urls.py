from django.urls import path

from xiaobao.education import views

urlpatterns = [
    path("", views.activity_index, name="education-index"),
    path("new/", views.activity_new, name="education-new"),
    path("stats/", views.education_stats_page, name="education-stats"),
    path("plans/", views.plan_index, name="education-plans"),
    path("plans/<int:pk>/", views.plan_detail, name="education-plan-detail"),
    path("plans/<int:pk>/targets/", views.plan_target, name="education-plan-target"),
    path(
        "plans/<int:pk>/targets/<int:tid>/delete/",
        views.plan_target_delete,
        name="education-plan-target-delete",
    ),
    path("limits/", views.reach_limit_index, name="education-limits"),
    path("<int:pk>/", views.activity_detail, name="education-detail"),
    path("<int:pk>/edit/", views.activity_edit, name="education-edit"),
    path("<int:pk>/evidence/", views.evidence_upload, name="education-evidence-upload"),
    path("<int:pk>/links/", views.evidence_link, name="education-evidence-link"),
    path("<int:pk>/evidence/<int:eid>/", views.evidence_download, name="education-evidence-download"),
]
