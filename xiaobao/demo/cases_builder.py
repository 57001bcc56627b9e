"""Demo cases: a realistic branch year of hotline work orders and complaints, with their history.

Volumes follow a mid-sized life-insurance branch: about 3,000 hotline work orders and 150
complaints a year, no regulator-forwarded complaint in 2024 (the seed summary's 零转办), most
decided well inside the clock, a few extended, paused, withdrawn or merged, and in the last weeks
before today an open queue with cases due today, overdue and (across New Year) provisional.

Rows are written in bulk with their clocks computed by the same code as live cases; per-case
services would take minutes and would fill the audit trail with seed noise.
"""

import datetime as dt
import random

from django.utils import timezone

from xiaobao.accounts.models import Role, User
from xiaobao.cases import clocks
from xiaobao.cases.models import (
    Case,
    CaseEvent,
    Contact,
    Extension,
    Pause,
    PlanStep,
    Rectification,
    RectificationStatus,
    RootCause,
)
from xiaobao.customers.models import Customer
from xiaobao.lib.workdays import WorkCalendar, add_workdays
from xiaobao.org.models import Unit

PRODUCTS = [
    ("P1001", "瀚海福享终身寿险(分红型)"),
    ("P1002", "瀚海鑫享年金保险"),
    ("P1003", "瀚海安康重大疾病保险"),
    ("P1004", "瀚海金账户两全保险(万能型)"),
    ("P1005", "瀚海护航医疗保险"),
    ("P1006", "瀚海少儿成长年金保险"),
]
WORK_ORDER_TEXTS = {
    "咨询": [
        "客户来电咨询{product}的现金价值及退保损失计算方式。",
        "客户咨询生存金领取时间和领取方式，已告知可通过官网/APP 或柜面办理。",
        "客户咨询保单贷款的额度、利率和还款方式。",
        "客户咨询理赔所需材料，其家属因肺炎住院治疗，准备申请医疗保险金。",
        "客户咨询如何变更续期缴费银行账号。",
        "客户咨询{product}能否追加保费以及追加后的账户价值。",
    ],
    "求助": [
        "客户因手机号变更无法接收验证码登录 APP, 请求协助变更预留手机号。",
        "客户年事已高行动不便，请求上门办理生存金领取手续。",
        "客户保单原件遗失，请求补发保单。",
        "客户反映续期扣款失败，请求协助重新扣款以免保单失效。",
    ],
    "建议": [
        "客户建议在 APP 增加理赔进度实时查询功能。",
        "客户建议柜面增加老年人专用服务窗口和老花镜等便民设施。",
        "客户建议保单年度报告增加分红实现率说明。",
    ],
    "表扬": [
        "客户来电表扬理赔专员服务热情、两天内完成赔付。",
        "客户表扬柜面人员耐心讲解保单条款，帮助其了解犹豫期权利。",
        "客户表扬客服专员帮助其找回多年前购买的保单。",
    ],
}
COMPLAINT_TEXTS = {
    "销售纠纷": [
        "客户反映 {year} 年通过业务员购买{product}时，业务员称该产品“保本保息、随时可取”, 现急需用钱发现退保损失较大，要求全额退保。",
        "客户称投保时业务员未告知犹豫期及退保损失，投保单上的签名非本人书写，要求撤销合同并退还全部保费。",
        "客户反映在银行网点办理存款时被推荐购买{product}, 误以为是定期存款，要求退还保费。",
    ],
    "理赔纠纷": [
        "客户称其母亲因脑梗住院，申请理赔后被告知属于既往症不予赔付，对理赔结论不认可，要求重新审核。",
        "客户反映重疾理赔已提交资料二十多天仍未结案，要求尽快赔付。",
        "客户对医疗费用部分给付的计算方式有异议，认为自费药品也应赔付。",
    ],
    "退保纠纷": [
        "客户要求退保，对现金价值远低于已交保费不理解，认为投保时未被告知退保损失。",
        "客户称家庭经济困难无力续缴，要求全额退还{product}已交保费。",
        "客户接到自称“维权机构”的电话后要求全额退保，并表示将向监管部门投诉。",
    ],
    "保全纠纷": [
        "客户办理受益人变更已超过 5 个工作日仍未完成，要求尽快办理并说明原因。",
        "客户申请部分领取万能账户价值，到账金额与预期不符。",
    ],
    "续期纠纷": [
        "客户反映续期保费扣款失败后未收到任何提醒，保单进入宽限期，担心保单失效。",
        "客户称业务员离职后无人提供续期服务，对服务断档不满。",
    ],
    "服务质量": [
        "客户反映多次拨打 4008 热线排队时间过长，对服务效率不满。",
        "客户反映柜面人员服务态度生硬，未能耐心解释问题。",
    ],
    "其他": ["客户对公司频繁推销电话不满，要求停止营销来电。"],
}
CATEGORY_WEIGHTS = {
    "销售纠纷": 35,
    "理赔纠纷": 20,
    "退保纠纷": 20,
    "保全纠纷": 10,
    "续期纠纷": 5,
    "服务质量": 8,
    "其他": 2,
}
ROOT_BY_CATEGORY = {
    "销售纠纷": "sales",
    "理赔纠纷": "claims",
    "退保纠纷": "sales",
    "保全纠纷": "servicing",
    "续期纠纷": "process",
    "服务质量": "process",
    "其他": "other",
}
WORK_ORDER_KINDS = {"咨询": 60, "求助": 25, "建议": 8, "表扬": 7}
WORK_ORDER_CHANNELS = {"4008热线": 80, "柜面": 10, "官网/APP": 5, "微信": 5}
COMPLAINT_CHANNELS = {"4008热线": 60, "柜面": 20, "信函": 10, "官网/APP": 5, "微信": 5}
CONTACT_OUTCOMES = [
    "已电话联系客户，了解诉求并解释处理流程",
    "客户同意等待核实结果",
    "已上门拜访客户，当面说明处理意见",
    "已向客户解释条款约定，客户表示理解",
    "客户对处理方案表示认可",
]


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _received(rng: random.Random, cal: WorkCalendar, day: dt.date, hotline: bool) -> dt.datetime:
    """Mostly office hours on working days; the hotline also rings evenings and holidays."""
    working, _ = cal.is_workday(day)
    if working or hotline:
        hour = (
            rng.choice([9, 9, 10, 10, 11, 14, 15, 16, 17])
            if rng.random() > 0.12
            else rng.choice([8, 18, 19, 20])
        )
    else:
        hour = rng.choice([10, 11, 15])
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, rng.randrange(60))))


class CaseBook:
    def __init__(self, rng: random.Random, units: dict, today: dt.date):
        self.rng = rng
        self.today = today
        self.cal = WorkCalendar()
        # Complaints are the 中心支公司's (or the branch's) to handle; work orders go to customer service.
        self.complaint_units = [u for code, u in units.items() if len(code) == 6 and code[4:].isdigit()]
        self.branch = units["8637"]
        self.work_units = [u for code, u in units.items() if code.endswith("KF")]
        self.claims_unit = units["8637LP"]
        users = [
            u
            for u in User.objects.select_related("unit")
            if u.unit and u.has_role(Role.HANDLER, Role.OFFICER)
        ]
        self.handlers = {}
        for unit in [*self.complaint_units, self.branch, *self.work_units, self.claims_unit]:
            # A handler must be able to see the case: their unit is the case's unit or above it.
            able = [u for u in users if unit.path.startswith(u.unit.path)]
            deepest = max((u.unit.depth for u in able), default=0)
            self.handlers[unit.pk] = [u for u in able if u.unit.depth == deepest] or able
        self.customers = list(Customer.objects.values_list("pk", "unit_id"))
        self.roots = {r.code: r for r in RootCause.objects.all()}
        self.cases, self.events, self.contacts, self.steps, self.extensions, self.pauses = (
            [],
            [],
            [],
            [],
            [],
            [],
        )
        self.seq = {}

    def _unit_path(self, unit_id: int) -> str:
        if not hasattr(self, "_paths"):
            self._paths = dict(Unit.objects.values_list("pk", "path"))
        return self._paths[unit_id]

    def _case_no(self, kind: str, day: dt.date) -> str:
        prefix = ("TS" if kind == "投诉" else "GD") + day.strftime("%Y%m%d")
        self.seq[prefix] = self.seq.get(prefix, 0) + 1
        return f"{prefix}-{self.seq[prefix]:04d}"

    def _days(self, year: int, until: dt.date):
        day = dt.date(year, 1, 1)
        while day.year == year and day <= until:
            yield day
            day += dt.timedelta(days=1)

    def build_year(self, year: int, work_orders: int, complaints: int, regulator: int = 0) -> None:
        last = min(dt.date(year, 12, 31), self.today)
        days = list(self._days(year, last))
        share = len(days) / 366
        for _ in range(int(work_orders * share)):
            self._case(self.rng.choice(days), complaint=False)
        for _ in range(int(complaints * share)):
            self._case(self.rng.choice(days), complaint=True)
        for _ in range(regulator):
            self._case(self.rng.choice(days), complaint=True, channel="监管转办")

    def _case(
        self, day: dt.date, *, complaint: bool, channel: str | None = None, state: str | None = None
    ) -> Case:
        rng = self.rng
        kind = "投诉" if complaint else _pick(rng, WORK_ORDER_KINDS)
        channel = channel or _pick(rng, COMPLAINT_CHANNELS if complaint else WORK_ORDER_CHANNELS)
        if complaint:
            unit = rng.choice(self.complaint_units) if rng.random() < 0.85 else self.branch
        else:
            unit = rng.choice(self.work_units)
        category = _pick(rng, CATEGORY_WEIGHTS) if complaint else ""
        product_code, product = rng.choice(PRODUCTS)
        texts = COMPLAINT_TEXTS[category] if complaint else WORK_ORDER_TEXTS[kind]
        description = rng.choice(texts).format(product=product, year=day.year - rng.randrange(1, 6))
        received = _received(rng, self.cal, day, channel == "4008热线")
        customer_pool = [
            pk for pk, unit_id in self.customers if unit.path.startswith(self._unit_path(unit_id))
        ] or [pk for pk, _ in self.customers]
        case = Case(
            case_no=self._case_no(kind, day),
            kind=kind,
            channel=channel,
            unit=unit,
            handler=rng.choice(self.handlers.get(unit.pk) or [None]),
            customer_id=rng.choice(customer_pool) if complaint or rng.random() < 0.5 else None,
            policy_no=f"8637{rng.randrange(10**11):011d}" if rng.random() < 0.8 else "",
            category=category,
            urgent=rng.random() < (0.08 if complaint else 0.04),
            claims_related=category == "理赔纠纷" or (not complaint and "理赔" in description),
            description=description,
            received_at=received,
            regulator_ref=f"鲁金访{day:%Y}{rng.randrange(10000):05d}" if channel == "监管转办" else "",
        )
        case.extra = {"product": product_code}
        self._history(case, state or self._state_for(day), product_code)
        self.cases.append(case)
        return case

    def _state_for(self, day: dt.date) -> str:
        """Older cases are closed; the last week still has a working queue, as a real desk does."""
        age = (self.today - day).days
        if age > 14 or (age > 7 and self.rng.random() < 0.97):
            return "closed"
        if age > 2:
            return self.rng.choice(["受理", "处理中", "处理中", "已决定", "closed", "closed", "closed"])
        return self.rng.choice(["登记", "受理", "受理", "处理中"])

    def _history(self, case: Case, state: str, product_code: str) -> None:
        """Walk the case through its states with plausible timestamps, and derive its clocks."""
        rng = self.rng
        t = case.received_at
        level = 0
        pauses = []
        if case.kind == "投诉" and state != "登记" and rng.random() < 0.06:
            level = 1 if rng.random() < 0.8 else 2
        if (
            case.kind == "投诉"
            and state in ("closed", "已决定", "暂停")
            and rng.random() < 0.05
            or state == "暂停"
        ):
            start = min(
                timezone.localtime(t).date() + dt.timedelta(days=rng.randrange(2, 5)),
                self.today - dt.timedelta(days=1),
            )
            end = None if state == "暂停" else start + dt.timedelta(days=rng.randrange(3, 12))
            pauses.append((start, end))
        facts = clocks.ClockFacts(
            kind=case.kind,
            channel=case.channel,
            urgent=case.urgent,
            received_at=t,
            extension_level=level,
            pauses=pauses,
            today=self.today,
        )
        result = clocks.compute(facts, self.cal)
        case.due_date, case.deadline_rule = result.due_date, result.rule
        case.deadline_provisional, case.response_due_date = result.provisional, result.response_due_date
        case.paused_days, case.extension_level = result.paused_days, level
        events = [("create", "", "登记", t)]
        if state == "登记":
            case.status = "登记"
            self._keep(case, events)
            return
        t += dt.timedelta(minutes=rng.randrange(5, 90))
        events.append(("accept", "登记", "受理", t))
        case.responded_at = t
        if state == "受理":
            case.status = "受理"
            self._keep(case, events)
            return
        t += dt.timedelta(minutes=rng.randrange(10, 240))
        events.append(("start", "受理", "处理中", t))
        for start, end in pauses:
            start_at = timezone.make_aware(dt.datetime.combine(start, dt.time(10)))
            events.append(("pause", "处理中", "暂停", start_at))
            self.pauses.append(
                (
                    case,
                    Pause(
                        reason_kind="外部鉴定",
                        note="伤残/病历鉴定",
                        started_at=start_at,
                        ended_at=timezone.make_aware(dt.datetime.combine(end, dt.time(15))) if end else None,
                    ),
                )
            )
            if end:
                events.append(
                    ("resume", "暂停", "处理中", timezone.make_aware(dt.datetime.combine(end, dt.time(15))))
                )
        if state in ("处理中", "暂停"):
            case.status = state
            self._keep(case, events)
            return
        # Decide: complaints mostly within 3–12 days, work orders within their target; a few late.
        received_day = timezone.localtime(case.received_at).date()
        if case.kind == "投诉":
            span = rng.choice([3, 5, 6, 7, 8, 9, 10, 12]) + case.paused_days + (15 if level else 0)
            decide_day = received_day + dt.timedelta(days=span)
            if rng.random() < 0.03:
                decide_day = case.due_date + dt.timedelta(days=rng.randrange(1, 4))
        else:
            decide_day = (
                add_workdays(self.cal, received_day, rng.choice([0, 1, 1, 2, 3, 4])).date
                if rng.random() > 0.03
                else case.due_date + dt.timedelta(days=2)
            )
            decide_day = max(decide_day, received_day)
        decided = max(
            t + dt.timedelta(minutes=30),
            timezone.make_aware(
                dt.datetime.combine(decide_day, dt.time(rng.randrange(9, 17), rng.randrange(60)))
            ),
        )
        if decided.date() > self.today:
            decided = t + dt.timedelta(hours=1)
        case.decided_at = decided
        case.on_time = clocks.met(decided, case.due_date)
        if case.kind == "投诉":
            amount = rng.choice([None, None, rng.randrange(500, 30000)])
            case.decision = rng.choice(
                [
                    "经核实，业务员存在销售误导行为，同意为客户办理全额退保。",
                    "经核实，公司理赔结论符合合同约定，维持原理赔决定，并向客户详细解释条款。",
                    "经协商，公司按现金价值为客户办理退保，并对服务不到位向客户致歉。",
                    "经复核，补充赔付医疗费用，已通知客户领取。",
                ]
            )
            case.decision_amount = amount
            case.remedy = rng.choice(["退还保费", "补充赔付", "解释说明并致歉", ""])
            if level:
                self.extensions.append((case, level))
        events.append(("decide", events[-1][2], "已决定", decided))
        if state == "已决定":
            case.status = "已决定"
            self._keep(case, events)
            return
        notified = decided + dt.timedelta(hours=rng.randrange(1, 30))
        closed = notified + dt.timedelta(hours=rng.randrange(1, 48))
        if closed.date() > self.today:
            notified = closed = decided + dt.timedelta(minutes=30)
        events.append(("notify", "已决定", "已告知", notified))
        if case.kind == "投诉":
            case.root_cause = self.roots[ROOT_BY_CATEGORY[case.category]]
            case.root_unit = case.unit
            case.root_product_code = product_code
            case.root_agent_code = f"A8637{rng.randrange(1, 60):04d}" if case.category == "销售纠纷" else ""
            events.append(("root_cause", "", "", notified + dt.timedelta(minutes=10)))
        events.append(("close", "已告知", "已办结", closed))
        case.status, case.notified_at, case.closed_at = "已办结", notified, closed
        case.outcome = "已向客户告知处理结果"
        case.satisfaction = rng.choice(["满意", "满意", "满意", "基本满意", "不满意", ""])
        self._keep(case, events)

    def _keep(self, case: Case, events) -> None:
        case._demo_events = events  # written after the case has a primary key

    def add_current_queue(self) -> None:
        """The desk today: open cases of the last three weeks, some due today, some overdue, one
        extended across New Year (its deadline is provisional: next year's holidays are unknown)."""
        rng = self.rng
        for back in (3, 8, 12):
            self._case(
                self.today - dt.timedelta(days=back), complaint=True, state=rng.choice(["受理", "处理中"])
            )
        overdue = self._case(self.today - dt.timedelta(days=24), complaint=True, state="处理中")
        overdue.description = "客户多次来电催办退保款，称已等待三周仍无结果，情绪激动，表示将向监管部门投诉。"
        self._case(self.today - dt.timedelta(days=40), complaint=True, state="暂停")
        extended = self._case(self.today - dt.timedelta(days=20), complaint=True, state="受理")
        facts = clocks.ClockFacts(
            kind="投诉",
            channel=extended.channel,
            urgent=False,
            received_at=extended.received_at,
            extension_level=2,
            today=self.today,
        )
        result = clocks.compute(facts, self.cal)
        extended.extension_level = 2
        extended.due_date, extended.deadline_rule, extended.deadline_provisional = (
            result.due_date,
            result.rule,
            result.provisional,
        )
        self.extensions.append((extended, 2))
        for _ in range(3):
            urgent = self._case(self.today, complaint=False, state="登记")
            urgent.urgent = True
            urgent.response_due_date = clocks.compute(
                clocks.ClockFacts(
                    kind=urgent.kind,
                    channel=urgent.channel,
                    urgent=True,
                    received_at=urgent.received_at,
                    today=self.today,
                ),
                self.cal,
            ).response_due_date
        # Two duplicates merged into an original, and one withdrawn complaint.
        original = self._case(self.today - dt.timedelta(days=30), complaint=True, state="closed")
        for _ in range(2):
            dup = self._case(self.today - dt.timedelta(days=29), complaint=True, state="受理")
            dup.status, dup.closed_at, dup._merge_into = (
                "已合并",
                dup.received_at + dt.timedelta(hours=2),
                original,
            )
            dup._demo_events.append(("merge", "受理", "已合并", dup.closed_at))
        withdrawn = self._case(self.today - dt.timedelta(days=50), complaint=True, state="受理")
        withdrawn.status, withdrawn.closed_at = "已撤诉", withdrawn.received_at + dt.timedelta(days=2)
        withdrawn._demo_events.append(("withdraw", "受理", "已撤诉", withdrawn.closed_at))

    def save(self, approver: User) -> dict:
        Case.objects.bulk_create(self.cases, batch_size=1000)
        by_no = {c.case_no: c for c in self.cases}
        for case in self.cases:
            if getattr(case, "_merge_into", None) is not None:
                case.merged_into = by_no[case._merge_into.case_no]
        Case.objects.bulk_update(
            [c for c in self.cases if c.merged_into_id or getattr(c, "_merge_into", None)], ["merged_into"]
        )
        events, contacts, steps = [], [], []
        for case in self.cases:
            for action, frm, to, at in case._demo_events:
                events.append(
                    CaseEvent(
                        case=case, at=at, actor=case.handler, action=action, from_status=frm, to_status=to
                    )
                )
            if case.kind == "投诉" and case.status not in ("登记",):
                first = case.received_at + dt.timedelta(hours=self.rng.randrange(1, 20))
                for i in range(self.rng.randrange(1, 4)):
                    at = first + dt.timedelta(days=i * 2)
                    if at.date() <= self.today:
                        contacts.append(
                            Contact(
                                case=case,
                                at=at,
                                method=self.rng.choice(["电话", "电话", "上门", "接访"]),
                                outcome=self.rng.choice(CONTACT_OUTCOMES),
                                actor=case.handler,
                            )
                        )
                day = timezone.localtime(case.received_at).date()
                steps += [
                    PlanStep(
                        case=case,
                        due_date=day + dt.timedelta(days=1),
                        action="1 个工作日内联系客户，了解诉求",
                        owner=case.handler,
                        done_at=case.responded_at,
                    ),
                    PlanStep(
                        case=case,
                        due_date=day + dt.timedelta(days=5),
                        action="调取投保资料和双录影像核实销售过程",
                        owner=case.handler,
                        done_at=case.decided_at,
                    ),
                ]
        CaseEvent.objects.bulk_create(events, batch_size=2000)
        Contact.objects.bulk_create(contacts, batch_size=2000)
        PlanStep.objects.bulk_create(steps, batch_size=2000)
        Extension.objects.bulk_create(
            [
                Extension(
                    case=c,
                    level=lv,
                    reason="案情复杂，需调取双录资料并协调总公司核实",
                    approver=approver,
                    approved_at=c.received_at + dt.timedelta(days=10),
                )
                for c, level in self.extensions
                for lv in range(1, level + 1)
            ]
        )
        for case, pause in self.pauses:
            pause.case = case
        Pause.objects.bulk_create([pause for _case, pause in self.pauses])
        return {"cases": len(self.cases), "events": len(events)}


def build_rectifications(rng: random.Random, owner: User, officer: User, today: dt.date) -> int:
    """Rectifications for the systemic causes of 2024's complaints: most verified, one ineffective."""
    count = 0
    for root_code, product_code, title in [
        ("sales", "P1001", "规范分红险销售话术，禁止“保本保息”等误导性表述"),
        ("sales", "P1004", "银保渠道万能险产品说明会材料整改"),
        ("claims", "P1003", "重疾理赔资料一次性告知清单"),
        ("process", "", "热线高峰时段排班优化"),
        ("servicing", "", "受益人变更时效提速"),
    ]:
        cases = list(
            Case.objects.filter(kind="投诉", root_cause__code=root_code, received_at__year=2024).filter(
                root_product_code=product_code
            )
            if product_code
            else Case.objects.filter(kind="投诉", root_cause__code=root_code, received_at__year=2024)
        )[:8]
        if not cases:
            continue
        verified = timezone.make_aware(dt.datetime(2024, 11, 20, 10))
        rect = Rectification.objects.create(
            title=title,
            root_cause=cases[0].root_cause,
            unit=cases[0].unit,
            product_code=product_code,
            owner=owner,
            due_date=dt.date(2024, 11, 15),
            measures="已修订相关制度与材料，完成全员培训并留存签到表。",
            status=RectificationStatus.VERIFIED,
            verified_by=officer,
            verified_at=verified,
            verification_note="抽查整改后业务，未再发现同类问题",
            watch_days=180,
        )
        rect.cases.set(cases)
        count += 1
    open_rect = Rectification.objects.create(
        title="续期扣款失败短信提醒机制",
        root_cause=RootCause.objects.get(code="process"),
        unit=owner.unit,
        owner=owner,
        due_date=today + dt.timedelta(days=20),
        measures="",
    )
    return count + (1 if open_rect else 0)
