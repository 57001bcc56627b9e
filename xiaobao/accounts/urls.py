from django.urls import path

from xiaobao.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="accounts-login"),
    path("logout/", views.logout_view, name="accounts-logout"),
    path("password/", views.PasswordChangeView.as_view(), name="accounts-password-change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="accounts-password-change-done"),
    path("users/", views.user_index, name="accounts-users"),
    path("users/new/", views.user_edit, name="accounts-user-new"),
    path("users/<int:pk>/", views.user_edit, name="accounts-user-edit"),
]
