"""金融教育活动 (education_activities) import: the `education` kind, keyed by activity_no.

`xiaobao import education FILE` follows every rule of the import framework (encodings, Chinese
headers, idempotent upsert, changes recorded, error file, --strict, --dry-run, one JSON summary).
Its own rules are those of the activity form (education.services.activity_problems), applied row by
row: a negative reach, or a reach above the population of the unit's region (the configurable
ReachLimit), refuses that row, with its number, column and reason; the other rows are imported.
"""

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from xiaobao.education.models import Activity, Audience, Mode
from xiaobao.education.services import ReachLimits, activity_problems, campaign_normalize
from xiaobao.imports.engine import Importer, in_batches
from xiaobao.imports.registry import register
from xiaobao.imports.spec import Change, Column, ImportSpec, Key, Record, RowError
from xiaobao.lib.parsing import enum_parser, parse_amount, parse_date, parse_int, text_parser
from xiaobao.org.models import Unit

CODE_LENGTH = Unit._meta.get_field("code").max_length
_COST = Activity._meta.get_field("cost")
COST_LIMIT = Decimal(10) ** (_COST.max_digits - _COST.decimal_places)


def _cost(value: Any) -> Decimal:
    """An amount that fits Activity.cost: a larger one is a column slip, and no database stores it."""
    cost = parse_amount(value)
    if abs(cost) >= COST_LIMIT:
        raise ValueError(f"费用 {cost} 元超过上限 {COST_LIMIT - Decimal('0.01'):,} 元, 可能是列错位")
    return cost


MODE_ALIASES = {
    "offline": Mode.OFFLINE,
    "offline event": Mode.OFFLINE,
    "线下活动": Mode.OFFLINE,
    "video": Mode.VIDEO,
    "短视频": Mode.VIDEO,
    "article": Mode.ARTICLE,
    "original article": Mode.ARTICLE,
    "以案说险": Mode.ARTICLE,
    "原创": Mode.ARTICLE,
    "piece": Mode.PIECE,
    "published piece": Mode.PIECE,
    "宣传稿": Mode.PIECE,
    "稿件": Mode.PIECE,
    "media": Mode.MEDIA,
    "media report": Mode.MEDIA,
    "媒体": Mode.MEDIA,
}
AUDIENCE_ALIASES = {
    "elderly": Audience.ELDERLY,
    "老人": Audience.ELDERLY,
    "youth": Audience.YOUTH,
    "学生": Audience.YOUTH,
    "new citizens": Audience.NEW_CITIZENS,
    "rural": Audience.RURAL,
    "农民": Audience.RURAL,
    "other": Audience.OTHER,
}
FIELDS = ("date", "mode", "campaign", "title", "location", "audience", "reach", "cost")


@register
class EducationImporter(Importer):
    spec = ImportSpec(
        kind="education",
        label=gettext_noop("金融教育活动"),
        key=("activity_no",),
        extra=True,
        columns=[
            Column("activity_no", ("活动编号",), text_parser(max_length=64), required=True),
            Column("date", ("活动日期", "日期"), parse_date, required=True),
            Column(
                "mode",
                ("形式", "活动形式"),
                enum_parser(Mode, aliases=MODE_ALIASES, name="形式"),
                required=True,
            ),
            Column("campaign", ("所属活动", "活动名称"), text_parser(max_length=50)),
            Column("title", ("主题", "标题"), text_parser(max_length=200), required=True),
            Column("location", ("地点", "活动地点"), text_parser(max_length=200)),
            Column(
                "audience", ("受众", "受众群体"), enum_parser(Audience, aliases=AUDIENCE_ALIASES, name="受众")
            ),
            Column("reach", ("触达人数", "参与人数"), parse_int, required=True),
            Column("cost", ("费用", "活动费用"), _cost),
            Column("org_code", ("机构代码",), text_parser(max_length=CODE_LENGTH), required=True),
        ],
    )
    chunk_size = 5000

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limits = ReachLimits()  # read once per import, never per row
        self.today = timezone.localdate()
        self._units: dict[str, Unit | None] = {}

    def _unit(self, code: str) -> Unit:
        if code not in self._units:
            self._units[code] = Unit.objects.filter(code=code).first()
        unit = self._units[code]
        if unit is None:
            raise RowError("org_code", f"机构 {code} 不存在：请先导入机构")
        return unit

    def validate_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """The activity form's rules, one row at a time: the first broken rule names its column."""
        if row.get("campaign") is not None:
            row["campaign"] = campaign_normalize(row["campaign"]) or None
        unit = self._unit(row["org_code"]) if row.get("org_code") else None
        problems = activity_problems(
            unit=unit,
            mode=row.get("mode") or "",
            reach=row.get("reach"),
            location=row.get("location") or "",
            date=row.get("date"),
            cost=row.get("cost"),
            limits=self.limits,
            today=self.today,
        )
        for column in ("reach", "location", "date", "cost"):
            if column in problems:
                raise RowError(column, str(problems[column]))
        return row

    def existing(self, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        stored: dict[Key, dict[str, Any]] = {}
        for part in in_batches([key[0] for key in keys]):
            for row in Activity.objects.filter(activity_no__in=part).values(
                "pk", "activity_no", *FIELDS, "unit__code", "extra"
            ):
                before = {name: row[name] for name in ("activity_no", *FIELDS)}
                before.update(org_code=row["unit__code"], _pk=row["pk"])
                for name, value in (row["extra"] or {}).items():
                    before[f"extra.{name}"] = value
                stored[(row["activity_no"],)] = before
        return stored

    def apply(self, *, created: list[Record], updated: list[Change]) -> None:
        batch_id = getattr(self.batch, "pk", None)
        actor = getattr(self.batch, "actor", None)
        if created:
            Activity.objects.bulk_create(
                [self._new(record.values, batch_id, actor) for record in created], batch_size=1000
            )
        if updated:
            stored = Activity.objects.in_bulk([change.before["_pk"] for change in updated])
            now = timezone.now()
            changed = []
            for change in updated:
                activity = stored[change.before["_pk"]]
                values = change.record.values
                for name in FIELDS:
                    if name in values:
                        setattr(activity, name, _stored(name, values[name]))
                if "org_code" in values:
                    activity.unit = self._units[values["org_code"]]
                activity.extra = _extra(dict(activity.extra or {}), values)
                activity.source_batch_id = batch_id
                activity.updated_at = now
                changed.append(activity)
            Activity.objects.bulk_update(
                changed, [*FIELDS, "unit", "extra", "source_batch", "updated_at"], batch_size=500
            )

    def _new(self, values: dict[str, Any], batch_id: int | None, actor: Any) -> Activity:
        return Activity(
            activity_no=values["activity_no"],
            unit=self._units[values["org_code"]],
            **{name: _stored(name, values.get(name)) for name in FIELDS},
            extra=_extra({}, values),
            source_batch_id=batch_id,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )


def _stored(name: str, value: Any) -> Any:
    """Blank text columns are stored as "", blank numbers as None."""
    if value is None and name in ("campaign", "location", "audience", "title"):
        return ""
    return value


def _extra(extra: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    for name, value in values.items():
        if name.startswith("extra."):
            attribute = name[6:]
            if value is None:
                extra.pop(attribute, None)
            else:
                extra[attribute] = value
    return extra
