"""A small hand-made book whose every figure is computed by hand in test_expressions.py.

Evaluation: period 2024 (evaluation date 2024-12-31, start = 2023-12-31), today 2025-01-15.
13-month cohort 2022-12-01..2023-11-30; 25-month cohort 2021-12-01..2022-11-30.
"""

import datetime as dt
from decimal import Decimal

from xiaobao.kpi.tests.book import D, claim, policy, premium, surrender, write_book

TODAY = D(2025, 1, 15)


def write_scenario() -> dict[str, str]:
    P = policy
    policies = [
        P(
            "A",
            effective_date=D(2023, 3, 15),
            annual_premium=Decimal("1000"),
            sum_assured=Decimal("100000"),
            insured_id_no_token="PERSON1",
        ),
        P(
            "B",
            effective_date=D(2023, 6, 1),
            annual_premium=Decimal("2000"),
            sum_assured=Decimal("50000"),
            status="失效",
            status_date=D(2024, 8, 1),
        ),
        P(
            "C",
            effective_date=D(2023, 9, 10),
            payment_mode="趸交",
            payment_years=1,
            annual_premium=Decimal("5000"),
            sum_assured=Decimal("80000"),
            insured_id_no_token="PERSON1",
        ),
        P(
            "D",
            effective_date=D(2023, 5, 5),
            annual_premium=Decimal("3000"),
            sum_assured=Decimal("200000"),
            status="退保",
            status_date=D(2024, 7, 3),
            channel="银保",
        ),
        P(
            "E",
            effective_date=D(2023, 7, 1),
            annual_premium=Decimal("4000"),
            status="犹豫期撤单",
            status_date=D(2023, 7, 10),
        ),
        P(
            "F",
            effective_date=D(2023, 8, 1),
            annual_premium=Decimal("6000"),
            sum_assured=Decimal("10000"),
            channel="团险",
        ),
        P("G", effective_date=D(2024, 2, 1), annual_premium=Decimal("1500"), sum_assured=Decimal("30000")),
        P(
            "H",
            effective_date=D(2022, 12, 1),
            payment_mode="月交",
            payment_years=20,
            annual_premium=Decimal("1200"),
            sum_assured=Decimal("0"),
            status="理赔终止",
            status_date=D(2024, 10, 1),
        ),
        P(
            "I",
            org_code="C2",
            channel="银保",
            effective_date=D(2023, 11, 30),
            payment_years=5,
            annual_premium=Decimal("800"),
            sum_assured=None,
        ),
        P("J", effective_date=D(2023, 12, 1), annual_premium=Decimal("999"), sum_assured=Decimal("20000")),
        P(
            "K",
            effective_date=D(2022, 1, 15),
            annual_premium=Decimal("2500"),
            sum_assured=Decimal("60000"),
            agent_code="A2",
        ),
        P(
            "L",
            effective_date=D(2022, 6, 30),
            annual_premium=Decimal("500"),
            sum_assured=Decimal("30000"),
            status="效力中止",
            status_date=D(2024, 5, 1),
        ),
        P(
            "M",
            effective_date=D(2022, 3, 1),
            payment_mode="趸交",
            payment_years=1,
            annual_premium=Decimal("9000"),
            sum_assured=Decimal("40000"),
            insured_id_no_token=None,
        ),
        P(
            "Q",
            effective_date=D(2020, 1, 1),
            annual_premium=Decimal("100"),
            sum_assured=Decimal("1000"),
            status="退保",
            status_date=D(2023, 11, 1),
        ),
        P(
            "R",
            effective_date=D(2024, 3, 1),
            annual_premium=Decimal("700"),
            sum_assured=Decimal("7000"),
            status="退保",
            status_date=D(2024, 9, 1),
        ),
    ]
    premiums = [
        premium("A", 1, D(2023, 3, 15)),
        premium("A", 2, D(2024, 3, 20)),
        premium("B", 1, D(2023, 6, 1), "2000"),
        premium("B", 2, D(2024, 7, 10), "2000"),  # after effective + 13 months (2024-07-01): late
        premium("D", 1, D(2023, 5, 5), "3000"),
        premium("D", 2, D(2024, 5, 1), "3000"),
        premium("G", 1, D(2024, 2, 1), "1500"),
        premium("I", 1, D(2023, 11, 30), "800"),
        premium("I", 2, D(2024, 12, 31), "800"),  # effective + 13 months is 2024-12-30: one day late
        premium("J", 1, D(2023, 12, 1), "999"),
        premium("K", 1, D(2022, 1, 15), "2500"),
        premium("K", 2, D(2023, 1, 15), "2500"),
        premium("K", 3, D(2024, 1, 20), "2500"),  # by effective + 25 months (2024-02-15): on time
        premium("L", 1, D(2022, 6, 30), "500"),
        premium("R", 1, D(2024, 3, 1), "700"),
    ]
    # R's first-year premium counts too: premiums received in 2024 = 1000+2000+3000+1500+800+2500+700.
    surrenders = [
        surrender("D", D(2024, 7, 3), "3500", full_refund=True),
        surrender("Q", D(2023, 11, 1)),
        surrender("R", D(2024, 9, 1), full_refund=None),
    ]
    claims = [
        claim(
            "CL1",
            "A",
            docs_complete_date=D(2024, 3, 5),
            decision_date=D(2024, 3, 10),
            payment_date=D(2024, 3, 12),
            decision="正常给付",
        ),
        claim(
            "CL2",
            "C",
            docs_complete_date=D(2024, 6, 1),
            decision_date=D(2024, 6, 20),
            payment_date=D(2024, 7, 5),
            decision="部分给付",
        ),
        claim(
            "CL3",
            "F",
            docs_complete_date=D(2024, 8, 1),
            decision_date=D(2024, 8, 5),
            payment_date=None,
            decision="拒赔",
        ),
        claim(
            "CL4",
            "J",
            docs_complete_date=D(2024, 9, 1),
            decision_date=D(2024, 9, 3),
            payment_date=None,
            decision="撤案",
        ),
        claim(
            "CL5",
            "K",
            docs_complete_date=D(2023, 12, 20),
            decision_date=D(2023, 12, 28),
            payment_date=D(2024, 1, 3),
            decision="正常给付",
        ),
        claim(
            "CL6",
            "I",
            docs_complete_date=D(2024, 10, 1),
            decision_date=D(2024, 10, 5),
            payment_date=D(2024, 10, 6),
            decision="正常给付",
        ),
        claim(
            "CL7",
            "L",
            docs_complete_date=D(2024, 12, 20),
            decision_date=None,
            payment_date=None,
            decision=None,
        ),
    ]
    return write_book(policies=policies, premiums=premiums, surrenders=surrenders, claims=claims)


def make_scenario_cases(make_case, customer=None) -> None:
    T = dt.datetime
    make_case(received=T(2023, 12, 20, 9), policy_no="A")  # K8: before the period; makes K1 a repeat
    make_case(received=T(2024, 3, 1, 10), policy_no="A", on_time=True, decided_at=T(2024, 3, 10, 9))  # K1
    make_case(
        received=T(2024, 5, 1, 10),
        channel="监管转办",
        policy_no="C",
        on_time=False,
        decided_at=T(2024, 5, 30, 9),
        extension_level=1,
        claims_related=True,
    )  # K2
    make_case(received=T(2024, 7, 10, 10), status="已撤诉")  # K3: withdrawn
    make_case(received=T(2024, 7, 20, 10), status="已合并", channel="柜面")  # K4: merged duplicate
    make_case(received=T(2024, 8, 1, 10), kind="咨询")  # K5: not a complaint
    make_case(received=T(2024, 12, 30, 10), status="处理中", channel="微信", due_date=D(2025, 1, 14))  # K6
    make_case(
        "C2", received=T(2024, 6, 1, 10), policy_no="I", on_time=True, decided_at=T(2024, 6, 5, 9)
    )  # K7
    # Urgent work orders
    make_case(
        received=T(2024, 4, 1, 9),
        kind="咨询",
        urgent=True,
        response_due_date=D(2024, 4, 1),
        responded_at=T(2024, 4, 1, 15),
    )
    make_case(
        received=T(2024, 4, 2, 18),
        kind="求助",
        urgent=True,
        response_due_date=D(2024, 4, 3),
        responded_at=T(2024, 4, 5, 9),
    )
    make_case(
        received=T(2024, 12, 31, 20), kind="求助", urgent=True, response_due_date=D(2025, 1, 2), status="受理"
    )
    # Overdue at 2024-12-31
    make_case(received=T(2024, 11, 1, 9), kind="咨询", status="处理中", due_date=D(2024, 11, 10))  # O2 ✓
    make_case(
        received=T(2024, 10, 1, 9), kind="求助", due_date=D(2024, 10, 16), decided_at=T(2025, 1, 5, 9)
    )  # O3 ✓
    make_case(received=T(2024, 10, 1, 9), kind="求助", status="已撤诉", due_date=D(2024, 12, 1))  # O4 ✗
    make_case(received=T(2023, 6, 1, 9), kind="咨询", status="处理中", due_date=D(2023, 6, 16))  # O5 ✓
    make_case(
        received=T(2024, 12, 1, 9), kind="咨询", status="暂停", due_date=D(2024, 12, 10)
    )  # O6 ✓ (not paused today)
