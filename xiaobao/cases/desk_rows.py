"""The desk's table rows, written in Python.

The desk shows 50 rows of 11 cells each. In the template language every row cost about 40 nodes
(variable lookups, filters, `{% url %}`, `{% if %}`, `{% translate %}`), about a third of a desk
request's CPU time at a million cases (bench/results/cases-list.md, 2026-11-28 evening). Here
each row is one string built from values escaped one by one; the translations, the detail link's
pattern and the choice labels are looked up once per page, not once per row.

The markup is the one `cases/_table.html` had: the same cells, classes, badges and test ids.
"""

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from xiaobao.cases.models import UNDECIDED_STATUSES

# The columns the rows show (and hooks.annotate_desk's annotations, added separately): the page's
# query loads only these, not the descriptions, decisions, or the customer's sealed fields.
ROW_FIELDS = (
    "id",
    "case_no",
    "kind",
    "channel",
    "status",
    "category",
    "urgent",
    "claims_related",
    "received_at",
    "due_date",
    "deadline_rule",
    "deadline_provisional",
    "unit",
    "unit__name",
    "handler",
    "handler__username",
    "handler__display_name",
    "customer",
    "customer__name_masked",
)

_PK = 987654321  # a stand-in number to split the detail URL around
_DASH = "—"


def _ymd(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def render_rows(cases, *, can_write: bool, today: dt.date) -> SafeString:
    """The <tr> elements of one page of cases, as `cases/_table.html` would write them."""
    # Translations of the template's literals were not escaped there (Django marks a literal safe),
    # so they are not here either: they come from our own catalogue.
    detail = reverse("cases-detail", args=[_PK])
    head, tail = detail.split(str(_PK))
    urgent = f' <span class="badge bad">{_("急")}</span>'
    claims = f' <span class="badge">{_("赔")}</span>'
    risk = (
        f' <span class="badge bad" data-testid="risk-badge" title="{_("客户信息命中疑似退保黑产信息库")}">'
        f"{_('黑产库')}</span>"
    )
    provisional = f' <span class="badge warn">{_("暂定")}</span>'
    undecided = frozenset(UNDECIDED_STATUSES)
    out = []
    for c in cases:
        no = escape(c.case_no)
        received = timezone.localtime(c.received_at)
        due = c.due_date
        handler = (str(c.handler) if c.handler else "") or _DASH
        customer = (c.customer.name_masked if c.customer else "") or _DASH
        row = [
            '<tr class="overdue">' if due and due < today and c.status in undecided else "<tr>",
            f'<td><input type="checkbox" name="ids" value="{c.pk}" aria-label="{no}"></td>'
            if can_write
            else "",
            f'<td><a href="{head}{c.pk}{tail}">{no}</a>',
            urgent if c.urgent else "",
            claims if c.claims_related else "",
            risk if getattr(c, "risk_flagged", False) else "",
            "</td>",
            f"<td>{escape(c.get_kind_display())}</td><td>{escape(c.get_channel_display())}</td>",
            f'<td><span class="status s-{escape(c.status)}">{escape(c.get_status_display())}</span></td>',
            f'<td class="masked">{escape(customer)}</td>',
            f"<td>{escape(c.get_category_display() or _DASH)}</td>",
            f"<td>{escape(c.unit.name)}</td><td>{escape(handler)}</td>",
            f"<td>{_ymd(received)} {received.hour:02d}:{received.minute:02d}</td>",
            f'<td title="{escape(c.deadline_rule)}">{_ymd(due) if due else _DASH}',
            provisional if c.deadline_provisional else "",
            "</td></tr>",
        ]
        out.append("".join(row))
    return mark_safe("\n".join(out))
