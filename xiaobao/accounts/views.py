from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.accounts.forms import LoginForm, UserForm
from xiaobao.accounts.models import User
from xiaobao.accounts.services import user_save
from xiaobao.audit.services import audit_record


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts-password-change-done")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(actor=self.request.user, action="password_change", request=self.request)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


logout_view = auth_views.LogoutView.as_view()


def csrf_failure(request, reason=""):
    """A form posted without a valid CSRF token (a stale page, or another site): the product's own 403
    page in the user's language; Django's has English reasons and inline styles the CSP blocks."""
    message = _("页面已过期或来源无法验证，本次操作未执行。请刷新页面后重试。")
    return render(request, "403.html", {"exception": message}, status=403)


@login_required
def user_index(request):
    """Users of the units in scope. Administrators change them; others read."""
    users = access.scope(User.objects.select_related("unit"), request.user).order_by("unit__path", "username")
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(Q(username__icontains=query) | Q(display_name__icontains=query))
    return render(
        request,
        "accounts/users.html",
        {"users": users, "q": query, "is_admin": access.is_admin(request.user)},
    )


@login_required
def user_edit(request, pk: int | None = None):
    access.require_admin(request.user)
    user = access.get_for_user(request.user, User.objects.select_related("unit"), pk=pk) if pk else User()
    form = UserForm(request.POST or None, instance=user, units=access.visible_units(request.user))
    if request.method == "POST" and form.is_valid():
        saved = user_save(actor=request.user, form=form, request=request)
        messages.success(request, _("已保存用户 %(u)s") % {"u": saved.username})
        return redirect("accounts-users")
    return render(
        request, "accounts/user_form.html", {"form": form, "target": user}, status=400 if form.errors else 200
    )
