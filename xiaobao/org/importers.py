"""机构 (units) import: the `units` format of data-formats.md, keyed by code.

Rows refer to each other (a unit names its parent, which may come later in the file or already be
in the system), so the whole file is one chunk and the tree is checked as it will be after the
import: every parent must exist, the parent links must not loop, and every unit's level must be
allowed under its parent's level. The level rules are asked of Unit.clean() itself, so an import can
never accept what the unit form or unit_save() would refuse.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_noop

from xiaobao.imports.engine import Importer, in_batches
from xiaobao.imports.registry import register
from xiaobao.imports.spec import Change, Column, ImportSpec, Key, Record, RowError
from xiaobao.lib.parsing import enum_parser, text_parser
from xiaobao.org.models import Unit, UnitLevel
from xiaobao.org.services import unit_save

CODE_LENGTH = Unit._meta.get_field("code").max_length
NAME_LENGTH = Unit._meta.get_field("name").max_length
UNKNOWN = "unknown"  # verdict of a parent code found neither in the file nor in the system


def unit_rule_error(*, code: str, level: str, parent_level: str | None) -> tuple[str, str] | None:
    """(column, reason) when Unit.clean() refuses a unit of `level` under a parent of `parent_level`."""
    probe = Unit(code=code, level=level)
    if parent_level is not None:
        # A stand-in parent: clean() reads its level, and its path only for cycles, which are
        # checked on the whole future tree instead. pk=0 only says "there is a parent".
        probe.parent = Unit(pk=0, level=parent_level, path="")
    try:
        probe.clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        return ("code" if field == "code" else "parent_code", "; ".join(messages))
    return None


@register
class UnitImporter(Importer):
    spec = ImportSpec(
        kind="units",
        label=gettext_noop("机构"),
        key=("code",),
        columns=[
            Column("code", ("机构代码",), text_parser(max_length=CODE_LENGTH), required=True),
            Column("name", ("机构名称",), text_parser(max_length=NAME_LENGTH), required=True),
            Column("parent_code", ("上级机构代码",), text_parser(max_length=CODE_LENGTH)),
            Column("level", ("机构层级",), enum_parser(UnitLevel, name="机构层级"), required=True),
        ],
    )
    chunk_size = None  # a child may come before its parent: the whole file is one chunk

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._file: dict[str, Record] = {}
        self._stored: dict[str, dict[str, Any]] = {}  # code → stored unit, for the file's codes
        self._outside: dict[str, dict[str, Any]] = {}  # parents named by the file, not in it
        # code → stored parent code, for every unit on the stored paths the import touches: a path
        # names all of a unit's ancestors, so loops through units outside the file are seen too.
        self._stored_parent: dict[str, str | None] = {}

    # ------------------------------------------------------------ hooks

    def validate_row(self, row: dict[str, Any]) -> dict[str, Any]:
        if row.get("parent_code") and row["parent_code"] == row["code"]:
            raise RowError("parent_code", "上级机构不能是本机构")
        return row

    def existing(self, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        codes = [key[0] for key in keys]
        stored = {}
        for part in in_batches(codes):
            for unit in Unit.objects.filter(code__in=part).values(
                "pk", "code", "name", "level", "path", "parent__code"
            ):
                unit["parent_code"] = unit.pop("parent__code")
                stored[(unit["code"],)] = unit
        return stored

    def validate_records(self, *, records: list[Record], existing: dict[Key, dict[str, Any]]) -> None:
        """1. Load the parents the file names but does not contain.
        2. Walk every unit's future parent chain: unknown parents and loops are refused.
        3. Until nothing changes: check each unit's level under its future parent, parents first,
           and check that a level change leaves the unit's remaining children allowed.
        """
        self._file = {record.key[0]: record for record in records}
        self._stored = {key[0]: unit for key, unit in existing.items()}
        named = {r.values.get("parent_code") for r in records if r.values.get("parent_code")}
        wanted = sorted(named - self._file.keys())
        for part in in_batches(wanted):
            for unit in Unit.objects.filter(code__in=part).values("pk", "code", "level", "path"):
                self._outside[unit["code"]] = unit
        for unit in [*self._stored.values(), *self._outside.values()]:
            chain = unit["path"].strip("/").split("/")
            for parent, child in zip([None, *chain], chain, strict=False):
                self._stored_parent.setdefault(child, parent)
        self._check_structure()
        children = self._stored_children()
        while True:
            rejected = sum(1 for r in records if r.rejected)
            self._check_levels()
            self._check_children(children)
            if sum(1 for r in records if r.rejected) == rejected:
                return

    def apply(self, *, created: list[Record], updated: list[Change]) -> None:
        """1. Renames and level changes in one bulk update (a moved unit's new parent may rely on its
           new level, so these go first).
        2. Layer by layer down the future tree: create the new units in bulk under their parents'
           current paths, then move the units whose parent changed with unit_save(), which
           rewrites their subtree's paths.
        """
        writing = {r.key[0]: r for r in created} | {c.record.key[0]: c.record for c in updated}
        moved = {c.record.key[0] for c in updated if "parent_code" in c.changes}
        now = timezone.now()
        renamed = [
            Unit(pk=self._stored[code]["pk"], name=r.values["name"], level=r.values["level"], updated_at=now)
            for code, r in ((c.record.key[0], c.record) for c in updated)
            if code not in moved
        ]
        if renamed:
            Unit.objects.bulk_update(renamed, ["name", "level", "updated_at"], batch_size=500)
        for layer in self._layers(writing):
            new = [code for code in layer if code not in self._stored]
            if new:
                self._create(new)
            for code in layer:
                if code in moved:
                    self._move(code)

    # ------------------------------------------------------------ the future tree

    def _parent(self, code: str) -> str | None:
        """The unit's parent after this import: the file's, else the stored one."""
        record = self._file.get(code)
        if record is not None and "parent_code" in record.values:
            return record.values["parent_code"] or None
        return self._stored_parent.get(code)

    def _level(self, code: str) -> str:
        record = self._file.get(code)
        if record is not None:
            return record.values["level"]
        return self._outside[code]["level"]

    def _check_structure(self) -> None:
        """Every unit's future chain of parents must end at a root: no unknown parent, no loop."""
        verdict: dict[str, str | None] = {}  # code → None (placed) or why it cannot be placed

        def settle(start: str) -> None:
            trail: list[str] = []
            position: dict[str, int] = {}
            code: str | None = start
            while code is not None:
                if code in verdict:
                    break
                if code in position:
                    loop = trail[position[code] :]
                    text = " → ".join([*loop, code])
                    for member in loop:
                        verdict[member] = f"上级关系成环: {text}"
                    trail = trail[: position[code]]
                    break
                record = self._file.get(code)
                if record is not None and record.rejected:
                    verdict[code] = f"见第 {record.first_row} 行"
                    break
                if record is None and code not in self._stored_parent:
                    verdict[code] = UNKNOWN
                    break
                position[code] = len(trail)
                trail.append(code)
                code = self._parent(code)
            # Each unit on the trail inherits from its parent, nearest the failure first.
            outcome = verdict.get(code) if code is not None else None
            for member in reversed(trail):
                if outcome is None:
                    verdict[member] = None
                    continue
                if outcome == UNKNOWN:
                    verdict[member] = f"上级机构 {code} 不存在：本文件和系统中都没有"
                else:
                    where = self._file[code].first_row if code in self._file else None
                    verdict[member] = f"上级机构 {code} 未能导入" + (
                        f" (见第 {where} 行)" if where else f": {outcome}"
                    )
                outcome, code = verdict[member], member

        for code, record in self._file.items():
            if record.rejected:
                continue
            settle(code)
            if verdict.get(code) is not None:
                record.reject("parent_code", verdict[code])

    def _depth(self, code: str, within: dict[str, Record], memo: dict[str, int]) -> int:
        chain = []
        while code in within and code not in memo:
            chain.append(code)
            code = self._parent(code) or ""
        depth = memo.get(code, -1)
        for member in reversed(chain):
            depth += 1
            memo[member] = depth
        return depth

    def _check_levels(self) -> None:
        accepted = {code: r for code, r in self._file.items() if not r.rejected}
        memo: dict[str, int] = {}
        for code in sorted(accepted, key=lambda c: self._depth(c, accepted, memo)):
            record = self._file[code]
            parent = self._parent(code)
            if parent is not None and parent in self._file and self._file[parent].rejected:
                record.reject(
                    "parent_code", f"上级机构 {parent} 未能导入 (见第 {self._file[parent].first_row} 行)"
                )
                continue
            problem = unit_rule_error(
                code=code, level=record.values["level"], parent_level=self._level(parent) if parent else None
            )
            if problem is not None:
                record.reject(*problem)

    def _stored_children(self) -> list[tuple[str, str, str]]:
        """(code, level, parent code) of stored children of units whose level the file changes."""
        changing = [
            code
            for code, r in self._file.items()
            if code in self._stored and r.values.get("level") not in (None, self._stored[code]["level"])
        ]
        children = []
        for part in in_batches(changing):
            children.extend(
                Unit.objects.filter(parent__code__in=part).values_list("code", "level", "parent__code")
            )
        return children

    def _check_children(self, children: list[tuple[str, str, str]]) -> None:
        """A level change must leave allowed every child that stays under the unit."""
        for child, child_level, parent in children:
            record = self._file[parent]
            staying = child not in self._file or self._file[child].rejected
            if record.rejected or not staying:
                continue
            problem = unit_rule_error(code=child, level=child_level, parent_level=record.values["level"])
            if problem is not None:
                record.reject(
                    "level", f"改为 {record.values['level']} 后，下级机构 {child} 不再合规: {problem[1]}"
                )

    # ------------------------------------------------------------ writing

    def _layers(self, writing: dict[str, Record]) -> list[list[str]]:
        memo: dict[str, int] = {}
        layers: dict[int, list[str]] = {}
        for code in writing:
            layers.setdefault(self._depth(code, writing, memo), []).append(code)
        return [layers[depth] for depth in sorted(layers)]

    def _create(self, codes: list[str]) -> None:
        parents = {p for p in (self._parent(code) for code in codes) if p}
        current = {}
        for part in in_batches(sorted(parents)):
            current.update(
                {
                    code: (pk, path)
                    for code, pk, path in Unit.objects.filter(code__in=part).values_list("code", "pk", "path")
                }
            )
        units = []
        for code in codes:
            values = self._file[code].values
            unit = Unit(code=code, name=values["name"], level=values["level"])
            parent = self._parent(code)
            if parent:
                pk, path = current[parent]
                unit.parent = Unit(pk=pk, code=parent, path=path)
            unit.path = unit.compute_path()
            units.append(unit)
        Unit.objects.bulk_create(units, batch_size=500)

    def _move(self, code: str) -> None:
        # Fetched now, not earlier: a move above this unit may just have rewritten both paths.
        parent = self._parent(code)
        fresh = Unit.objects.in_bulk([code, parent] if parent else [code], field_name="code")
        unit = fresh[code]
        values = self._file[code].values
        unit.name, unit.level = values["name"], values["level"]
        unit.parent = fresh[parent] if parent else None
        unit_save(unit=unit)
