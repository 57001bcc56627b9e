import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xiaobao.kpi.tests.expressions_required import REQUIRED
from xiaobao.kpi.tests.scenario import make_scenario_cases, write_scenario

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("kpi", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def scenario(tree, make_case):
    write_scenario()
    make_scenario_cases(make_case)
    return tree


def test_json_is_an_object_keyed_by_kpi_id(scenario):
    data = json.loads(run("--period", "2024")[0])
    assert set(REQUIRED) <= set(data)
    for kpi, entry in data.items():
        assert set(entry) == {"value", "numerator", "denominator", "definition"}, kpi
        assert entry["definition"]
    assert data["complaints_count"]["value"] == 4
    assert data["persistency_13m"]["numerator"] == 4000 and data["persistency_13m"]["denominator"] == 6800
    assert 0 < data["persistency_13m"]["value"] < 1


def test_by_adds_groups_and_unit_scopes(scenario):
    data = json.loads(run("--period", "2024Q3", "--unit", "C1", "--by", "month")[0])
    groups = data["complaints_count"]["groups"]
    assert [g["key"] for g in groups] == ["2024-07", "2024-08", "2024-09"]
    assert set(groups[0]) == {"key", "value", "numerator", "denominator"}
    assert data["quality_index"]["groups"] is not None
    channel = json.loads(run("--period", "2024", "--by", "channel")[0])
    assert {g["key"] for g in channel["persistency_13m"]["groups"]} >= {"个险", "银保"}
    assert channel["quality_index"]["groups"] is None


def test_table_format(scenario):
    out = run("--period", "2024-07", "--format", "table")[0]
    assert "期间 2024-07 (2024-07-01 至 2024-07-31)" in out
    assert "13个月保费继续率" in out and "persistency_13m" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--period", "2024Q5"], "期间格式应为 2024、2024Q3 或 2024-07"),
        (["--period", "2024-13"], "期间格式应为"),
        (["--period", "2024", "--unit", "NOPE"], "未找到机构代码 “NOPE”"),
        ([], "请用 --period 指定期间"),
        (["--recompute", "999"], "未找到快照 #999"),
    ],
)
def test_errors_are_clear_chinese_messages(tree, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_bad_period_exits_non_zero_from_the_command_line(tree, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["xiaobao", "kpi", "--period", "24Q1"]).execute()
    assert exit_info.value.code != 0
    assert "期间格式应为" in capsys.readouterr().err


def test_freeze_recompute_and_compare_from_the_command_line(scenario):
    from xiaobao.kpi.models import KpiSnapshot

    out, err = run("--period", "2024", "--unit", "C1", "--freeze")
    snapshot = KpiSnapshot.objects.get()
    assert f"已冻结为快照 #{snapshot.pk}" in err
    assert json.loads(out)["complaints_count"]["value"] == 3
    out, err = run("--recompute", str(snapshot.pk))
    fresh = KpiSnapshot.objects.latest("pk")
    assert fresh.recomputed_from == snapshot and fresh.results == snapshot.results
    out = run("--compare", str(snapshot.pk), str(fresh.pk), "--format", "table")[0]
    assert "0 项指标不同" in out
    assert f"#{snapshot.pk}" in run("--snapshots")[0]
