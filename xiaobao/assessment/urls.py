from django.urls import path

from xiaobao.assessment import views

urlpatterns = [
    path("", views.assessment_index, name="assessment-index"),
    path("catalogues/", views.catalogue_index, name="assessment-catalogues"),
    path("catalogues/<int:year>/", views.catalogue_detail, name="assessment-catalogue"),
    path("<int:pk>/", views.assessment_detail, name="assessment-detail"),
    path("<int:pk>/indicators/<int:iid>/score/", views.assessment_score, name="assessment-score"),
    path("<int:pk>/indicators/<int:iid>/evidence/", views.assessment_evidence, name="assessment-evidence"),
    path("<int:pk>/prefill/", views.assessment_prefill, name="assessment-prefill"),
    path("<int:pk>/submit/", views.assessment_submit, name="assessment-submit"),
]
