"""导入配置 (import profiles): map an outside export onto a canonical format without code.

A profile is a small JSON (or YAML) file named `<name>.json` in `<data dir>/profiles/` (a site's
own) or in `xiaobao/imports/profiles/` (shipped with the product); the data folder wins, so a site
can adapt a shipped profile. The keys, all optional except `kind`:

    {
      "kind": "cases",                              the format this export is mapped onto
      "columns": {"Complaint number": "case_no",    outside header → canonical column;
                  "Company": null},                 null: known, deliberately ignored
      "values": {"kind": {"Complaint": "投诉"}},     per column: outside value → canonical value
      "constants": {"channel": "监管转办"},          columns the export lacks, same for every row
      "date_format": "%m/%d/%Y",                    strptime pattern(s), for all or per column
      "key": ["case_no"],                           the natural key, if not the format's own
      "multi_valued": {"reason": "; "},             columns holding several values: separator in a cell
      "on_conflict": "reject",                      rows of one record disagree: reject | first | last
      "sheet": "Sheet1",                            the worksheet of an .xlsx
      "templates": {"case_no": "TX-{Nr}",          a column built from the row's cells (see below)
                    "description": ["{Text}", "{Reason}[ / {Subreason}]"]},
      "extra": {"Timely response?": "timely"},      further columns kept as extra attributes
      "options": {"units": {"create": true}}        settings of the format's importer, checked by it
    }

Value maps: a key with `*` is a pattern (`*` = any text), tried in the profile's order after the
exact keys; `"*"` alone is the default for every value not mapped otherwise.

Templates: `{Header}` is that cell of the row (header matched like any header); `[...]` is kept
only when every placeholder inside it has a value; an alternative whose placeholders outside `[...]`
are not all filled is skipped, and of a list of alternatives the first that renders is used (a
plain text alternative is the default). The rendered text is then read like a cell of the column.

multi_valued on a text column (description, outcome): the different values of a record's rows are
all kept, in file order, joined with the separator.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from xiaobao.imports.spec import ImportRefused, ImportSpec
from xiaobao.lib.parsing import parse_text

PACKAGE_PROFILES = Path(__file__).resolve().parent / "profiles"
SUFFIXES = (".json", ".yaml", ".yml")
# A name, never a path: the web form passes it through, and it must not reach outside the folders.
NAME_RE = re.compile(r"[\w\-.\u4e00-\u9fff]{1,64}")
CONFLICT_POLICIES = ("reject", "first", "last")
KNOWN_KEYS = {"name", "kind", "description", "columns", "values", "constants", "date_format", "key"}
KNOWN_KEYS |= {"multi_valued", "on_conflict", "sheet", "templates", "extra", "options"}
# A template: literal text, {placeholders} naming the row's headers, and optional [sections].
_TEMPLATE_TOKEN = re.compile(r"\{([^{}\[\]]*)\}|\[|\]|[^{}\[\]]+|[{}]")

TemplatePart = tuple[str, Any]  # ("text", str) | ("field", header) | ("group", tuple of parts)


def template_parse(text: str) -> tuple[TemplatePart, ...]:
    """`"{Issue}[ / {Sub-issue}]"` → parts; ValueError (Chinese) when the template is malformed."""
    parts: list[TemplatePart] = []
    group: list[TemplatePart] | None = None
    for match in _TEMPLATE_TOKEN.finditer(text):
        token = match.group(0)
        if match.group(1) is not None:
            name = match.group(1).strip()
            if not name:
                raise ValueError(f"模板 {text!r} 中有空的占位符 {{}}")
            part: TemplatePart = ("field", name)
        elif token == "[":
            if group is not None:
                raise ValueError(f"模板 {text!r} 中的 [ ] 不能嵌套")
            group = []
            continue
        elif token == "]":
            if group is None:
                raise ValueError(f"模板 {text!r} 中的 ] 没有对应的 [")
            if not any(kind == "field" for kind, _ in group):
                raise ValueError(f"模板 {text!r} 中的 [ ] 里应有占位符 {{列名}}")
            parts.append(("group", tuple(group)))
            group = None
            continue
        elif token in "{}":
            raise ValueError(f"模板 {text!r} 中的 {{ }} 不成对")
        else:
            part = ("text", token)
        (group if group is not None else parts).append(part)
    if group is not None:
        raise ValueError(f"模板 {text!r} 中的 [ 没有对应的 ]")
    return tuple(parts)


def template_fields(parts: tuple[TemplatePart, ...]) -> list[str]:
    """The headers a parsed template reads, in order."""
    fields: list[str] = []
    for kind, value in parts:
        if kind == "field":
            fields.append(value)
        elif kind == "group":
            fields.extend(template_fields(value))
    return fields


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str
    columns: dict[str, str | None] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "" = every date column
    key: tuple[str, ...] | None = None
    multi_valued: dict[str, str | None] = field(default_factory=dict)
    on_conflict: str = "reject"
    sheet: str | None = None
    source: str = ""
    # column → its alternatives, each parsed by template_parse
    templates: dict[str, tuple[tuple[TemplatePart, ...], ...]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)  # outside header → extra attribute name
    options: dict[str, Any] = field(default_factory=dict)  # for the importer, which checks them

    def date_formats_for(self, column: str) -> tuple[str, ...]:
        return self.date_formats.get(column) or self.date_formats.get("", ())


# The profile used when none is named: the canonical format as data-formats.md writes it.
def profile_default(kind: str) -> Profile:
    return Profile(name="", kind=kind)


def profile_dirs() -> list[Path]:
    return [Path(settings.DATA_DIR) / "profiles", PACKAGE_PROFILES]


def profile_find(name: str) -> Path:
    if not NAME_RE.fullmatch(name) or name.startswith("."):
        raise ImportRefused(f"导入配置名 {name!r} 无效: 只能包含字母、数字、汉字、下划线和连字符")
    stem = name.removesuffix(".json").removesuffix(".yaml").removesuffix(".yml")
    for folder in profile_dirs():
        for suffix in SUFFIXES:
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                return path
    searched = "、".join(str(folder) for folder in profile_dirs())
    raise ImportRefused(f"找不到导入配置 {name!r} (已查找: {searched})")


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportRefused(f"无法读取导入配置 {path}: {exc}") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ImportRefused(f"导入配置 {path.name} 不是有效的 JSON: {exc}") from None
    else:
        try:
            import yaml  # only YAML profiles need it; drf-spectacular already installs PyYAML
        except ImportError:
            raise ImportRefused(f"导入配置 {path.name} 是 YAML 格式, 但未安装 PyYAML: 请改用 JSON") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ImportRefused(f"导入配置 {path.name} 不是有效的 YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ImportRefused(f"导入配置 {path.name} 应为一个对象 (键值对)")
    return data


def _str_map(data: Any, what: str, where: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ImportRefused(f"导入配置 {where}: {what} 应为对象 (键值对)")
    return data


def _formats(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ImportRefused(f"导入配置 {where}: date_format 应为字符串或字符串列表")


def profile_parse(data: dict[str, Any], *, spec: ImportSpec, name: str, source: str = "") -> Profile:
    """Check a profile against the format it claims to map onto; every mistake is named."""
    where = name or source
    problems: list[str] = []
    unknown_keys = sorted(set(data) - KNOWN_KEYS)
    if unknown_keys:
        problems.append(f"未知的配置项 {', '.join(unknown_keys)}")
    kind = data.get("kind")
    if kind != spec.kind:
        problems.append(f"kind 应为 {spec.kind!r}, 实际为 {kind!r}")

    def check_column(column: Any, what: str) -> None:
        if column not in spec.by_name:
            problems.append(f"{what} 中的列 {column!r} 不是 {spec.kind} 格式的列")

    columns = _str_map(data.get("columns"), "columns", where)
    for target in columns.values():
        if target is not None:
            check_column(target, "columns")
    values: dict[str, dict[str, str]] = {}
    for column, mapping in _str_map(data.get("values"), "values", where).items():
        check_column(column, "values")
        values[column] = {str(k): str(v) for k, v in _str_map(mapping, f"values.{column}", where).items()}
    constants = {str(k): str(v) for k, v in _str_map(data.get("constants"), "constants", where).items()}
    for column in constants:
        check_column(column, "constants")

    date_formats: dict[str, tuple[str, ...]] = {}
    raw_formats = data.get("date_format")
    if isinstance(raw_formats, dict):
        for column, value in raw_formats.items():
            check_column(column, "date_format")
            date_formats[column] = _formats(value, where)
    elif raw_formats is not None:
        date_formats[""] = _formats(raw_formats, where)

    key = None
    if data.get("key") is not None:
        raw_key = data["key"]
        key = (raw_key,) if isinstance(raw_key, str) else tuple(raw_key)
        if key not in (spec.key, *spec.alternate_keys):
            allowed = " 或 ".join("+".join(k) for k in (spec.key, *spec.alternate_keys))
            problems.append(f"key 应为 {allowed}, 实际为 {'+'.join(map(str, key))}")

    raw_multi = data.get("multi_valued") or {}
    if isinstance(raw_multi, list):
        raw_multi = dict.fromkeys(raw_multi)
    multi = _str_map(raw_multi, "multi_valued", where)
    for column in multi:
        check_column(column, "multi_valued")
        found = spec.by_name.get(column)
        # A text column may collect the values of a record's rows; any other column holds one value.
        if found is not None and not found.multi and found.parser is not parse_text:
            problems.append(f"列 {column} 在 {spec.kind} 格式中只能有一个值, 不能设为多值")

    on_conflict = data.get("on_conflict", "reject")
    if on_conflict not in CONFLICT_POLICIES:
        problems.append(f"on_conflict 应为 {' / '.join(CONFLICT_POLICIES)}, 实际为 {on_conflict!r}")
    sheet = data.get("sheet")
    if sheet is not None and not isinstance(sheet, str):
        problems.append("sheet 应为工作表名称")

    templates: dict[str, tuple[tuple[TemplatePart, ...], ...]] = {}
    for column, raw in _str_map(data.get("templates"), "templates", where).items():
        check_column(column, "templates")
        if column in constants:
            problems.append(f"列 {column} 不能既有固定值 (constants) 又有模板 (templates)")
        alternatives = [raw] if isinstance(raw, str) else raw
        if (
            not isinstance(alternatives, list)
            or not alternatives
            or not all(isinstance(a, str) for a in alternatives)
        ):
            problems.append(f"templates.{column} 应为模板字符串或字符串列表")
            continue
        try:
            templates[column] = tuple(template_parse(a) for a in alternatives)
        except ValueError as exc:
            problems.append(f"templates.{column}: {exc}")

    raw_extra = data.get("extra") or {}
    if isinstance(raw_extra, list):
        raw_extra = {header: header for header in raw_extra if isinstance(header, str)}
    extra = {str(k): str(v or k) for k, v in _str_map(raw_extra, "extra", where).items()}
    if extra and not spec.extra:
        problems.append(f"{spec.kind} 格式不保存附加列 (extra)")
    if len(set(extra.values())) != len(extra):
        problems.append("extra 中有重复的属性名")
    options = _str_map(data.get("options"), "options", where)

    if problems:
        raise ImportRefused(f"导入配置 {where} 无效: " + "; ".join(problems))
    return Profile(
        name=name,
        kind=spec.kind,
        columns=columns,
        values=values,
        constants=constants,
        date_formats=date_formats,
        key=key,
        multi_valued=multi,
        on_conflict=on_conflict,
        sheet=sheet,
        source=source,
        templates=templates,
        extra=extra,
        options=options,
    )


def profile_load(*, name: str, spec: ImportSpec) -> Profile:
    """Find the profile called `name` and check it against `spec`; ImportRefused says what is wrong."""
    path = profile_find(name)
    return profile_parse(_read(path), spec=spec, name=path.stem, source=str(path))
