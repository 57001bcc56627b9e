from django.urls import include, path

urlpatterns = [
    path("", include("xiaobao.home.urls")),
    path("accounts/", include("xiaobao.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("units/", include("xiaobao.org.urls")),
    path("customers/", include("xiaobao.customers.urls")),
    path("audit/", include("xiaobao.audit.urls")),
    path("imports/", include("xiaobao.imports.urls")),
    path("cases/", include("xiaobao.cases.urls")),
    path("book/", include("xiaobao.book.urls")),
    path("kpi/", include("xiaobao.kpi.urls")),
    path("education/", include("xiaobao.education.urls")),
    path("reviews/", include("xiaobao.reviews.urls")),
    path("governance/", include("xiaobao.governance.urls")),
    path("training/", include("xiaobao.training.urls")),
    path("assessment/", include("xiaobao.assessment.urls")),
    path("risk/", include("xiaobao.risk.urls")),
    path("reports/", include("xiaobao.reports.urls")),
    path("retention/", include("xiaobao.retention.urls")),
    path("api/v1/", include("xiaobao.cases.api")),
]
