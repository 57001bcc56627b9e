from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.retention.access import require_read
from xiaobao.retention.forms import RuleForm
from xiaobao.retention.models import RetentionRule, RetentionRun, RunTrigger
from xiaobao.retention.services import retention_run, rule_update, rules_ensure


def _page(request, forms=None, status=200):
    rules = rules_ensure()
    forms = forms or {}
    rows = [
        (rule, forms.get(rule.pk) or RuleForm(initial={"keep_days": rule.keep_days}, prefix=f"r{rule.pk}"))
        for rule in sorted(rules.values(), key=lambda r: r.pk)
    ]
    context = {
        "rows": rows,
        "runs": RetentionRun.objects.all()[:20],
        "can_edit": access.is_admin(request.user),
    }
    return render(request, "retention/index.html", context, status=status)


@login_required
def retention_index(request):
    require_read(request.user)
    return _page(request)


@login_required
@require_POST
def retention_rule(request, pk: int):
    require_read(request.user)
    access.require_admin(request.user)
    rule = get_object_or_404(RetentionRule, pk=pk)
    form = RuleForm(request.POST, prefix=f"r{rule.pk}")
    if form.is_valid():
        try:
            rule_update(
                actor=request.user, rule=rule, keep_days=form.cleaned_data["keep_days"], request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已保存: %(c)s 保存 %(d)s 天") % {"c": rule, "d": rule.keep_days})
            return redirect("retention-index")
    return _page(request, {rule.pk: form}, status=400)


@login_required
@require_POST
def retention_execute(request):
    require_read(request.user)
    access.require_admin(request.user)
    dry_run = request.POST.get("dry_run") == "1"
    run = retention_run(trigger=RunTrigger.PAGE, actor=request.user, dry_run=dry_run, request=request)
    total = sum(r.get("count", 0) for r in run.results.values())
    if dry_run:
        messages.info(request, _("试运行: 到期记录共 %(n)s 项, 未做任何修改") % {"n": total})
    else:
        messages.success(request, _("已按保存期限清理到期记录 %(n)s 项") % {"n": total})
    return redirect("retention-index")
