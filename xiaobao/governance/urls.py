from django.urls import path

from xiaobao.governance import views, views_library, views_quality

urlpatterns = [
    path("", views.governance_index, name="governance-index"),
    # 消保工作事务委员会
    path("meetings/", views.meeting_index, name="governance-meetings"),
    path("meetings/new/", views.meeting_new, name="governance-meeting-new"),
    path("meetings/<int:pk>/", views.meeting_detail, name="governance-meeting-detail"),
    path("meetings/<int:pk>/minutes/", views.meeting_minutes, name="governance-meeting-minutes"),
    path("meetings/<int:pk>/resolutions/", views.resolution_add, name="governance-resolution-add"),
    path("meetings/<int:pk>/actions/", views.meeting_action_add, name="governance-meeting-action-add"),
    # 督办事项
    path("actions/", views.action_index, name="governance-actions"),
    path("actions/<int:pk>/", views.action_detail, name="governance-action-detail"),
    path("actions/<int:pk>/evidence/", views.action_evidence_upload, name="governance-action-evidence"),
    path(
        "actions/<int:pk>/evidence/<int:eid>/",
        views.action_evidence_download,
        name="governance-action-evidence-download",
    ),
    path("actions/<int:pk>/<str:action>/", views.action_transition_view, name="governance-action-transition"),
    # 高管讲消保
    path("talks/", views.talk_index, name="governance-talks"),
    path("talks/new/", views.talk_new, name="governance-talk-new"),
    # 消保计划
    path("plans/", views_library.plan_index, name="governance-plans"),
    path("plans/new/", views_library.plan_new, name="governance-plan-new"),
    path("plans/<int:pk>/", views_library.plan_detail, name="governance-plan-detail"),
    path("plans/<int:pk>/edit/", views_library.plan_edit, name="governance-plan-edit"),
    path("plans/<int:pk>/files/", views_library.plan_file_upload, name="governance-plan-file-upload"),
    path("plans/<int:pk>/files/<int:fid>/", views_library.plan_file_download, name="governance-plan-file"),
    path("plans/<int:pk>/submit/", views_library.plan_submit, name="governance-plan-submit"),
    path("plans/<int:pk>/decide/", views_library.plan_decide, name="governance-plan-decide"),
    # 制度
    path("rules/", views_library.rule_index, name="governance-rules"),
    path("rules/new/", views_library.rule_new, name="governance-rule-new"),
    path("rules/<int:pk>/", views_library.rule_detail, name="governance-rule-detail"),
    path("rules/<int:pk>/versions/", views_library.rule_version_add, name="governance-rule-version-add"),
    path(
        "rules/<int:pk>/versions/<int:vid>/",
        views_library.rule_version_download,
        name="governance-rule-version",
    ),
    path("rules/<int:pk>/repeal/", views_library.rule_repeal, name="governance-rule-repeal"),
    # 应急演练
    path("drills/", views_quality.drill_index, name="governance-drills"),
    path("drills/new/", views_quality.drill_new, name="governance-drill-new"),
    path("drills/<int:pk>/", views_quality.drill_detail, name="governance-drill-detail"),
    path("drills/<int:pk>/findings/", views_quality.drill_findings, name="governance-drill-findings"),
    path("drills/<int:pk>/actions/", views_quality.drill_action_add, name="governance-drill-action-add"),
    # 业务品质
    path("issues/", views_quality.issue_index, name="governance-issues"),
    path("issues/new/", views_quality.issue_new, name="governance-issue-new"),
    path("issues/<int:pk>/", views_quality.issue_detail, name="governance-issue-detail"),
    path(
        "issues/<int:pk>/<str:action>/",
        views_quality.issue_transition_view,
        name="governance-issue-transition",
    ),
    # 通报
    path("bulletins/", views_quality.bulletin_index, name="governance-bulletins"),
    path("bulletins/new/", views_quality.bulletin_new, name="governance-bulletin-new"),
    path("bulletins/<int:pk>/", views_quality.bulletin_detail, name="governance-bulletin-detail"),
    path("bulletins/<int:pk>/publish/", views_quality.bulletin_publish, name="governance-bulletin-publish"),
    path(
        "bulletins/<int:pk>/acknowledge/", views_quality.bulletin_acknowledge, name="governance-bulletin-ack"
    ),
]
