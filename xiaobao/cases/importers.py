"""工单与投诉 (cases) import: the `cases` format of data-formats.md, keyed by case_no.

A row becomes a Case with its clocks computed by xiaobao.cases.clocks (one work calendar per
import, and one computation per distinct set of clock facts, so 281,000 historical complaints cost
a few thousand calendar walks). Historical facts from the file are kept: a closed case is 已办结
with its closed_at, decided at closed_at when the file has no better date, and on time by
clocks.met(). Every created case gets one "import" event; an updated one gets an "import" event
naming the changed columns, and its old → new values go to the import's change table.

Personal data (customer_name / customer_phone / customer_id_no) is validated per row (a wrong ID
check digit is a row error), travels through the import as `Personal` values that compare by token
and print masked, and is stored only by the customer services (encrypted, tokenised, masked).
Customers are matched by token in bulk per chunk; rows without personal data never touch any of it.
An optional 联系地址 (customer_address, beyond data-formats.md) is recorded on the row's customer,
for the ring scan and the watchlist (xiaobao.risk); it does not decide who the customer is.

The responsible unit (org_code) must exist, unless the profile allows creating units:

    "options": {"units": {"create": true,           create the units the file names but the system lacks
                          "parent": "US",           under this unit (default: the one head office)
                          "level": "部门",           at this level (default 部门)
                          "code_from_name": true,   org_code holds a name; the code is derived from it
                          "code_prefix": "CT-"}}    prefix of derived (or created) codes

Units are created in bulk, each checked by Unit.full_clean() (the org level rules), with paths as
unit_save() computes them, and listed in the summary.
"""

import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import chain
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_noop

from xiaobao.cases import clocks, hooks
from xiaobao.cases.maintenance import analyze_cases
from xiaobao.cases.models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Category,
    Channel,
    WorkOrderTarget,
    work_calendar,
)
from xiaobao.cases.selectors import FTS_INDEXED
from xiaobao.customers.models import Customer
from xiaobao.customers.services import customer_address_set, customer_find_or_create
from xiaobao.imports.engine import Importer, in_batches
from xiaobao.imports.registry import register
from xiaobao.imports.spec import Change, Column, ImportRefused, ImportSpec, Key, Record, RowError
from xiaobao.lib.address import MAX_LENGTH as ADDRESS_LENGTH
from xiaobao.lib.fastvalues import values_memo
from xiaobao.lib.masking import mask
from xiaobao.lib.parsing import enum_parser, parse_bool, parse_datetime, parse_text, text_parser
from xiaobao.lib.pgbulk import IndexHold
from xiaobao.lib.pgcopy import CopyText
from xiaobao.org.importers import unit_rule_error
from xiaobao.org.models import Unit, UnitLevel
from xiaobao.privacy.services import personal_normalize, personal_token

CODE_LENGTH = Unit._meta.get_field("code").max_length
UNIT_NAME_LENGTH = Unit._meta.get_field("name").max_length
CASE_NO_LENGTH = Case._meta.get_field("case_no").max_length
FUTURE_SLACK = dt.timedelta(minutes=5)
# As in the API (cases.serializers.EARLIEST): an earlier date is a typing error, and one near the
# year 1 cannot even be converted to UTC for storage.
EARLIEST_RECEIVED = dt.date(2000, 1, 1)
REPORT_CODES = 100

# English glosses (data-formats.md) and common spellings, accepted besides the Chinese values.
KIND_ALIASES = {
    "complaint": CaseKind.COMPLAINT,
    "inquiry": CaseKind.INQUIRY,
    "enquiry": CaseKind.INQUIRY,
    "request": CaseKind.REQUEST,
    "suggestion": CaseKind.SUGGESTION,
    "praise": CaseKind.PRAISE,
    "compliment": CaseKind.PRAISE,
}
CHANNEL_ALIASES = {
    "hotline": Channel.HOTLINE,
    "4008": Channel.HOTLINE,
    "counter": Channel.COUNTER,
    "letter": Channel.LETTER,
    "web": Channel.WEB,
    "app": Channel.WEB,
    "online": Channel.WEB,
    "官网": Channel.WEB,
    "wechat": Channel.WECHAT,
    "regulator": Channel.REGULATOR,
    "12378": Channel.REGULATOR,
    "association": Channel.ASSOCIATION,
    "media": Channel.MEDIA,
}
CATEGORY_ALIASES = {
    "sales": Category.SALES,
    "claims": Category.CLAIMS,
    "claim": Category.CLAIMS,
    "surrender": Category.SURRENDER,
    "servicing": Category.SERVICING,
    "policy servicing": Category.SERVICING,
    "renewal": Category.RENEWAL,
    "service": Category.SERVICE,
    "service quality": Category.SERVICE,
    "other": Category.OTHER,
}
STATUS_ALIASES = {
    "registered": CaseStatus.REGISTERED,
    "accepted": CaseStatus.ACCEPTED,
    "in progress": CaseStatus.IN_PROGRESS,
    "open": CaseStatus.IN_PROGRESS,
    "closed": CaseStatus.CLOSED,
    "办结": CaseStatus.CLOSED,
    "withdrawn": CaseStatus.WITHDRAWN,
}
# An import states where a case stands; statuses that need facts a file cannot give (a pause, the
# 核查 unit, the case merged into, a decision text) are reached in xiaobao, not imported.
IMPORT_STATUSES = (
    CaseStatus.REGISTERED,
    CaseStatus.ACCEPTED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.CLOSED,
    CaseStatus.WITHDRAWN,
)
ENDED_STATUSES = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
# Statuses only reached by handling in xiaobao, whose clocks need the case's own pauses and 核查.
HANDLED_STATUSES = (CaseStatus.PAUSED, CaseStatus.REVIEW)
PERSONAL = (("customer_name", "name"), ("customer_phone", "phone"), ("customer_id_no", "id_no"))
# The customer's contact address (联系地址, optional; not in data-formats.md): not part of who the
# customer is (matching stays by ID, else phone and name), but recorded on the customer found.
ADDRESS = "customer_address"
UNIT_OPTIONS = {"create", "parent", "level", "code_from_name", "code_prefix"}

# The Case fields an update may rewrite (the clocks are recomputed on every update).
UPDATE_FIELDS = [
    "kind",
    "channel",
    "status",
    "unit",
    "customer",
    "policy_no",
    "category",
    "urgent",
    "claims_related",
    "description",
    "received_at",
    "regulator_ref",
    "decided_at",
    "closed_at",
    "outcome",
    "extra",
    "due_date",
    "deadline_rule",
    "deadline_provisional",
    "response_due_date",
    "paused_days",
    "on_time",
    "version",
    "updated_at",
]
# A new case as _case_row() lists it; Case's other columns take their defaults.
CASE_COLUMNS = [
    "case_no",
    "kind",
    "channel",
    "status",
    "unit_id",
    "customer_id",
    "policy_no",
    "category",
    "urgent",
    "claims_related",
    "description",
    "received_at",
    "regulator_ref",
    "due_date",
    "deadline_rule",
    "deadline_provisional",
    "response_due_date",
    "paused_days",
    "decided_at",
    "closed_at",
    "on_time",
    "outcome",
    "extra",
    "source_batch_id",
    "created_at",
    "updated_at",
]
EVENT_COLUMNS = ["case_id", "at", "actor_id", "action", "from_status", "to_status", "reason", "details"]
# SQLite's full-text index of descriptions and the trigger that feeds it (cases migration 0002).
FTS_TABLE = "cases_case_fts"
FTS_TRIGGER = "cases_case_fts_ai"
FTS_AUTOMERGE_DEFAULT = 4  # FTS5's own, when the table's config does not say
SQLITE_CACHE_KIB = 64 * 1024
# Rows per INSERT statement (the SQLite build's variable limit permitting): each statement costs the
# import's writer thread a wait for Python's lock (lib.dbthread). Measured per row, bare table: 500
# rows 2.6 µs, 1,000 2.7, 5,000 2.9; executemany 3.0.
SQLITE_ROWS_PER_INSERT = 1000
CLOCK_MEMO_LIMIT = 200_000
SIMPLE_FIELDS = ("kind", "channel", "category", "description", "outcome", "policy_no", "regulator_ref")
STORED_FIELDS = (*SIMPLE_FIELDS, "case_no", "received_at", "status", "urgent", "claims_related", "closed_at")


class Personal(str):
    """A personal value on its way through an import: equal by token, printed masked.

    The plain value stays in memory for the customer services; whatever the engine records or
    reports (changes, conflicts) sees only the masked form, and matching never needs the plain one.
    """

    kind: str
    plain: str
    token: str

    def __new__(cls, kind: str, plain: str = "", *, token: str = "", masked: str = "") -> "Personal":
        value = super().__new__(cls, masked or mask(kind, plain))
        value.kind = kind
        value.plain = plain
        value.token = token or personal_token(kind, plain)
        return value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Personal):
            return self.kind == other.kind and self.token == other.token
        return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((self.kind, self.token))


def derived_unit_code(name: str, prefix: str = "") -> str:
    """A unit code for a unit known by name only: prefix + the name's letters and digits, cut to fit,
    + six hex digits of the name's hash. The same name always gives the same code; two names never share one."""
    digest = hashlib.sha1(name.encode()).hexdigest()[:6].upper()
    slug = re.sub(r"[^0-9A-Za-z]+", "-", name).strip("-").upper()
    head = f"{prefix}{slug}"[: CODE_LENGTH - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def _sql_literal(value: Any) -> str | None:
    """A default as an SQL literal, for the types that have an unambiguous one; else None."""
    if value is None:
        return "NULL"
    if value.__class__ is bool:
        return "1" if value else "0"
    if value.__class__ is int:
        return str(value)
    if value.__class__ is str:
        return "'" + value.replace("'", "''") + "'"
    return None


class _BulkInsert:
    """The rows of a chunk for one model, inserted in bulk: COPY on PostgreSQL, INSERTs of many rows
    each on SQLite.

    bulk_create() compiles a statement per few dozen rows on SQLite (its variable limit) and
    prepares every value through every field; here the statement is built once, the columns a
    caller does not set take their defaults once, and dates are adapted once per distinct value.
    """

    def __init__(
        self, model: type[models.Model], names: list[str], *, json_text: frozenset[str] = frozenset()
    ) -> None:
        """json_text: JSON columns whose values the caller gives as JSON text already. `names` may
        include the primary key (PostgreSQL: ids drawn from its sequence beforehand)."""
        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for name, f in fields.items() if name not in names and not f.primary_key]
        self.postgresql = connection.vendor == "postgresql"
        # PostgreSQL: the rows as COPY text, a column at a time (lib.pgcopy), the defaults once.
        self.copy_text = CopyText(
            [fields[name] for name in names], [(f, f.get_default()) for f in rest], json_text=json_text
        )
        self.dates: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = []
        self.adapters: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(names):
            if name in json_text:
                continue
            adapt = self._adapter(fields[name])
            if adapt is None:
                continue
            if fields[name].get_internal_type() in ("DateTimeField", "DateField"):
                self.dates.append((i, adapt, {}))  # adapted once per distinct value
            else:
                self.adapters.append((i, adapt))
        self.defaults = []
        for f in rest:
            default, adapt = f.get_default(), self._adapter(f)
            self.defaults.append(adapt(default) if adapt and default is not None else default)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in [*(fields[name] for name in names), *rest])
        placeholders = ", ".join(["%s"] * (len(names) + len(rest)))
        self.head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "
        self.sql = f"{self.head}({placeholders})"
        self.copy_sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        # SQLite: the defaults written into the statement as literals, so only the caller's values
        # are bound (binding holds Python's lock); None when a default has no plain literal.
        literals = [_sql_literal(value) for value in self.defaults]
        self.literals = None if None in literals else literals
        self.bound = len(names) if self.literals is not None else len(names) + len(rest)
        self._many: dict[int, str] = {}  # rows → INSERT … VALUES (…), (…), … for that many rows

    def _in_statement(self) -> bool:
        """Whether the defaults are in the SQLite statement rather than in each row."""
        return connection.vendor == "sqlite" and self.literals is not None

    def _many_sql(self, count: int) -> str:
        """INSERT … VALUES (?, …), (?, …), … for `count` rows, in sqlite3's own placeholders."""
        sql = self._many.get(count)
        if sql is None:
            one = "(" + ", ".join(["?"] * self.bound + (self.literals or [])) + ")"
            sql = self._many[count] = self.head + ", ".join([one] * count)
        return sql

    def _rows_per_statement(self) -> int:
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return max(1, min(SQLITE_ROWS_PER_INSERT, limit // max(self.bound, 1)))

    @staticmethod
    def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
        """How the backend wants this field's Python value, or None when it takes it as it is."""
        ops = connection.ops
        kind = field.get_internal_type()
        if kind == "DateTimeField":
            return ops.adapt_datetimefield_value
        if kind == "DateField":
            return ops.adapt_datefield_value
        if kind == "JSONField":
            return lambda value: ops.adapt_json_value(value, field.encoder)
        if kind == "DecimalField":
            return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
        return None

    def adapt(self, rows: list[list[Any]]) -> list[list[Any]]:
        """`rows` (Python values in the order of `names`) as the database takes them, with the other
        columns' defaults (unless the statement has them); the lists are adapted in place.
        PostgreSQL takes them as they are: insert() writes them as COPY text."""
        if self.postgresql:
            return rows
        for i, adapt, seen in self.dates:  # a column at a time: no call per value
            for row in rows:
                value = row[i]
                if value is not None:
                    found = seen.get(value)
                    if found is None:
                        found = seen[value] = adapt(value)
                    row[i] = found
        for i, adapt in self.adapters:
            for row in rows:
                row[i] = adapt(row[i])
        if not self._in_statement():
            defaults = self.defaults
            for row in rows:
                row += defaults
        return rows

    def insert(self, rows: list[list[Any]]) -> list[int] | None:
        """Insert rows as adapt() gives them.

        PostgreSQL takes them by COPY: one stream instead of a statement per row (executemany,
        even pipelined, costs a round trip of parsing and planning per row).

        SQLite: returns the ids the rows were given, in their order, or None when they cannot be
        told without asking. A statement's rows take consecutive ids ending at its last insert
        rowid (an AUTOINCREMENT table gives each new row the largest id ever used + 1, and the
        import's transaction holds the only write lock); the caller checks the two ends."""
        ids: list[int] | None = None
        with connection.cursor() as cursor:
            if self.postgresql:
                with cursor.cursor.copy(self.copy_sql) as copy:
                    copy.write(self.copy_text(rows))
            elif connection.vendor == "sqlite":
                # Hundreds of rows per statement, not one (executemany): SQLite runs each statement
                # without Python's lock, so the import's writer thread (Importer.pipelined) does not
                # queue for the lock after every row.
                # sqlite3's own execute(): Django's would rewrite its %s placeholders in SQL this long.
                step = self._rows_per_statement()
                ids = []
                with connection.wrap_database_errors:
                    for start in range(0, len(rows), step):
                        part = rows[start : start + step]
                        sqlite3.Cursor.execute(
                            cursor.cursor, self._many_sql(len(part)), list(chain.from_iterable(part))
                        )
                        last = cursor.cursor.lastrowid
                        ids.extend(range(last - len(part) + 1, last + 1))
            else:
                cursor.executemany(self.sql, rows)
        return ids


@register
class CaseImporter(Importer):
    spec = ImportSpec(
        kind="cases",
        label=gettext_noop("工单与投诉"),
        key=("case_no",),
        extra=True,
        columns=[
            Column("case_no", ("工单号", "投诉编号"), text_parser(max_length=CASE_NO_LENGTH), required=True),
            Column("received_at", ("受理时间", "登记时间", "接收日期"), parse_datetime, required=True),
            Column(
                "kind",
                ("工单类型",),
                enum_parser(CaseKind, aliases=KIND_ALIASES, name="工单类型"),
                required=True,
            ),
            Column(
                "channel",
                ("来源渠道",),
                enum_parser(Channel, aliases=CHANNEL_ALIASES, name="来源渠道"),
                required=True,
            ),
            Column("customer_name", ("客户姓名",), text_parser(max_length=50)),
            Column("customer_phone", ("客户电话", "来电号码"), text_parser(max_length=30)),
            Column("customer_id_no", ("证件号码",), text_parser(max_length=30)),
            Column(ADDRESS, ("联系地址", "客户地址"), text_parser(max_length=ADDRESS_LENGTH)),
            Column("policy_no", ("保单号",), text_parser(max_length=64)),
            # A unit code, or with options.units.code_from_name a unit name.
            Column(
                "org_code", ("机构代码", "责任机构"), text_parser(max_length=UNIT_NAME_LENGTH), required=True
            ),
            Column(
                "category",
                ("投诉事由", "业务类别"),
                enum_parser(Category, aliases=CATEGORY_ALIASES, name="投诉事由"),
            ),
            Column("urgent", ("是否紧急",), parse_bool),
            Column("claims_related", ("是否理赔相关",), parse_bool),
            Column("description", ("诉求内容", "工单内容"), parse_text, required=True),
            Column("status", ("状态",), enum_parser(CaseStatus, aliases=STATUS_ALIASES, name="状态")),
            Column("closed_at", ("办结时间",), parse_datetime),
            Column("outcome", ("处理结果",), parse_text),
            # The regulator's own number of a forwarded case (not in data-formats.md; Case has it).
            Column("regulator_ref", ("监管转办编号", "监管编号"), text_parser(max_length=64)),
        ],
    )
    chunk_size = 5000
    option_names = frozenset({"units"})
    pipelined = True  # validate_row() reads no database; apply() writes while the next chunk is read
    # PostgreSQL: new cases from which a load that also at least doubles the table sets its indexes
    # aside (_bulk_load). Below this, building the indexes again costs more than it saves.
    bulk_min_rows = 20_000

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        units = self.options.get("units") or {}
        if not isinstance(units, dict):
            raise ImportRefused("导入配置 options.units 应为对象")
        unknown = sorted(set(units) - UNIT_OPTIONS)
        if unknown:
            raise ImportRefused(
                f"导入配置 options.units 中有未知的设置 {', '.join(unknown)} (可用: {', '.join(sorted(UNIT_OPTIONS))})"
            )
        self.create_units = bool(units.get("create", False))
        self.parent_code = units.get("parent") or None
        self.unit_level = units.get("level") or UnitLevel.DEPARTMENT
        self.code_from_name = bool(units.get("code_from_name", False))
        self.code_prefix = str(units.get("code_prefix") or "")
        if self.unit_level not in UnitLevel.values:
            raise ImportRefused(f"导入配置 options.units.level 应为 {'、'.join(UnitLevel.values)}")
        if "/" in self.code_prefix or len(self.code_prefix) > CODE_LENGTH // 2:
            raise ImportRefused("导入配置 options.units.code_prefix 不能含 “/”, 且不能超过 16 个字符")

        self.now = timezone.now()
        self.tz = timezone.get_current_timezone()
        self.calendar = work_calendar()  # one per import, never per row
        self.targets = {
            (t.kind, t.channel): (t.response_workdays, t.resolution_workdays)
            for t in WorkOrderTarget.objects.all()
        }
        self._clocks: dict[tuple, clocks.ClockResult] = {}
        self._day_ends: dict[dt.date, dt.datetime] = {}
        self._codes: dict[str, str] = {}  # name → derived code (code_from_name)
        self._unit_names: dict[str, str] = {}  # code → the name to give it when created
        self._units: dict[str, Unit] = {}  # code → unit, every unit met so far
        self._absent: set[str] = set()  # codes looked up and not found
        self._planned: dict[str, str] = {}  # code → name: units this import needs and creates
        self._parent: Unit | None = None
        # Customers matched by token: id token → pk, (phone token, name token) → pk; None = none.
        self._by_id: dict[str, int | None] = {}
        self._by_pn: dict[tuple[str, str], int | None] = {}
        self.closed_without_date = 0
        self._written = 0  # cases created or updated: statistics are refreshed after the import
        # PostgreSQL: the new cases' ids are drawn from their sequence before the COPY (_new_ids).
        self._cases = _BulkInsert(
            Case, ["id", *CASE_COLUMNS] if connection.vendor == "postgresql" else CASE_COLUMNS
        )
        self._cache_set = False
        self._fts_automerge: int | None = None  # SQLite: FTS5's automerge before the import set it to 0
        # PostgreSQL bulk load (_bulk_load): the table's size before, this import's new cases so far.
        self._rows_before: int | None = None
        self._created = 0
        self._hold: IndexHold | None = None
        self._hold_declined = False
        self._rebuilt = 0  # indexes built again at the end of a bulk load
        self._extras: list[tuple[str, str]] | None = None
        self._events = _BulkInsert(CaseEvent, EVENT_COLUMNS, json_text=frozenset({"details"}))

    # ------------------------------------------------------------ rows

    def validate_row(self, row: dict[str, Any]) -> dict[str, Any]:
        for name in ("urgent", "claims_related"):
            if name in row and row[name] is None:
                row[name] = False  # a blank yes/no cell means no
        code = row.get("org_code")
        if code is not None:
            row["org_code"] = self._unit_code(code)
        for column, kind in PERSONAL:
            value = row.get(column)
            if value is not None:
                try:
                    plain = personal_normalize(kind, value)
                except ValidationError as exc:
                    raise RowError(column, exc.messages[0]) from None
                row[column] = Personal(kind, plain)
        if row.get(ADDRESS) is not None:
            try:
                plain = personal_normalize("address", row[ADDRESS])
            except ValidationError as exc:
                raise RowError(ADDRESS, exc.messages[0]) from None
            row[ADDRESS] = Personal("address", plain) if plain else None

        received = row["received_at"]
        if received > self.now + FUTURE_SLACK:
            raise RowError("received_at", "受理时间不能晚于现在")
        if received.date() < EARLIEST_RECEIVED:  # the local date: no conversion, which could overflow
            raise RowError(
                "received_at", f"受理时间 {received.date().isoformat()} 早于 2000-01-01, 请检查日期"
            )
        closed = row.get("closed_at")
        if closed is not None:
            if closed < received:
                raise RowError("closed_at", f"办结时间早于受理时间 ({received:%Y-%m-%d %H:%M})")
            if closed > self.now + FUTURE_SLACK:
                raise RowError("closed_at", "办结时间不能晚于现在")
        status = row.get("status")
        if status is None:
            # No status: a closing date says 已办结; otherwise the status is not the file's to say.
            if closed is not None:
                row["status"] = CaseStatus.CLOSED
            else:
                row.pop("status", None)
        elif status not in IMPORT_STATUSES:
            raise RowError(
                "status", f"导入的工单状态只能是 {'、'.join(IMPORT_STATUSES)}; 其他状态请在系统中办理"
            )
        elif status not in ENDED_STATUSES and closed is not None:
            raise RowError("closed_at", f"状态为「{status}」的工单不应有办结时间")
        if row.get("kind") == CaseKind.COMPLAINT and "category" in row and row["category"] is None:
            raise RowError("category", "投诉必须填写投诉事由")
        return row

    def _unit_code(self, value: str) -> str:
        if self.code_from_name:
            code = self._codes.get(value)
            if code is None:
                code = self._codes[value] = derived_unit_code(value, self.code_prefix)
                self._unit_names[code] = value
            return code
        if len(value) > CODE_LENGTH:
            raise RowError("org_code", f"机构代码长度 {len(value)} 超过上限 {CODE_LENGTH} 个字符")
        if "/" in value:
            raise RowError("org_code", "机构代码不能包含 “/”")
        return value

    # ------------------------------------------------------------ what is stored

    def existing(self, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        fields = [
            "pk",
            "case_no",
            "received_at",
            "kind",
            "channel",
            "status",
            "unit__code",
            "customer_id",
            "policy_no",
            "category",
            "urgent",
            "claims_related",
            "description",
            "closed_at",
            "outcome",
            "regulator_ref",
            "extra",
        ]
        fields += [f"customer__{kind}_{part}" for _, kind in PERSONAL for part in ("token", "masked")]
        fields += ["customer__address_token", "customer__address_masked"]
        stored: dict[Key, dict[str, Any]] = {}
        for part in in_batches(self._stored_case_nos([key[0] for key in keys])):
            for case in values_memo(Case.objects.filter(case_no__in=part), *fields):
                before = {name: case[name] for name in STORED_FIELDS}
                before.update(
                    org_code=case["unit__code"],
                    _pk=case["pk"],
                    _customer_id=case["customer_id"],
                    _tokens=None,
                )
                if case["customer_id"] is not None:
                    tokens = []
                    for column, kind in PERSONAL:
                        token = case[f"customer__{kind}_token"]
                        tokens.append(token)
                        before[column] = (
                            Personal(kind, token=token, masked=case[f"customer__{kind}_masked"])
                            if token
                            else None
                        )
                    before["_tokens"] = tuple(tokens)
                    token = case["customer__address_token"]
                    before[ADDRESS] = (
                        Personal("address", token=token, masked=case["customer__address_masked"])
                        if token
                        else None
                    )
                for name, value in (case["extra"] or {}).items():
                    before[f"extra.{name}"] = value
                stored[(case["case_no"],)] = before
        return stored

    @staticmethod
    def _stored_case_nos(case_nos: list[str]) -> list[str]:
        """Which of `case_nos` are stored: a bare indexed probe, so a file of new cases costs
        one small query per 500 rows and only the stored ones are read in full."""
        table = connection.ops.quote_name(Case._meta.db_table)
        found: list[str] = []
        with connection.cursor() as cursor:
            for part in in_batches(case_nos):
                cursor.execute(
                    f"SELECT case_no FROM {table} WHERE case_no IN ({', '.join(['%s'] * len(part))})",
                    list(part),
                )
                found.extend(row[0] for row in cursor.fetchall())
        return found

    # ------------------------------------------------------------ records

    def validate_records(self, *, records: list[Record], existing: dict[Key, dict[str, Any]]) -> None:
        """1. Every responsible unit exists, or is to be created when the profile allows it.
        2. A new complaint has its category.
        3. Personal data: the chunk's people are looked up by token in bulk; a stored case keeps
           its customer (no change) when the file's person is that customer by the matching rule.
           An address needs a customer to belong to: the file's person, or the stored case's; a
           blank address is no information (the stored one stays).
        """
        accepted = [r for r in records if not r.rejected]
        self._load_units({r.values["org_code"] for r in accepted if r.values.get("org_code")})
        for record in accepted:
            values = record.values
            code = values.get("org_code")
            if code is not None and code not in self._units and not self.create_units:
                record.reject("org_code", f"机构 {code} 不存在: 请先导入机构, 或在导入配置中允许新建机构")
                continue
            if (
                record.key not in existing
                and values.get("kind") == CaseKind.COMPLAINT
                and not values.get("category")
            ):
                record.reject("category", "投诉必须填写投诉事由")

        accepted = [r for r in accepted if not r.rejected]
        self._find_customers([p for p in map(self._person, (r.values for r in accepted)) if p is not None])
        for record in accepted:
            before = existing.get(record.key)
            if before is not None:
                self._compare_person(record.values, before)
            if record.values.get(ADDRESS) is None:
                if before is not None and ADDRESS in record.values:
                    before[ADDRESS] = None
            elif self._person(record.values) is None and (before is None or before["_customer_id"] is None):
                record.reject(ADDRESS, "联系地址须与客户姓名、电话或证件号码一同填写")
                continue
            code = record.values.get("org_code")
            if code is not None and code not in self._units and code not in self._planned:
                self._planned[code] = self._unit_names.get(code, code)

    def _compare_person(self, values: dict[str, Any], before: dict[str, Any]) -> None:
        """Make the stored personal values compare equal when the file names the stored customer:
        the one customer_find_or_create() would find (by ID token, else phone and name tokens), or,
        for a person it cannot find (a name alone), the stored customer whose tokens all agree.
        Blank personal cells are no information: an import never unlinks or erases a customer."""
        if not any(column in values for column, _ in PERSONAL):
            return
        person = self._person(values)
        if person is None:
            same = True
        else:
            found = self._match(person)
            if found is not None:
                same = found == before["_customer_id"]
            else:
                stored = before["_tokens"]
                same = stored is not None and all(
                    mine == theirs for mine, theirs in zip(person, stored, strict=True) if mine
                )
        if same:
            for column, _ in PERSONAL:
                if column in values:
                    before[column] = values[column]

    @staticmethod
    def _person(values: dict[str, Any]) -> tuple[str, str, str] | None:
        """(name token, phone token, ID token), in PERSONAL's order; None without personal data."""
        name, phone, id_no = (values.get(column) for column, _ in PERSONAL)
        if not (name or phone or id_no):
            return None
        return (name.token if name else "", phone.token if phone else "", id_no.token if id_no else "")

    def _find_customers(self, persons: list[tuple[str, str, str]]) -> None:
        """Look the chunk's people up by token, two queries per 500, remembering misses too."""
        if not persons:
            return
        ids = sorted({p[2] for p in persons if p[2] and p[2] not in self._by_id})
        for part in in_batches(ids):
            for token, pk in (
                Customer.objects.filter(id_no_token__in=part).order_by("pk").values_list("id_no_token", "pk")
            ):
                self._by_id.setdefault(token, pk)
        for token in ids:
            self._by_id.setdefault(token, None)
        pairs = {(p[1], p[0]) for p in persons if p[1] and p[0] and (p[1], p[0]) not in self._by_pn}
        for part in in_batches(sorted({phone for phone, _ in pairs})):
            rows = Customer.objects.filter(phone_token__in=part).order_by("pk")
            for phone, name, pk in rows.values_list("phone_token", "name_token", "pk"):
                if (phone, name) in pairs:
                    self._by_pn.setdefault((phone, name), pk)
        for pair in pairs:
            self._by_pn.setdefault(pair, None)

    def _match(self, person: tuple[str, str, str]) -> int | None:
        """customer_find_or_create's rule: by ID token, else by phone and name tokens together."""
        name, phone, id_no = person
        found = self._by_id.get(id_no) if id_no else None
        if found is None and phone and name:
            found = self._by_pn.get((phone, name))
        return found

    # ------------------------------------------------------------ units

    def _load_units(self, codes: set[str]) -> None:
        wanted = sorted(codes - self._units.keys() - self._absent)
        for part in in_batches(wanted):
            for unit in Unit.objects.filter(code__in=part):
                self._units[unit.code] = unit
        self._absent.update(code for code in wanted if code not in self._units)

    def _parent_unit(self) -> Unit:
        """Where new units go: the profile's parent, else the one head office; checked once."""
        if self._parent is not None:
            return self._parent
        if self.parent_code:
            parent = Unit.objects.filter(code=self.parent_code).first()
            if parent is None:
                raise ImportRefused(f"导入配置指定的上级机构 {self.parent_code} 不存在: 请先建立该机构")
        else:
            roots = list(Unit.objects.filter(parent=None)[:2])
            if len(roots) != 1:
                raise ImportRefused(
                    "系统中没有唯一的总公司, 无法确定新建机构的上级: 请在导入配置中指定 parent"
                )
            parent = roots[0]
        problem = unit_rule_error(code="NEW", level=self.unit_level, parent_level=parent.level)
        if problem is not None:
            raise ImportRefused(f"导入配置的新建机构层级不合规: {problem[1]}")
        self._parent = parent
        return parent

    def _create_units(self, codes: set[str]) -> None:
        """Create the planned units among `codes` under the parent, in one insert. Each is checked
        by Unit.full_clean() (fields and the level rules of Unit.clean()) with its path computed as
        unit_save() would; codes were looked up just before, inside this import's transaction."""
        missing = [code for code in self._planned if code in codes and code not in self._units]
        if not missing:
            return
        parent = self._parent_unit()
        units = []
        for code in missing:
            unit = Unit(
                code=code, name=self._planned[code][:UNIT_NAME_LENGTH], level=self.unit_level, parent=parent
            )
            unit.path = unit.compute_path()
            try:
                unit.full_clean(exclude=["path"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                raise ImportRefused(f"无法新建机构 {code}: {'; '.join(exc.messages)}") from None
            units.append(unit)
        for unit in Unit.objects.bulk_create(units, batch_size=500):
            self._units[unit.code] = unit
            self._absent.discard(unit.code)

    # ------------------------------------------------------------ clocks

    def _clock(self, kind: str, channel: str, urgent: bool, received: dt.datetime) -> clocks.ClockResult:
        # Files repeat receipt times (dates alone, mostly): the same facts, the same clocks.
        known = self._clocks.get((kind, channel, urgent, received))
        if known is not None:
            return known
        local = received.astimezone(self.tz)
        after_hours = not (clocks.OFFICE_OPENS <= local.time() < clocks.OFFICE_CLOSES)
        key = (kind, channel, urgent, local.date(), after_hours)
        result = self._clocks.get(key)
        if result is None:
            result = self._clocks[key] = clocks.compute(
                clocks.ClockFacts(
                    kind=kind,
                    channel=channel,
                    urgent=urgent,
                    received_at=local,
                    target=None if kind == CaseKind.COMPLAINT else self._target(kind, channel),
                ),
                self.calendar,
            )
        if len(self._clocks) < CLOCK_MEMO_LIMIT:
            self._clocks[(kind, channel, urgent, received)] = result
        return result

    def _target(self, kind: str, channel: str) -> tuple[int, int] | None:
        return self.targets.get((kind, channel)) or self.targets.get((kind, ""))

    def _met(self, done: dt.datetime | None, due: dt.date | None) -> bool | None:
        if done is None or due is None:
            return None
        end = self._day_ends.get(due)
        if end is None:
            end = self._day_ends[due] = clocks.end_of_day(due)
        return done <= end

    def _set_clock(self, case: Case) -> None:
        if case.extension_level or case.status in HANDLED_STATUSES or bool(case.pauses.all()):
            # A case handled in xiaobao (extended, paused, under 核查): its own facts, fully.
            from xiaobao.cases.services import clock_facts

            result = clocks.compute(clock_facts(case), self.calendar)
        else:
            result = self._clock(case.kind, case.channel, case.urgent, case.received_at)
        case.due_date = result.due_date
        case.deadline_rule = result.rule
        case.deadline_provisional = result.provisional
        case.response_due_date = result.response_due_date
        case.paused_days = result.paused_days
        case.on_time = self._met(case.decided_at, case.due_date)

    # ------------------------------------------------------------ writing

    def apply(self, *, created: list[Record], updated: list[Change]) -> Callable[[], None]:
        """1. Create the units the chunk needs (unit_save, so the org rules hold).
        2. Find or register the chunk's new customers through the customer services.
        3. The new cases' rows, with their clocks.
        Returned, for the engine's writer thread (_write):
        4. Insert the new cases and their "import" events, one statement each for the chunk.
        5. Rewrite the updated cases in bulk, with their clocks, versions and "import" events.
        """
        records = [*created, *(change.record for change in updated)]
        self._written += len(records)
        if created and self._cases.postgresql:
            self._bulk_load(len(created))
        self._create_units({r.values["org_code"] for r in records if r.values.get("org_code")})
        # Who the customer is changes only for new cases and where the file names another person.
        personal = {column for column, _ in PERSONAL}
        customers = self._customers(
            [*created, *(change.record for change in updated if personal & change.changes.keys())]
        )
        # The addresses go to the customers now, before the new cases are inserted: the watchlist
        # check at intake (hooks.cases_created) must see them. A new case's customer is the file's
        # person; an updated case's is the file's person if it changed, else the stored one.
        addressed = [(record, None) for record in created] + [
            (change.record, change.before["_customer_id"])
            for change in updated
            if ADDRESS in change.changes or personal & change.changes.keys()
        ]
        self._set_addresses(
            {
                customers.get(id(record), stored): record.values[ADDRESS]
                for record, stored in addressed
                if record.values.get(ADDRESS) is not None
            }
        )
        now = timezone.now()
        actor_id = getattr(self.batch, "actor_id", None)
        batch_id = getattr(self.batch, "pk", None)
        rows = self._cases.adapt(
            [self._case_row(record, customers.get(id(record)), batch_id, now) for record in created]
        )
        # The new cases' events, but for their ids: (case_no, status, details as JSON text).
        batch_json = "null" if batch_id is None else int(batch_id)
        pending = [
            (
                record.values["case_no"],
                record.values.get("status") or CaseStatus.REGISTERED,
                f'{{"batch": {batch_json}, "row": {int(record.first_row)}}}',
            )
            for record in created
        ]
        ids = None
        if self._cases.postgresql and rows:
            new = self._new_ids(len(rows))
            rows = [[pk, *row] for pk, row in zip(new, rows, strict=True)]
            ids = dict(zip((case_no for case_no, _, _ in pending), new, strict=True))
        return partial(self._write, rows, pending, ids, updated, customers, now, actor_id, batch_id)

    def _write(
        self,
        rows: list[list[Any]],
        pending: list[tuple[str, str, str]],
        ids: dict[str, int] | None,
        updated: list[Change],
        customers: dict[int, int],
        now: dt.datetime,
        actor_id: int | None,
        batch_id: int | None,
    ) -> None:
        """apply()'s database part, on the engine's writer thread (pipelined): the new cases, their
        watchlist check and events, and the updated cases."""
        with self._checks_now():
            events: list[list[Any]] = []
            if rows:
                with self._sqlite_bulk():
                    given = self._cases.insert(rows)
                if ids is None:  # SQLite: the ids it gave
                    ids = self._given_ids([case_no for case_no, _, _ in pending], given)
                hooks.cases_created(list(ids.values()))  # the chunk's watchlist check: one pass, not per row
                events = [
                    [ids[case_no], now, actor_id, "import", "", status, "", details]
                    for case_no, status, details in pending
                ]
            if updated:
                events += self._update(updated, customers, now, actor_id, batch_id)
            if events:
                self._events.insert(self._events.adapt(events))

    @contextmanager
    def _checks_now(self) -> Iterator[None]:
        """PostgreSQL: the foreign keys of the chunk's rows are checked by its own statements, on the
        writer thread while the engine reads the next chunk, instead of all at once at COMMIT
        (Django declares them DEFERRABLE INITIALLY DEFERRED; the deferred checks of a 281,397-row
        import took 3.1 s at its commit, when nothing else could run)."""
        if not self._cases.postgresql:
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    @contextmanager
    def _sqlite_bulk(self) -> Iterator[None]:
        """SQLite only, around a chunk's insert of new cases:

        - A page cache of 64 MB for this connection (closed after the command or request): a case
          row updates 20 indexes, and with SQLite's default 2 MB every insert re-reads index pages.
        - Full-text search: the chunk's descriptions are indexed by one statement instead of one
          trigger firing per row (which costs three times the insert itself). Only inside the
          import's transaction, which holds SQLite's write lock, so no other writer inserts
          meanwhile; an error rolls the trigger back with everything else (SQLite DDL is
          transactional).
        - FTS5's automatic merging is off until finish() (set back in the same transaction): the
          chunks' segments are merged when a level holds 16 of them (FTS5's crisismerge), not after
          every few. Indexing the Texas file's descriptions: 3.0 s → 2.3 s, with as many segments
          at the end (11 against 12) and the same search speed.
        """
        if connection.vendor != "sqlite" or not connection.in_atomic_block:
            yield
            return
        with connection.cursor() as cursor:
            if not self._cache_set:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
                self._cache_set = True
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [FTS_TRIGGER]
            )
            found = cursor.fetchone()
            if found is None:
                yield
                return
            if self._fts_automerge is None:
                cursor.execute(f"SELECT v FROM {FTS_TABLE}_config WHERE k = 'automerge'")
                stored = cursor.fetchone()
                self._fts_automerge = FTS_AUTOMERGE_DEFAULT if stored is None else int(stored[0])
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', 0)")
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Case._meta.db_table}")
            (top,) = cursor.fetchone()
            cursor.execute(f"DROP TRIGGER {FTS_TRIGGER}")
        yield
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {FTS_TABLE}(rowid, description) SELECT id, {FTS_INDEXED} FROM {Case._meta.db_table} "
                "WHERE id > %s",
                [top],
            )
            cursor.execute(found[0])

    def _bulk_load(self, count: int) -> None:
        """PostgreSQL: once this import's new cases reach as many as the table held before it (and
        at least bulk_min_rows), the cases' and events' indexes that are neither unique nor partial
        are set aside for the rest of the load and built again at its end (finish(); lib.pgbulk).
        Called from apply(), before the chunk's rows are handed to the writer thread, which is idle
        then. Only inside a transaction: outside one, a dropped index would stay dropped on error."""
        if self._hold is not None or self._hold_declined:
            return
        if not connection.in_atomic_block:
            self._hold_declined = True
            return
        if self._rows_before is None:
            self._rows_before = self._table_rows()
        self._created += count
        if self._created < max(self.bulk_min_rows, self._rows_before):
            return
        hold = IndexHold([Case._meta.db_table, CaseEvent._meta.db_table], using=connection.alias)
        if hold.drop():
            self._hold = hold
        else:  # another session holds the table: the load goes on with the indexes
            self._hold_declined = True

    @staticmethod
    def _table_rows() -> int:
        """The cases table's size: the planner's estimate (ANALYZE runs after every import), or a
        count where the table was never analyzed."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [Case._meta.db_table]
            )
            (rows,) = cursor.fetchone()
            if rows < 0:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(Case._meta.db_table)}")
                (rows,) = cursor.fetchone()
        return rows

    def finish(self) -> None:
        if self._fts_automerge is not None:  # SQLite: FTS5 merges as before (_sqlite_bulk)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', %s)",
                    [self._fts_automerge],
                )
            self._fts_automerge = None
        if self._hold is not None:
            self._rebuilt = len(self._hold.definitions)
            self._hold.rebuild()
            self._hold = None

    @staticmethod
    def _new_ids(count: int) -> list[int]:
        """PostgreSQL: `count` new case ids from the table's own sequence, in one statement (reading
        them back by case number after the COPY cost the server a second of this import's time)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Case._meta.db_table, count],
            )
            return sorted(pk for (pk,) in cursor.fetchall())

    @classmethod
    def _given_ids(cls, case_nos: list[str], given: list[int] | None) -> dict[str, int]:
        """SQLite: case number → id of the chunk's new cases, from the ids insert() reckoned when
        they are consecutive and the stored cases at both ends agree, else read back by case number."""
        if given and len(given) == len(case_nos) and given[-1] - given[0] == len(given) - 1:
            ends = dict(Case.objects.filter(pk__in=[given[0], given[-1]]).values_list("pk", "case_no"))
            if ends == {given[0]: case_nos[0], given[-1]: case_nos[-1]}:
                return dict(zip(case_nos, given, strict=True))
        return cls._case_ids(case_nos)

    @staticmethod
    def _case_ids(case_nos: list[str]) -> dict[str, int]:
        table = connection.ops.quote_name(Case._meta.db_table)
        ids: dict[str, int] = {}
        with connection.cursor() as cursor:
            for part in in_batches(case_nos):
                cursor.execute(
                    f"SELECT case_no, id FROM {table} WHERE case_no IN ({', '.join(['%s'] * len(part))})",
                    list(part),
                )
                ids.update(cursor.fetchall())
        return ids

    def _customers(self, records: list[Record]) -> dict[int, int]:
        """id(record) → customer pk, for the records with personal data; new people are registered."""
        found: dict[int, int] = {}
        actor = getattr(self.batch, "actor", None)
        for record in records:
            person = self._person(record.values)
            if person is None:
                continue
            pk = self._match(person)
            if pk is None:
                values = record.values
                plain = {column: values[column].plain if values.get(column) else "" for column, _ in PERSONAL}
                customer = customer_find_or_create(
                    actor=actor,
                    unit=self._units[values["org_code"]] if values.get("org_code") else None,
                    name=plain["customer_name"],
                    phone=plain["customer_phone"],
                    id_no=plain["customer_id_no"],
                )
                pk = customer.pk
                name, phone, id_no = person
                if id_no:
                    self._by_id[id_no] = pk
                if phone and name:
                    self._by_pn[(phone, name)] = pk
            found[id(record)] = pk
        return found

    def _set_addresses(self, addresses: dict[int | None, Personal]) -> None:
        """Record the file's contact addresses on their customers (customer pk → address), through
        the customer service (encrypted, tokenised, masked, audited); unchanged ones are skipped by
        token, and an erased customer is not written to again."""
        actor = getattr(self.batch, "actor", None)
        wanted = {pk: address for pk, address in addresses.items() if pk is not None}
        for part in in_batches(sorted(wanted)):
            rows = Customer.objects.filter(pk__in=part, subject__erased_at=None).select_related(
                "subject", "unit"
            )
            for customer in rows:
                address = wanted[customer.pk]
                if customer.address_token != address.token:
                    customer_address_set(actor=actor, customer=customer, address=address.plain)

    def _extra_names(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        """The file's extra attributes, (value name, stored name): every record of an import carries
        the same ones."""
        if self._extras is None:
            self._extras = [(name, name[6:]) for name in values if name.startswith("extra.")]
        return self._extras

    def _case_row(
        self, record: Record, customer_id: int | None, batch_id: int | None, now: dt.datetime
    ) -> list[Any]:
        """A new case's values in CASE_COLUMNS order, with its clocks."""
        values = record.values
        status = values.get("status") or CaseStatus.REGISTERED
        closed = values.get("closed_at")
        decided = closed if status == CaseStatus.CLOSED else None
        if status == CaseStatus.CLOSED and closed is None:
            self.closed_without_date += 1
        kind, channel, urgent = values["kind"], values["channel"], bool(values.get("urgent"))
        clock = self._clock(kind, channel, urgent, values["received_at"])
        extra = {
            short: value for name, short in self._extra_names(values) if (value := values[name]) is not None
        }
        return [
            values["case_no"],
            kind,
            channel,
            status,
            self._units[values["org_code"]].pk,
            customer_id,
            values.get("policy_no") or "",
            values.get("category") or "",
            urgent,
            bool(values.get("claims_related")),
            values["description"],
            values["received_at"],
            values.get("regulator_ref") or "",
            clock.due_date,
            clock.rule,
            clock.provisional,
            clock.response_due_date,
            clock.paused_days,
            decided,
            closed,
            self._met(decided, clock.due_date),
            values.get("outcome") or "",
            extra,
            batch_id,
            now,
            now,
        ]

    def _update(
        self,
        updated: list[Change],
        customers: dict[int, int],
        now: dt.datetime,
        actor_id: int | None,
        batch_id: int | None,
    ) -> list[list[Any]]:
        """Rewrite the updated cases (ORM bulk_update: updates are the exception, not the volume);
        their "import" events, as rows for _events, name the changed columns."""
        pks = [change.before["_pk"] for change in updated]
        stored: dict[int, Case] = {}
        for part in in_batches(pks):
            stored.update(
                {case.pk: case for case in Case.objects.filter(pk__in=part).prefetch_related("pauses")}
            )
        events = []
        cases = []
        for change in updated:
            case = stored[change.before["_pk"]]
            values = change.record.values
            from_status = case.status
            for name in SIMPLE_FIELDS:
                if name in values:
                    setattr(case, name, values[name] or "")
            for name in ("urgent", "claims_related"):
                if name in values:
                    setattr(case, name, bool(values[name]))
            if "received_at" in values:
                case.received_at = values["received_at"]
            if "org_code" in values:
                case.unit = self._units[values["org_code"]]
            if id(change.record) in customers:
                case.customer_id = customers[id(change.record)]
            if "status" in values:
                case.status = values["status"]
            if "closed_at" in values:
                case.closed_at = values["closed_at"]
            if case.status == CaseStatus.CLOSED and case.decided_at is None:
                case.decided_at = case.closed_at
            case.extra = _extra(dict(case.extra or {}), values)
            if batch_id is not None:
                case.source_batch_id = batch_id
            self._set_clock(case)
            case.version += 1
            case.updated_at = now
            cases.append(case)
            moved = case.status != from_status
            events.append(
                [
                    case.pk,
                    now,
                    actor_id,
                    "import",
                    from_status if moved else "",
                    case.status if moved else "",
                    "导入更新: " + "、".join(self.spec.label_of(name) for name in change.changes),
                    json.dumps(
                        {"batch": batch_id, "row": change.record.first_row, "columns": sorted(change.changes)}
                    ),
                ]
            )
        Case.objects.bulk_update(cases, [*UPDATE_FIELDS, "source_batch"], batch_size=500)
        return events

    # ------------------------------------------------------------ summary

    def report(self) -> dict[str, Any]:
        # Called once the import's transaction has ended: fresh planner statistics for the desk
        # (a bulk load otherwise leaves SQLite without any and PostgreSQL with stale ones).
        if self._written and not getattr(self.batch, "dry_run", False):
            analyze_cases(connection.alias)
        report: dict[str, Any] = {}
        if self._planned:
            codes = list(self._planned)
            report["new_units"] = {
                "count": len(codes),
                "parent": self._parent.code if self._parent is not None else self.parent_code,
                "level": self.unit_level,
                "codes": codes[:REPORT_CODES],
            }
        if self.closed_without_date:
            report["closed_without_date"] = self.closed_without_date
        if self._rebuilt:
            report["indexes_rebuilt"] = self._rebuilt
        return report


def _extra(extra: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Case.extra with the record's extra attributes: a blank one removes what was stored."""
    for name, value in values.items():
        if name.startswith("extra."):
            attribute = name[6:]
            if value is None:
                extra.pop(attribute, None)
            else:
                extra[attribute] = value
    return extra
