"""核心业务数据 imports: 保单清单 (policies), 实收保费 (premiums), 退保清单 (surrenders) and 理赔清单
(claims), the formats of data-formats.md, written to the Parquet store (xiaobao.book.store).

Each format is declared once, as data: its fields (type, Chinese aliases, choices) and its row
rules. From that declaration come both the framework's columns and parsers (this module: every
file, .csv or .xlsx, any profile, through xiaobao.imports) and the SQL of the vectorised CSV pass
(xiaobao.book.bulk), which only pre-sorts rows: a row its SQL does not pass for certain is parsed
here, in Python, and these parsers and rules have the last word. A parity test keeps them in step.

Rows are checked one by one (types, ID check digits, phones, enums, the rules below), then per
chunk against the store: premiums, surrenders and claims need a policy in the current policies
version; a policy's org_code must be a known unit. Validated records are staged column by column
(staging.Stage) and become a new table version when the import ends well (see report()).

Personal values (applicant, insured, payee, phone, account, address) travel as `Personal`: equal by
token, printed masked, so the change table and the reports never hold a plain value.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop

from xiaobao.book import hooks, store
from xiaobao.book.schema import KEYS, PERSONAL, SCHEMAS
from xiaobao.book.staging import Stage, duck, parquet_source
from xiaobao.imports.engine import Importer, in_batches
from xiaobao.imports.registry import register
from xiaobao.imports.spec import Change, Column, ImportSpec, Key, Record, RowError
from xiaobao.lib.address import MAX_LENGTH as ADDRESS_LENGTH
from xiaobao.lib.masking import mask
from xiaobao.lib.parsing import (
    enum_parser,
    parse_amount,
    parse_bool,
    parse_date,
    parse_int,
    text_parser,
)
from xiaobao.org.models import Unit
from xiaobao.privacy.services import personal_normalize, personal_token

CODE_LENGTH = Unit._meta.get_field("code").max_length

CHANNELS = ("个险", "银保", "团险", "经代", "互联网", "电销")
PRODUCT_TYPES = ("普通寿险", "年金", "分红", "万能", "投连", "健康", "意外")
PAYMENT_MODES = ("趸交", "年交", "半年交", "季交", "月交")
POLICY_STATUSES = ("有效", "退保", "犹豫期撤单", "满期", "理赔终止", "失效", "效力中止")
APPLY_CHANNELS = ("柜面", "线上", "业务员代办", "委托代办")
DECISIONS = ("正常给付", "部分给付", "拒赔", "撤案")
PAID_DECISIONS = ("正常给付", "部分给付")

# The English glosses of data-formats.md (and common spellings), accepted besides the Chinese values.
SYNONYMS = {
    "channel": {
        "agency": "个险",
        "bancassurance": "银保",
        "bank": "银保",
        "group": "团险",
        "broker": "经代",
        "brokerage": "经代",
        "online": "互联网",
        "internet": "互联网",
        "telemarketing": "电销",
    },
    "product_type": {
        "life": "普通寿险",
        "annuity": "年金",
        "participating": "分红",
        "universal": "万能",
        "unit-linked": "投连",
        "health": "健康",
        "accident": "意外",
    },
    "payment_mode": {
        "single": "趸交",
        "annual": "年交",
        "yearly": "年交",
        "semi-annual": "半年交",
        "quarterly": "季交",
        "monthly": "月交",
    },
    "status": {
        "in force": "有效",
        "inforce": "有效",
        "surrendered": "退保",
        "cancelled": "犹豫期撤单",
        "matured": "满期",
        "terminated by claim": "理赔终止",
        "lapsed": "失效",
        "suspended": "效力中止",
    },
    "apply_channel": {"counter": "柜面", "online": "线上", "agent": "业务员代办", "third party": "委托代办"},
    "decision": {"paid": "正常给付", "partly paid": "部分给付", "declined": "拒赔", "withdrawn": "撤案"},
}

# Longest accepted text per personal kind (what xiaobao.customers stores, masked).
PERSONAL_LENGTH = {"name": 50, "id_no": 30, "phone": 30, "account": 40, "address": ADDRESS_LENGTH}


@dataclass(frozen=True)
class Field:
    """One column of a format: its type decides the framework parser and the bulk pass's SQL.

    type: text, enum, date, int, amount, bool or personal (kind: name, id_no, phone, account, address).
    """

    name: str
    aliases: tuple[str, ...]
    type: str = "text"
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    kind: str = ""

    @property
    def label(self) -> str:
        return self.aliases[0]

    def parser(self) -> Callable[[Any], Any]:
        if self.type == "enum":
            return enum_parser(self.choices, aliases=SYNONYMS.get(self.name), name=self.label)
        if self.type == "personal":
            return text_parser(max_length=PERSONAL_LENGTH[self.kind])
        return {
            "text": lambda: text_parser(max_length=self.max_length),
            "date": lambda: parse_date,
            "int": lambda: parse_int,
            "amount": lambda: parse_amount,
            "bool": lambda: parse_bool,
        }[self.type]()

    def column(self) -> Column:
        return Column(self.name, self.aliases, self.parser(), required=self.required)


@dataclass(frozen=True)
class Rule:
    """A check across the fields of one row. `broken(values)` is the truth (Python, on the parsed
    row); `sql` is TRUE only for rows that surely pass, over the typed columns of the bulk pass."""

    column: str
    broken: Callable[[dict[str, Any]], bool]
    message: Callable[[dict[str, Any]], str]
    sql: str


def _lt(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a < b


def _negative(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda v: v.get(name) is not None and v[name] < 0


def _not_negative(name: str, label: str) -> Rule:
    return Rule(name, _negative(name), lambda v: f"{label}不能为负数", f"({name} IS NULL OR {name} >= 0)")


FORMATS: dict[str, list[Field]] = {
    "policies": [
        Field("policy_no", ("保单号",), required=True, max_length=64),
        Field("org_code", ("机构代码", "管理机构"), required=True, max_length=CODE_LENGTH),
        Field("channel", ("渠道", "销售渠道"), "enum", required=True, choices=CHANNELS),
        Field("product_code", ("险种代码",), required=True, max_length=32),
        Field("product_name", ("险种名称",), max_length=100),
        Field("product_type", ("险种类型",), "enum", choices=PRODUCT_TYPES),
        Field("agent_code", ("业务员代码", "业务员工号"), max_length=32),
        Field("applicant_name", ("投保人", "投保人姓名"), "personal", required=True, kind="name"),
        Field("applicant_id_no", ("投保人证件号", "证件号码"), "personal", kind="id_no"),
        Field("applicant_phone", ("投保人电话", "联系电话"), "personal", kind="phone"),
        Field("insured_id_no", ("被保人证件号",), "personal", kind="id_no"),
        Field("effective_date", ("生效日期", "承保日期"), "date", required=True),
        Field("payment_mode", ("缴费方式",), "enum", required=True, choices=PAYMENT_MODES),
        Field("payment_years", ("缴费年期",), "int"),
        Field("annual_premium", ("期交保费", "年化保费", "保费"), "amount", required=True),
        Field("sum_assured", ("保额", "基本保额"), "amount"),
        Field("status", ("保单状态",), "enum", required=True, choices=POLICY_STATUSES),
        Field("status_date", ("状态日期", "变更日期"), "date"),
    ],
    "premiums": [
        Field("policy_no", ("保单号",), required=True, max_length=64),
        Field("policy_year", ("保单年度", "缴费期次"), "int", required=True),
        Field("due_date", ("应缴日期",), "date", required=True),
        Field("received_date", ("实收日期", "到账日期"), "date", required=True),
        Field("amount", ("实收保费", "金额"), "amount", required=True),
    ],
    "surrenders": [
        Field("policy_no", ("保单号",), required=True, max_length=64),
        Field("apply_date", ("申请日期",), "date", required=True),
        Field("surrender_date", ("退保日期", "批改日期"), "date", required=True),
        Field("amount", ("退保金", "退保金额"), "amount", required=True),
        Field("cash_value", ("现金价值",), "amount"),
        Field("full_refund", ("是否全额退保",), "bool"),
        Field("apply_channel", ("申请渠道",), "enum", choices=APPLY_CHANNELS),
        Field("contact_phone", ("申请人电话", "联系电话"), "personal", kind="phone"),
        Field("payee_name", ("领款人",), "personal", kind="name"),
        Field("payee_account", ("领款账号", "银行账号"), "personal", kind="account"),
        # Optional, beyond data-formats.md: the address given on the application (a proxy's mailing
        # address links a ring's surrenders, xiaobao.risk.rings).
        Field("contact_address", ("联系地址", "申请人地址", "通讯地址"), "personal", kind="address"),
        Field("reason", ("退保原因",), max_length=500),
        Field("complaint_ref", ("关联投诉编号",), max_length=64),
    ],
    "claims": [
        Field("claim_no", ("赔案号",), required=True, max_length=64),
        Field("policy_no", ("保单号",), required=True, max_length=64),
        Field("report_date", ("报案日期",), "date", required=True),
        Field("docs_complete_date", ("资料齐全日期", "受理日期"), "date", required=True),
        Field("decision_date", ("结案日期",), "date"),
        Field("payment_date", ("支付日期", "赔款支付日期"), "date"),
        Field("decision", ("理赔结论",), "enum", choices=DECISIONS),
        Field("claimed_amount", ("申请金额",), "amount"),
        Field("paid_amount", ("赔付金额",), "amount"),
    ],
}

RULES: dict[str, list[Rule]] = {
    "policies": [
        Rule(
            "status_date",
            lambda v: v.get("status") not in (None, "有效") and v.get("status_date") is None,
            lambda v: f"保单状态为「{v['status']}」时必须填写状态日期",
            "(status = '有效' OR status_date IS NOT NULL)",
        ),
        Rule(
            "status_date",
            lambda v: _lt(v.get("status_date"), v.get("effective_date")),
            lambda v: f"状态日期 {v['status_date']} 早于生效日期 {v['effective_date']}",
            "(status_date IS NULL OR status_date >= effective_date)",
        ),
        Rule(
            "payment_years",
            lambda v: v.get("payment_years") is not None and not 1 <= v["payment_years"] <= 100,
            lambda v: "缴费年期应在 1 到 100 之间",
            "(payment_years IS NULL OR payment_years BETWEEN 1 AND 100)",
        ),
        _not_negative("annual_premium", "保费"),
        _not_negative("sum_assured", "保额"),
    ],
    "premiums": [
        Rule(
            "policy_year",
            lambda v: not 1 <= v["policy_year"] <= 100,
            lambda v: "保单年度应为 1 到 100 之间的整数",
            "(policy_year BETWEEN 1 AND 100)",
        ),
        _not_negative("amount", "实收保费"),
    ],
    "surrenders": [
        Rule(
            "surrender_date",
            lambda v: _lt(v.get("surrender_date"), v.get("apply_date")),
            lambda v: f"退保日期 {v['surrender_date']} 早于申请日期 {v['apply_date']}",
            "(surrender_date >= apply_date)",
        ),
        _not_negative("amount", "退保金"),
        _not_negative("cash_value", "现金价值"),
    ],
    "claims": [
        Rule(
            "docs_complete_date",
            lambda v: _lt(v.get("docs_complete_date"), v.get("report_date")),
            lambda v: f"资料齐全日期 {v['docs_complete_date']} 早于报案日期 {v['report_date']}",
            "(docs_complete_date >= report_date)",
        ),
        Rule(
            "decision_date",
            lambda v: _lt(v.get("decision_date"), v.get("docs_complete_date")),
            lambda v: f"结案日期 {v['decision_date']} 早于资料齐全日期 {v['docs_complete_date']}",
            "(decision_date IS NULL OR decision_date >= docs_complete_date)",
        ),
        Rule(
            "payment_date",
            lambda v: _lt(v.get("payment_date"), v.get("decision_date")),
            lambda v: f"支付日期 {v['payment_date']} 早于结案日期 {v['decision_date']}",
            "(payment_date IS NULL OR decision_date IS NULL OR payment_date >= decision_date)",
        ),
        Rule(
            "decision_date",
            lambda v: v.get("decision") is not None and v.get("decision_date") is None,
            lambda v: "有理赔结论时必须填写结案日期",
            "(decision IS NULL OR decision_date IS NOT NULL)",
        ),
        Rule(
            "decision",
            lambda v: v.get("decision_date") is not None and v.get("decision") is None,
            lambda v: "有结案日期时必须填写理赔结论",
            "(decision_date IS NULL OR decision IS NOT NULL)",
        ),
        Rule(
            "decision",
            lambda v: v.get("payment_date") is not None and v.get("decision") not in PAID_DECISIONS,
            lambda v: "有支付日期时, 理赔结论应为正常给付或部分给付",
            "(payment_date IS NULL OR decision IN ('正常给付', '部分给付'))",
        ),
        Rule(
            "paid_amount",
            lambda v: v.get("payment_date") is not None and v.get("paid_amount") is None,
            lambda v: "有支付日期时必须填写赔付金额",
            "(payment_date IS NULL OR paid_amount IS NOT NULL)",
        ),
        Rule(
            "paid_amount",
            lambda v: v.get("decision") in ("拒赔", "撤案") and (v.get("paid_amount") or 0) > 0,
            lambda v: f"理赔结论为「{v['decision']}」时不应有赔付金额",
            "(decision IS NULL OR decision NOT IN ('拒赔', '撤案') OR paid_amount IS NULL OR paid_amount <= 0)",
        ),
        _not_negative("claimed_amount", "申请金额"),
        _not_negative("paid_amount", "赔付金额"),
    ],
}

# gettext_noop: the labels stay Chinese text here and are translated where a page shows them.
LABELS = {
    "policies": gettext_noop("保单清单"),
    "premiums": gettext_noop("实收保费"),
    "surrenders": gettext_noop("退保清单"),
    "claims": gettext_noop("理赔清单"),
}


def unknown_unit(code: str) -> str:
    return f"机构 {code} 不存在: 请先导入机构"


def unknown_policy(policy_no: str) -> str:
    return f"保单 {policy_no} 不存在: 请先导入保单清单"


class Personal(str):
    """A personal value on its way through an import: equal by token, printed masked.

    A value read from the file carries its plain text (for sealing) and computes its token when
    first compared; a stored value carries only its token and mask.
    """

    kind: str
    plain: str

    def __new__(cls, kind: str, plain: str = "", *, token: str = "", masked: str = "") -> "Personal":
        value = super().__new__(cls, masked or mask(kind, plain))
        value.kind = kind
        value.plain = plain
        value._token = token
        return value

    @property
    def token(self) -> str:
        if not self._token:
            self._token = personal_token(self.kind, self.plain)
        return self._token

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Personal) and self.kind == other.kind and self.token == other.token

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((self.kind, self.token))


def check_row(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """Normalise a parsed row's personal values and apply the table's rules (RowError on the first
    broken one). Shared by the framework path and the bulk pass's Python fallback."""
    for name, kind in PERSONAL[table].items():
        value = row.get(name)
        if value is None:
            continue
        try:
            plain = personal_normalize(kind, value)
        except ValidationError as exc:
            raise RowError(name, exc.messages[0]) from None
        row[name] = Personal(kind, plain) if plain else None
    for rule in RULES[table]:
        if rule.broken(row):
            raise RowError(rule.column, rule.message(row))
    return row


FIELD_NAMES = {table: {f.name for f in fields} for table, fields in FORMATS.items()}


def arrays_of(
    table: str, rows: list[dict[str, Any]], supplied: list[str]
) -> tuple[dict[str, pa.Array], pa.Table | None]:
    """Parsed rows (dicts by column) as Arrow columns: typed values by name, and the plain personal
    values as a table for Stage.add to seal, tokenise and mask."""
    schema = SCHEMAS[table]
    kinds = PERSONAL[table]
    values: dict[str, pa.Array] = {}
    plain: dict[str, pa.Array] = {}
    for name in supplied:
        column = [row.get(name) for row in rows]
        if name in kinds:
            plain[name] = pa.array([v.plain if v is not None else None for v in column], pa.string())
        else:
            values[name] = pa.array(column, schema.field(name).type)
    return values, (pa.table(plain) if plain else None)


class BookImporter(Importer):
    """The four formats share everything but their declaration; see the module docstring."""

    table: ClassVar[str]
    chunk_size = 10_000

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage: Stage | None = None
        self.con = duck()
        self.current = store.current_version(self.table)
        self.policies = store.current_version("policies")
        self._units: dict[str, bool] = {}
        self.saw_rejected = False

    # ------------------------------------------------------------ rows

    def validate_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return check_row(self.table, row)

    # ------------------------------------------------------------ the store

    def existing(self, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        """The stored records of a chunk's keys, from the version current when the import began."""
        if self.current is None:
            return {}
        key = KEYS[self.table]
        schema = SCHEMAS[self.table]
        wanted = pa.table(
            {name: pa.array([k[i] for k in keys], schema.field(name).type) for i, name in enumerate(key)}
        )
        self.con.register("_book_keys", wanted)
        try:
            on = " AND ".join(f"c.{name} = w.{name}" for name in key)
            rows = self.con.sql(
                f"SELECT c.* FROM {parquet_source(self.table, self.current)} c JOIN _book_keys w ON {on}"
            ).fetchall()
        finally:
            self.con.unregister("_book_keys")
        names = schema.names
        kinds = PERSONAL[self.table]
        stored: dict[Key, dict[str, Any]] = {}
        for row in rows:
            values = dict(zip(names, row, strict=True))
            before: dict[str, Any] = {}
            for name in names:
                if name == "_batch" or name.endswith(("_enc", "_token", "_masked")):
                    continue
                before[name] = values[name]
            for name, kind in kinds.items():
                token = values[f"{name}_token"]
                before[name] = Personal(kind, token=token, masked=values[f"{name}_masked"]) if token else None
            stored[tuple(values[k] for k in key)] = before
        return stored

    def validate_records(self, *, records: list[Record], existing: dict[Key, dict[str, Any]]) -> None:
        accepted = [r for r in records if not r.rejected]
        if self.table == "policies":
            self._check_units(accepted)
        else:
            self._check_policies(accepted)
        self.saw_rejected = self.saw_rejected or any(r.rejected for r in records)

    def _check_units(self, records: list[Record]) -> None:
        codes = {r.values["org_code"] for r in records} - self._units.keys()
        for part in in_batches(sorted(codes)):
            found = set(Unit.objects.filter(code__in=part).values_list("code", flat=True))
            self._units.update({code: code in found for code in part})
        for record in records:
            code = record.values["org_code"]
            if not self._units[code]:
                record.reject("org_code", unknown_unit(code))

    def _check_policies(self, records: list[Record]) -> None:
        numbers = sorted({r.values["policy_no"] for r in records})
        if not numbers:
            return
        known: set[str] = set()
        if self.policies is not None:
            self.con.register("_book_numbers", pa.table({"policy_no": pa.array(numbers, pa.string())}))
            try:
                known = {
                    n
                    for (n,) in self.con.sql(
                        f"SELECT DISTINCT p.policy_no FROM {parquet_source('policies', self.policies)} p "
                        "JOIN _book_numbers USING (policy_no)"
                    ).fetchall()
                }
            finally:
                self.con.unregister("_book_numbers")
        for record in records:
            number = record.values["policy_no"]
            if number not in known:
                record.reject("policy_no", unknown_policy(number))

    def apply(self, *, created: list[Record], updated: list[Change]) -> None:
        """Stage a chunk's created and updated records, column by column."""
        records = created + [change.record for change in updated]
        supplied = [name for name in records[0].values if name in FIELD_NAMES[self.table]]
        if self.stage is None:
            batch_id = self.batch.pk if self.batch is not None else 0
            self.stage = Stage(self.table, batch_id=batch_id, supplied=supplied)
        values, plain = arrays_of(self.table, [record.values for record in records], supplied)
        self.stage.add(pa.array([record.first_row for record in records], pa.int64()), values, plain)

    def report(self) -> dict[str, Any]:
        """import_run calls this once, after the pass, when the import's transaction has been
        committed or rolled back and the batch has its counts. It is the end of the import for the
        store too: commit the staged rows as the table's new version, unless this was a dry run or a
        strict import with any row rejected (the batch's count, and, should that ever be unset at
        this point, the rejections this importer saw itself); otherwise drop them.

        When the pass raises instead, report() is not called: nothing is committed, the staging
        directory stays until the next import of the table removes it, and the lock dies with it."""
        batch = self.batch
        refused = self.saw_rejected or bool(batch is not None and batch.rejected)
        commit = batch is None or not (batch.dry_run or (batch.strict and refused))
        version = None
        cleaned = 0
        if self.stage is not None:
            cleaned = self.stage.cleaned
            outcome = self.stage.finish(commit=commit)
            version = outcome.version
            self.stage = None
        self.con.close()
        if version is not None and batch is not None and batch.pk is not None:
            # The rows are committed: the hooks check them (their sentences reach the batch's message
            # through book_import, which appends batch.details["notes"]).
            hooks.rows_written(batch, self.table)
        return {
            "store": {
                "table": self.table,
                "version": version or store.current_version(self.table),
                "written": version is not None,
                "previous": self.current,
                "scratch_removed": cleaned,
            }
        }

    # ------------------------------------------------------------ the bulk CSV pass

    @classmethod
    def bulk_run(cls, **kwargs: Any) -> Any:
        """The vectorised pass for a plain CSV (xiaobao.book.bulk), or None when it does not apply."""
        from xiaobao.book.bulk import bulk_import

        return bulk_import(kind=cls.spec.kind, **kwargs)


def _spec(table: str) -> ImportSpec:
    return ImportSpec(
        kind=table,
        label=LABELS[table],
        key=KEYS[table],
        columns=[f.column() for f in FORMATS[table]],
    )


@register
class PolicyImporter(BookImporter):
    table = "policies"
    spec = _spec("policies")


@register
class PremiumImporter(BookImporter):
    table = "premiums"
    spec = _spec("premiums")


@register
class SurrenderImporter(BookImporter):
    table = "surrenders"
    spec = _spec("surrenders")


@register
class ClaimImporter(BookImporter):
    table = "claims"
    spec = _spec("claims")
