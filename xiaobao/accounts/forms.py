from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from xiaobao.accounts.models import Role, User


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码错误。连续多次错误将暂时锁定账号。"),
        "inactive": _("该账号已停用"),
    }


class UserForm(forms.ModelForm):
    """An administrator's form for one user: unit and roles decide everything the user may see and do."""

    roles = forms.MultipleChoiceField(
        label=_("角色"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个角色")},
    )
    password = forms.CharField(
        label=_("初始密码"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("新建用户必填；修改用户时留空表示不改密码"),
    )

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "unit", "roles", "is_active"]
        labels = {"username": _("用户名"), "email": _("电子邮箱"), "is_active": _("在职 (可登录)")}

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].required = True
        if units is not None:
            self.fields["unit"].queryset = units
        self.fields["unit"].label_from_instance = lambda u: f"{u.name} ({u.code})"

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if not self.instance.pk and not password:
            raise forms.ValidationError(_("新建用户必须设置初始密码"))
        if password:
            from django.contrib.auth.password_validation import validate_password

            validate_password(password, self.instance)
        return password
