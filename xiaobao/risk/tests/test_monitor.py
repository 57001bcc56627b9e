"""The surrender monitor: an agent whose surrenders and full refunds jump raises alerts explained in
Chinese; steady series raise none."""

import datetime as dt
import json
from io import StringIO

import numpy as np
from django.core.management import call_command

from xiaobao.risk.monitor import _bh, parse_period, surrender_monitor
from xiaobao.risk.tests.factories import people, write_book

PERIOD = dt.date(2025, 6, 1)


def steady_book(jump: bool):
    """Six agents with two surrenders a month for a year; in June 2025 agent A6 has 14, 12 of them
    full refunds, when jump is set."""
    rng = np.random.default_rng(7)
    policies, surrenders = [], []
    serial = 0
    for month in range(13):
        first = dt.date(2024 + (5 + month) // 12, (5 + month) % 12 + 1, 1)
        for agent in range(1, 7):
            n = 14 if (jump and agent == 6 and month == 12) else 2
            for k in range(n):
                person = people("测", 1, serial)[0]
                serial += 1
                number = f"8637M{serial:07d}"
                full = jump and agent == 6 and month == 12 and k < 12
                day = first + dt.timedelta(days=int(rng.integers(0, 27)))
                effective = day - dt.timedelta(days=int(rng.integers(400, 3000)))
                policies.append({"policy_no": number, **person, "agent": f"A{agent}", "effective": effective})
                surrenders.append({"policy_no": number, "apply_date": day, "full": full})
    write_book(policies, surrenders)


def test_a_jumping_agent_raises_explained_alerts(db):
    steady_book(jump=True)
    result = surrender_monitor(PERIOD, ["agent"])
    tests = {a["test"] for a in result["alerts"] if a["value"] == "A6"}
    assert tests == {"history", "share", "full_refund"}
    assert {a["value"] for a in result["alerts"]} == {"A6"}
    history = next(a for a in result["alerts"] if a["test"] == "history")
    assert history["unit"] == "C1"
    assert history["explanation"].startswith(
        "业务员 A6 2025-06 退保 14 件, 过去 12 个月月均 2.0 件 (泊松检验"
    )
    row = next(s for s in result["series"] if s["value"] == "A6")
    assert row == {
        "dimension": "agent",
        "value": "A6",
        "month": "2025-06",
        "count": 14,
        "amount": 42000.0,
        "full_refunds": 12,
        "full_refund_share": 0.8571,
        "history_mean": 2.0,
    }


def test_steady_series_raise_nothing(db):
    steady_book(jump=False)
    result = surrender_monitor(PERIOD)
    assert result["alerts"] == []
    assert {s["dimension"] for s in result["series"]} == {
        "unit",
        "channel",
        "product",
        "agent",
        "policy_year",
        "apply_channel",
    }


def test_cli_surrenders_json(db):
    steady_book(jump=True)
    out = StringIO()
    call_command("risk", "surrenders", "--period", "2025-06", "--by", "agent,unit", stdout=out)
    data = json.loads(out.getvalue())
    assert data["period"] == "2025-06" and data["by"] == ["agent", "unit"]
    assert any(a["value"] == "A6" for a in data["alerts"])


def test_an_empty_book_has_no_series(db):
    assert surrender_monitor(PERIOD)["series"] == []


def test_benjamini_hochberg():
    adjusted = _bh(np.array([0.01, 0.04, 0.03, 0.5]))
    assert np.allclose(adjusted, [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])


def test_parse_period():
    assert parse_period("2025-06") == dt.date(2025, 6, 1)


def test_the_scan_saves_series_alerts_in_the_unit_of_the_series(tree):
    from xiaobao.risk.models import Alert, AlertKind
    from xiaobao.risk.services import scan_run

    steady_book(jump=True)
    scan_run(as_of=dt.date(2025, 7, 3))
    alerts = Alert.objects.filter(kind=AlertKind.SERIES)
    assert alerts.exists() and {a.unit.code for a in alerts} == {"C1"}
    assert all(a.period == "2025-06" and a.reasons for a in alerts)
    assert alerts.filter(title__startswith="业务员 A6 2025-06").exists()
