from django.urls import path

from xiaobao.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="accounts-login"),
    path("logout/", views.logout_view, name="accounts-logout"),
    path("password/", views.PasswordChangeView.as_view(), name="accounts-password-change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="accounts-password-change-done"),
]
