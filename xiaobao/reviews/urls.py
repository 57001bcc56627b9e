from django.urls import path

from xiaobao.reviews import views

urlpatterns = [
    path("", views.review_index, name="reviews-index"),
    path("new/", views.review_new, name="reviews-new"),
    path("stats/", views.review_stats_page, name="reviews-stats"),
    path("verify/", views.review_verify, name="reviews-verify"),
    path("checklist/", views.checklist_index, name="reviews-checklist"),
    path("<int:pk>/", views.review_detail, name="reviews-detail"),
    path("<int:pk>/upload/", views.review_upload, name="reviews-upload"),
    path("<int:pk>/documents/<int:did>/", views.document_download, name="reviews-document"),
    path("<int:pk>/opinions/", views.review_opinions, name="reviews-opinions"),
    path("<int:pk>/items/<int:iid>/respond/", views.review_respond, name="reviews-respond"),
    path("<int:pk>/signoff/", views.review_sign_off, name="reviews-signoff"),
    path("<int:pk>/withdraw/", views.review_withdraw, name="reviews-withdraw"),
    path("<int:pk>/rereview/", views.review_rereview, name="reviews-rereview"),
]
