from django.urls import path

from xiaobao.cases import views, views_admin, views_rectification

urlpatterns = [
    path("", views.case_desk, name="cases-desk"),
    path("export.xlsx", views.case_export, name="cases-export"),
    path("bulk/", views.case_bulk, name="cases-bulk"),
    path("new/", views.case_new, name="cases-new"),
    path("stats/", views_admin.case_stats_page, name="cases-stats"),
    path("notifications/", views.notification_index, name="cases-notifications"),
    path("calendar/", views_admin.calendar_index, name="cases-calendar"),
    path("settings/", views_admin.case_settings, name="cases-settings"),
    path("rectifications/", views_rectification.rectification_index, name="cases-rectifications"),
    path("rectifications/new/", views_rectification.rectification_new, name="cases-rectification-new"),
    path(
        "rectifications/<int:pk>/",
        views_rectification.rectification_detail,
        name="cases-rectification-detail",
    ),
    path(
        "rectifications/<int:pk>/evidence/", views_rectification.evidence_upload, name="cases-evidence-upload"
    ),
    path(
        "rectifications/<int:pk>/evidence/<int:eid>/",
        views_rectification.evidence_download,
        name="cases-evidence-download",
    ),
    path(
        "rectifications/<int:pk>/submit/",
        views_rectification.rectification_submit_view,
        name="cases-rectification-submit",
    ),
    path(
        "rectifications/<int:pk>/verify/",
        views_rectification.rectification_verify_view,
        name="cases-rectification-verify",
    ),
    path("<int:pk>/", views.case_detail, name="cases-detail"),
    path("<int:pk>/transition/<str:action>/", views.case_transition_view, name="cases-transition"),
    path("<int:pk>/extend/", views.case_extend_view, name="cases-extend"),
    path("<int:pk>/assign/", views.case_assign_view, name="cases-assign"),
    path("<int:pk>/plan/", views.case_plan_add, name="cases-plan"),
    path("<int:pk>/plan/<int:step>/done/", views.case_plan_done, name="cases-plan-done"),
    path("<int:pk>/contact/", views.case_contact_add, name="cases-contact"),
    path("<int:pk>/root-cause/", views.case_root_cause, name="cases-root-cause"),
    path("<int:pk>/callback/", views.case_callback, name="cases-callback"),
    path("<int:pk>/notice.docx", views.case_notice, name="cases-notice"),
    path("<int:pk>/reveal/<str:field>/", views.case_reveal, name="cases-reveal"),
]
