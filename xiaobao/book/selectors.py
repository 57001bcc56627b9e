"""Reads of the book app: pages of a table's current Parquet version, scoped to the user's units.

A page is two DuckDB queries over the Parquet files (a count and one LIMIT/OFFSET page); nothing
loads a whole table. Premiums, surrenders and claims carry no unit of their own: they belong to the
unit of their policy, joined on policy_no. Personal values are shown masked; ciphertexts and tokens
are never read.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from xiaobao.accounts import access
from xiaobao.book import store
from xiaobao.book.importers import APPLY_CHANNELS, CHANNELS, DECISIONS, LABELS, PAYMENT_MODES, POLICY_STATUSES
from xiaobao.book.staging import duck, parquet_source
from xiaobao.org.models import Unit

TABLES = tuple(LABELS)
# The date a row belongs to a period by (metrics.md), first; then the others one may filter on.
DATE_COLUMNS = {
    "policies": ("effective_date", "status_date"),
    "premiums": ("received_date", "due_date"),
    "surrenders": ("surrender_date", "apply_date"),
    "claims": ("payment_date", "decision_date", "report_date", "docs_complete_date"),
}
DATE_LABELS = {
    "effective_date": _("生效日期"),
    "status_date": _("状态日期"),
    "received_date": _("实收日期"),
    "due_date": _("应缴日期"),
    "surrender_date": _("退保日期"),
    "apply_date": _("申请日期"),
    "payment_date": _("支付日期"),
    "decision_date": _("结案日期"),
    "report_date": _("报案日期"),
    "docs_complete_date": _("资料齐全日期"),
}
COLUMNS = {
    "policies": [
        ("policy_no", _("保单号")),
        ("org_code", _("机构")),
        ("channel", _("渠道")),
        ("product_code", _("险种")),
        ("product_type", _("险种类型")),
        ("agent_code", _("业务员")),
        ("applicant_name_masked", _("投保人")),
        ("applicant_id_no_masked", _("投保人证件号")),
        ("applicant_phone_masked", _("投保人电话")),
        ("effective_date", _("生效日期")),
        ("payment_mode", _("缴费方式")),
        ("annual_premium", _("期交保费")),
        ("sum_assured", _("保额")),
        ("status", _("保单状态")),
        ("status_date", _("状态日期")),
    ],
    "premiums": [
        ("policy_no", _("保单号")),
        ("org_code", _("机构")),
        ("policy_year", _("保单年度")),
        ("due_date", _("应缴日期")),
        ("received_date", _("实收日期")),
        ("amount", _("实收保费")),
    ],
    "surrenders": [
        ("policy_no", _("保单号")),
        ("org_code", _("机构")),
        ("apply_date", _("申请日期")),
        ("surrender_date", _("退保日期")),
        ("amount", _("退保金")),
        ("cash_value", _("现金价值")),
        ("full_refund", _("全额退保")),
        ("apply_channel", _("申请渠道")),
        ("contact_phone_masked", _("申请人电话")),
        ("payee_name_masked", _("领款人")),
        ("payee_account_masked", _("领款账号")),
        ("contact_address_masked", _("联系地址")),
        ("reason", _("退保原因")),
        ("complaint_ref", _("关联投诉")),
    ],
    "claims": [
        ("claim_no", _("赔案号")),
        ("policy_no", _("保单号")),
        ("org_code", _("机构")),
        ("report_date", _("报案日期")),
        ("docs_complete_date", _("资料齐全日期")),
        ("decision_date", _("结案日期")),
        ("payment_date", _("支付日期")),
        ("decision", _("理赔结论")),
        ("claimed_amount", _("申请金额")),
        ("paid_amount", _("赔付金额")),
    ],
}
# Equality filters: query parameter → (column, allowed values or None for free text), per table.
POLICY_FILTERS = {
    "channel": ("channel", CHANNELS),
    "product": ("product_code", None),
    "agent": ("agent_code", None),
    "payment_mode": ("payment_mode", PAYMENT_MODES),
}
EQUALITY = {
    "policies": {"status": ("status", POLICY_STATUSES), **POLICY_FILTERS},
    "premiums": {"year": ("policy_year", None), **POLICY_FILTERS},
    "surrenders": {
        "apply_channel": ("apply_channel", APPLY_CHANNELS),
        "complaint": ("complaint_ref", None),
        **POLICY_FILTERS,
    },
    "claims": {"status": ("decision", DECISIONS), "decision": ("decision", DECISIONS), **POLICY_FILTERS},
}
ORDER = {
    "policies": "effective_date DESC, policy_no",
    "premiums": "received_date DESC, policy_no, policy_year",
    "surrenders": "surrender_date DESC, policy_no",
    "claims": "report_date DESC, claim_no",
}


@dataclass
class BookFilters:
    """What a browse page (or a dashboard's drill-down link) asks for; see views.book_table."""

    org: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    date_field: str = ""
    in_force: dt.date | None = None
    policy_no: str = ""
    full_refund: bool | None = None
    equal: dict[str, str] = field(default_factory=dict)  # column → value
    errors: list[str] = field(default_factory=list)


def _date(value: str, name: str, errors: list[str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: 日期应为 YYYY-MM-DD, 实际为 “{value[:20]}”")
        return None


def book_filters(table: str, params: Any) -> BookFilters:
    """Parse the query parameters of a browse page; a malformed one is reported and ignored."""
    errors: list[str] = []
    filters = BookFilters(errors=errors)
    filters.org = params.get("org", "").strip()
    filters.date_from = _date(params.get("from", "").strip(), "from", errors)
    filters.date_to = _date(params.get("to", "").strip(), "to", errors)
    filters.in_force = (
        _date(params.get("in_force", "").strip(), "in_force", errors) if table == "policies" else None
    )
    filters.policy_no = params.get("policy_no", "").strip()[:64]
    choice = params.get("date", "").strip()
    if choice and choice not in DATE_COLUMNS[table]:
        errors.append(f"date: 应为 {'、'.join(DATE_COLUMNS[table])} 之一")
        choice = ""
    for name, (column, allowed) in EQUALITY[table].items():
        value = params.get(name, "").strip()
        if not value:
            continue
        if allowed is not None and value not in allowed:
            errors.append(f"{name}: 应为 {'、'.join(allowed)} 之一")
            continue
        if column == "policy_year":
            if not value.isascii() or not value.isdigit():
                errors.append("year: 应为整数")
                continue
            filters.equal[column] = int(value)
        else:
            filters.equal[column] = value[:64]
    if table == "surrenders":
        refund = params.get("full_refund", "").strip().casefold()
        if refund in ("1", "是", "true", "yes"):
            filters.full_refund = True
        elif refund in ("0", "否", "false", "no"):
            filters.full_refund = False
    if not choice and table == "policies" and filters.equal.get("status", "有效") != "有效":
        choice = "status_date"  # "surrendered in July" means the status date, not the effective date
    filters.date_field = choice or DATE_COLUMNS[table][0]
    return filters


def visible_codes(user) -> list[str] | None:
    """The unit codes whose rows the user may see; None: every row (the administrator)."""
    if access.is_admin(user):
        return None
    return list(access.visible_units(user).values_list("code", flat=True))


class BookRows:
    """A lazy, sliceable result for django.core.paginator.Paginator: count() and one page per query."""

    def __init__(self, table: str, where: str, params: dict[str, Any]) -> None:
        self.table = table
        self.where = where
        self.params = params
        self.columns = [column for column, _ in COLUMNS[table]]
        self._count: int | None = None

    def _source(self) -> str:
        own = parquet_source(self.table)
        if self.table == "policies":
            return f"(SELECT * FROM {own})"
        return f"(SELECT t.*, p.org_code FROM {own} t JOIN {parquet_source('policies')} p USING (policy_no))"

    def count(self) -> int:
        if self._count is None:
            if store.current_version(self.table) is None:
                self._count = 0
            else:
                con = duck()
                try:
                    self._count = con.sql(
                        f"SELECT count(*) FROM {self._source()} WHERE {self.where}", params=self.params
                    ).fetchall()[0][0]
                finally:
                    con.close()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        if not isinstance(index, slice):  # pragma: no cover - Paginator only slices
            raise TypeError("BookRows supports slices only")
        start, stop = index.start or 0, index.stop or self.count()
        if store.current_version(self.table) is None or stop <= start:
            return []
        con = duck()
        try:
            rows = con.sql(
                f"SELECT {', '.join(self.columns)} FROM {self._source()} WHERE {self.where} "
                f"ORDER BY {ORDER[self.table]} LIMIT {int(stop - start)} OFFSET {int(start)}",
                params=self.params,
            ).fetchall()
        finally:
            con.close()
        return [dict(zip(self.columns, row, strict=True)) for row in rows]


def book_rows(*, user, table: str, filters: BookFilters, codes: list[str] | None | bool = False) -> BookRows:
    """The rows of `table` the user may see that match `filters`, newest first. `codes`: the user's
    visible_codes() when the caller has them already."""
    conditions = ["true"]
    params: dict[str, Any] = {}
    if codes is False:
        codes = visible_codes(user)
    if filters.org:
        unit = Unit.objects.filter(code=filters.org).first()
        subtree = (
            list(Unit.objects.filter(path__startswith=unit.path).values_list("code", flat=True))
            if unit
            else [filters.org]
        )
        codes = subtree if codes is None else sorted(set(codes) & set(subtree))
    if codes is not None:
        conditions.append("list_contains($codes, org_code)")
        params["codes"] = codes or [""]
    if filters.date_from:
        conditions.append(f"{filters.date_field} >= $date_from")
        params["date_from"] = filters.date_from
    if filters.date_to:
        conditions.append(f"{filters.date_field} <= $date_to")
        params["date_to"] = filters.date_to
    if filters.in_force:
        # metrics.md: in force on day d = effective by d and not ended on or before d.
        conditions.append(
            "effective_date <= $in_force AND (status IN ('有效', '效力中止') OR status_date > $in_force)"
        )
        params["in_force"] = filters.in_force
    if filters.policy_no:
        conditions.append("policy_no = $policy_no")
        params["policy_no"] = filters.policy_no
    for i, (column, value) in enumerate(sorted(filters.equal.items())):
        conditions.append(f"{column} = $eq{i}")
        params[f"eq{i}"] = value
    if filters.full_refund is not None:
        conditions.append("full_refund = $full_refund")
        params["full_refund"] = filters.full_refund
    return BookRows(table, " AND ".join(conditions), params)


def book_counts(*, user) -> dict[str, int]:
    """Rows per table the user may see (the book's index page)."""
    codes = visible_codes(user)
    return {
        table: len(
            book_rows(
                user=user, table=table, filters=BookFilters(date_field=DATE_COLUMNS[table][0]), codes=codes
            )
        )
        for table in TABLES
    }
