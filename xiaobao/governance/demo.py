"""Demo governance for the branch: the committee's monthly meetings with resolutions and action items,
高管讲消保, the year's plans approved by the unit head, a rules library with versions, emergency drills,
business-quality issues and bulletins, from 2024 to today.

Rows are written directly with their historical dates (a service stamps "now"), and only through
this module, so the audit trail holds no seed noise. Everything comes from a random.Random derived
from the demo seed, so a seed gives the same governance whatever other builders draw. Volumes are a
branch's (a dozen meetings a year), so `scale` does not change them.
"""

import datetime as dt
import hashlib
import random
from types import SimpleNamespace

from django.core.files.base import ContentFile
from django.utils import timezone

from xiaobao.accounts.models import User
from xiaobao.cases.models import Case, work_calendar
from xiaobao.governance.models import (
    ActionEvent,
    ActionEvidence,
    ActionItem,
    ActionStatus,
    Bulletin,
    BulletinReceipt,
    BulletinStatus,
    Drill,
    DrillStatus,
    ExecutiveTalk,
    Meeting,
    MeetingStatus,
    Plan,
    PlanEvent,
    PlanFile,
    PlanKind,
    PlanStatus,
    QualityEvent,
    QualityIssue,
    QualityStatus,
    Resolution,
    Rule,
    RuleStatus,
    RuleVersion,
)
from xiaobao.org.models import Unit

BRANCH = "8637"
CENTRAL = ["01", "02", "03", "04", "05", "06"]
CITY = {"01": "jn", "02": "qd", "03": "yt", "04": "wf", "05": "ly", "06": "jnx"}

# month → (agenda, [(resolution, [action titles])]); owners are drawn per action.
MONTHS = {
    1: (
        "1. 审议《{y}年消费者权益保护工作计划》《{y}年金融教育宣传计划》\n2. 通报上年度投诉处理与溯源整改情况",
        [
            (
                "审议通过{y}年消保工作计划和金融教育宣传计划，由消保部印发执行",
                ["印发{y}年消保工作计划并分解至各部门、各中支"],
            ),
            ("上年度投诉集中的销售纠纷须逐件完成溯源整改", ["完成上年度销售纠纷类投诉溯源整改复盘报告"]),
        ],
    ),
    2: (
        "1. 部署“3·15”金融消费者权益日宣传活动\n2. 审议年度员工消保培训计划",
        [
            (
                "各中支于 3 月 15 日前至少开展 1 场线下集中宣传",
                ["制定“3·15”宣传活动方案并报送分公司", "准备“以案说险”宣传折页"],
            ),
            ("年度培训须覆盖全体员工，一季度完成监管政策解读培训", ["组织一季度监管政策解读培训"]),
        ],
    ),
    3: (
        "1. 通报“3·15”活动开展情况\n2. 一季度投诉分析\n3. 退保风险监测情况",
        [("针对代理退保风险，加强退保申请的身份核实与回访", ["修订退保申请回访话术并培训柜面人员"])],
    ),
    4: (
        "1. 一季度消保工作总结\n2. 消保审查工作情况\n3. 服务质量指标分析",
        [
            ("新产品及宣传材料未经消保审查不得上线", ["梳理在售产品宣传材料的审查记录"]),
            ("提升理赔时效，重点关注重疾理赔", ["分析一季度重疾理赔超时原因并提出改进措施"]),
        ],
    ),
    5: (
        "1. 部署“5·15”全国投资者保护宣传日活动\n2. 适当性管理自查",
        [("开展适当性管理自查，重点检查银保渠道", ["完成银保渠道适当性管理自查报告"])],
    ),
    6: (
        "1. 审议《消保突发事件应急预案》修订\n2. 部署年中应急演练\n3. 消保制度梳理",
        [
            ("6 月底前完成群体性投诉应急演练", ["制定应急演练脚本并组织演练"]),
            ("梳理现行消保制度，对照新规提出修订清单", ["形成消保制度修订清单"]),
        ],
    ),
    7: (
        "1. 上半年消保工作总结\n2. 消保监管评价自评准备",
        [("按监管评价要素分工准备自评材料", ["收集体制机制要素佐证材料", "收集纠纷化解要素佐证材料"])],
    ),
    8: (
        "1. 通报业务品质问题及整改情况\n2. 代理退保风险排查",
        [("对通报的业务品质问题限期整改并报送整改结果", ["督导各中支报送业务品质问题整改结果"])],
    ),
    9: (
        "1. 部署“金融知识普及月”活动\n2. 三季度投诉分析",
        [
            ("金融知识普及月期间各中支开展进社区、进乡村活动", ["汇总金融知识普及月活动台账"]),
            ("热线高峰时段增加坐席，降低排队时长", ["调整热线高峰时段排班"]),
        ],
    ),
    10: (
        "1. 通报金融知识普及月开展情况\n2. 消保内部审计发现问题整改",
        [("内部审计发现的问题于年底前整改完毕", ["完成内部审计问题整改台账"])],
    ),
    11: (
        "1. 年度应急演练评估\n2. 消保劳动竞赛与服务质量指标冲刺",
        [("聚焦保单继续率与理赔时效，落实服务质量考核要求", ["制定四季度服务质量提升措施"])],
    ),
    12: (
        "1. 年度消保工作总结\n2. 审议下一年度消保工作思路\n3. 制度修订计划",
        [
            ("形成年度消保工作总结并报总公司", ["起草年度消保工作总结"]),
            ("下一年度工作计划于 1 月上旬提交委员会审议", ["起草下一年度消保工作计划"]),
        ],
    ),
}
MINUTES = (
    "会议由{chair}主持，听取了消保部关于{month}月消保工作情况的汇报，讨论了议程所列事项。"
    "会议强调，要坚持“一把手”负责制，压实各部门、各中支主体责任，做到有诉即有责、件件有落实。"
)
TALKS = [
    ("坚持以人民为中心，做实做细消费者权益保护", "分公司总经理"),
    ("从投诉看经营：销售行为管理与“三适当”", "分公司副总经理"),
    ("有诉即有责：理赔服务中的消保要求", "中支总经理"),
    ("守住底线：代理退保风险防范", "中支总经理"),
    ("消保监管评价新办法与我们的差距", "分公司总经理"),
    ("个人信息保护人人有责", "分公司副总经理"),
]
PLAN_TEXT = {
    PlanKind.WORK: "一、总体目标：投诉按时办结率 100%, 监管转办零发生。\n二、重点工作：体制机制建设、消保审查、投诉管理与溯源整改、金融教育、员工培训、应急演练。\n三、职责分工与时间安排。",
    PlanKind.EDUCATION: "一、常态化宣传：营业柜面、宣传专栏、电子屏。\n二、集中宣传: “3·15”“5·15”“金融知识普及月”。\n三、线上宣传：原创视频与“以案说险”。",
    PlanKind.TRAINING: "一、培训对象：全体员工 (覆盖所有岗位)。\n二、培训内容：监管政策解读、消保制度、投诉处理技能、销售合规、个人信息保护。\n三、考核：培训后测试，覆盖率纳入考核。",
    PlanKind.EMERGENCY: "一、适用范围：群体性投诉、消保舆情、重大突发事件理赔。\n二、组织体系与响应流程。\n三、演练安排：每年至少两次。",
    PlanKind.REVIEW: "一、审查范围：新产品、宣传材料、合同条款、服务规则。\n二、审查时限与意见采纳跟踪。",
}
# (title, category, code, department, [(effective date, note)], repealed (date, reason) or None)
RULES = [
    (
        "消费者权益保护工作管理办法",
        "体制机制",
        "鲁分发〔2023〕8号",
        "消费者权益保护部",
        [
            (dt.date(2023, 3, 1), "依据《银行保险机构消费者权益保护管理办法》制定"),
            (dt.date(2024, 7, 1), "按监管评价要求完善委员会职责与“一把手”负责制"),
        ],
        None,
    ),
    (
        "消费投诉处理管理细则",
        "投诉处理",
        "鲁分发〔2023〕15号",
        "客户服务部",
        [
            (dt.date(2023, 5, 10), "整合原暂行规定，明确 15 日办理时限与延期审批"),
            (dt.date(2025, 3, 1), "增加核查程序与溯源整改要求"),
        ],
        None,
    ),
    (
        "客户投诉处理暂行规定",
        "投诉处理",
        "鲁分发〔2019〕21号",
        "客户服务部",
        [(dt.date(2019, 6, 1), "")],
        (dt.date(2023, 5, 10), "由《消费投诉处理管理细则》替代"),
    ),
    (
        "消费者权益保护审查实施细则",
        "消保审查",
        "鲁分发〔2023〕16号",
        "消费者权益保护部",
        [(dt.date(2023, 6, 1), "明确审查范围、时限与意见采纳跟踪")],
        None,
    ),
    (
        "个人信息保护管理办法",
        "个人信息保护",
        "鲁分发〔2023〕22号",
        "运营管理部",
        [(dt.date(2023, 9, 1), "分级分类管控与查看留痕"), (dt.date(2025, 11, 1), "补充合作机构信息安全条款")],
        None,
    ),
    (
        "金融教育宣传工作管理办法",
        "教育宣传",
        "鲁分发〔2024〕3号",
        "消费者权益保护部",
        [(dt.date(2024, 2, 1), "")],
        None,
    ),
    (
        "消保突发事件应急预案",
        "应急管理",
        "鲁分发〔2023〕18号",
        "消费者权益保护部",
        [(dt.date(2023, 8, 1), ""), (dt.date(2024, 6, 15), "增加代理退保群体性事件处置流程")],
        None,
    ),
    (
        "消保内部培训管理办法",
        "内部培训",
        "鲁分发〔2024〕5号",
        "综合管理部",
        [(dt.date(2024, 1, 15), "")],
        None,
    ),
    (
        "消保内部考核办法",
        "内部考核",
        "鲁分发〔2024〕6号",
        "综合管理部",
        [(dt.date(2024, 3, 1), ""), (dt.date(2026, 1, 1), "提高投诉与服务质量指标权重")],
        None,
    ),
]
DRILLS = [
    (
        6,
        18,
        "群体性投诉",
        "集中退保群体性投诉应急演练",
        "模拟 20 余名客户受“代理退保”机构煽动到中支柜面集中要求全额退保，现场情绪激动并拍摄视频。",
        "响应及时，分流接待有序；发现现场视频舆情监测滞后约 30 分钟，对代理退保话术的识别培训不足。",
        ["完善现场舆情监测与上报流程", "组织代理退保话术识别专项培训"],
    ),
    (
        11,
        12,
        "舆情事件",
        "理赔纠纷舆情应急演练",
        "模拟某客户在短视频平台发布重疾理赔被拒视频并引发转发，媒体来电采访。",
        "舆情发现与研判及时；对外口径审批环节偏长，理赔材料调阅需跨部门协调。",
        ["简化对外口径审批流程", "建立理赔争议案件材料快速调阅机制"],
    ),
]
ISSUES = [
    (
        "投诉台账",
        "销售行为",
        "较重",
        "银保渠道销售时夸大收益",
        "投诉反映银行网点人员将年金保险说成“定期存款”, 经调阅双录确认存在误导。",
    ),
    (
        "热线工单",
        "保全服务",
        "一般",
        "受益人变更办理超时",
        "热线工单显示受益人变更超过 5 个工作日未完成，系材料流转环节积压。",
    ),
    (
        "消保审查",
        "信息披露",
        "一般",
        "宣传折页未标明风险提示",
        "消保审查发现某中支自制宣传折页缺少产品风险提示和退保损失说明。",
    ),
    (
        "内部检查",
        "回访质量",
        "一般",
        "新单回访录音缺失",
        "抽检新单回访，发现 3 件回访录音缺失，回访质量无法追溯。",
    ),
    (
        "投诉台账",
        "理赔服务",
        "较重",
        "重疾理赔资料反复补充",
        "投诉反映理赔资料被要求多次补充，未一次性告知所需材料。",
    ),
]


class Ctx(SimpleNamespace):
    """What this builder needs from the demo builder's context (DemoContext), with fallbacks."""


def context(ctx) -> Ctx:
    """Read seed, today, units and users off the demo context, whatever its exact shape."""
    seed = getattr(ctx, "seed", None)
    if seed is None:
        seed = getattr(ctx, "rng", random.Random(0)).random()
    today = getattr(ctx, "today", None) or timezone.localdate()
    units = getattr(ctx, "units", None) or {}
    if not isinstance(units, dict):
        units = {u.code: u for u in units}
    units = units or {u.code: u for u in Unit.objects.all()}
    users = getattr(ctx, "users", None)
    if isinstance(users, dict):
        users = list(users.values())
    users = list(users) if users else list(User.objects.select_related("unit").order_by("pk"))
    return Ctx(
        seed=seed,
        today=today,
        units=units,
        users={u.username: u for u in users},
        scale=getattr(ctx, "scale", 1.0),
    )


def aware(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def pdf(title: str) -> bytes:
    """A small valid PDF naming the document: enough for the sniffing, hashing and download paths."""
    text = title.encode("unicode_escape").decode("ascii")
    body = f"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% {text}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    return body.encode("ascii")


def attach(attachment, name: str, data: bytes, uploader) -> None:
    digest = hashlib.sha256(data).hexdigest()
    attachment.original_name = name
    attachment.sha256 = digest
    attachment.content_type = "application/pdf"
    attachment.size = len(data)
    attachment.uploaded_by = uploader
    attachment.file.save(f"{digest}.pdf", ContentFile(data), save=False)
    attachment.save()


def workday_near(cal, day: dt.date) -> dt.date:
    """The working day on or before `day` (meetings and drills are held on working days)."""
    while not cal.is_workday(day)[0]:
        day -= dt.timedelta(days=1)
    return day


class Builder:
    def __init__(self, c: Ctx):
        self.c = c
        self.rng = random.Random(f"{c.seed}-governance")
        self.today = c.today
        self.cal = work_calendar()
        self.branch = c.units[BRANCH]
        u = c.users
        self.head = u["fgs_head"]
        self.officers = [u["xb_wang"], u["xb_li"]]
        self.owners = [
            u["xb_wang"],
            u["xb_li"],
            u["kf_zhao"],
            u["lp_chen"],
            *(u[f"{CITY[s]}_officer"] for s in CENTRAL),
        ]
        self.central_heads = [u[f"{CITY[s]}_head"] for s in CENTRAL]
        self.central_officers = [u[f"{CITY[s]}_officer"] for s in CENTRAL]
        self.counts = dict.fromkeys(
            [
                "meetings",
                "resolutions",
                "actions",
                "talks",
                "plans",
                "rules",
                "rule_versions",
                "drills",
                "issues",
                "bulletins",
            ],
            0,
        )

    # --- action items ------------------------------------------------------------------------------

    def action(
        self, *, title: str, owner, held_on: dt.date, resolution=None, drill=None, due=None, open_=False
    ) -> ActionItem:
        """An action item and its create event; closed with evidence when its dates say so, unless
        `open_` keeps it open (the items near today that the demo shows as overdue or due soon)."""
        due = due or held_on + dt.timedelta(days=self.rng.randint(12, 40))
        item = ActionItem.objects.create(
            resolution=resolution,
            drill=drill,
            title=title,
            unit=owner.unit,
            owner=owner,
            due_date=due,
            created_by=self.officers[0],
        )
        ActionEvent.objects.create(
            item=item,
            at=aware(held_on, 16),
            actor=self.officers[0],
            action="create",
            to_status="进行中",
            reason=title,
        )
        self.counts["actions"] += 1
        closed_on = None if open_ else self.closing_day(held_on, due)
        if closed_on is not None:
            self.close(item, closed_on)
        return item

    def closing_day(self, held_on: dt.date, due: dt.date) -> dt.date | None:
        """Most items are closed a few days before the due date, some late; recent ones still open."""
        if due < self.today - dt.timedelta(days=7):
            late = self.rng.random() < 0.15
            day = (
                due + dt.timedelta(days=self.rng.randint(1, 6))
                if late
                else due - dt.timedelta(days=self.rng.randint(0, 8))
            )
        elif held_on < self.today - dt.timedelta(days=10) and self.rng.random() < 0.4:
            day = min(due, self.today - dt.timedelta(days=1)) - dt.timedelta(days=self.rng.randint(0, 3))
        else:
            return None
        day = max(day, held_on + dt.timedelta(days=1))
        return day if day < self.today else None

    def close(self, item: ActionItem, day: dt.date) -> None:
        at = aware(day, 15, self.rng.randint(0, 59))
        evidence = ActionEvidence(item=item)
        attach(evidence, f"落实情况说明-{item.pk}.pdf", pdf(f"action {item.pk}"), item.owner)
        ActionEvidence.objects.filter(pk=evidence.pk).update(uploaded_at=at - dt.timedelta(hours=1))
        item.status, item.closed_at, item.closed_by = ActionStatus.DONE, at, item.owner
        item.closing_note = "已按决议要求落实，佐证材料见附件"
        item.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])
        ActionEvent.objects.bulk_create(
            [
                ActionEvent(
                    item=item,
                    at=at - dt.timedelta(hours=1),
                    actor=item.owner,
                    action="evidence",
                    reason=evidence.original_name,
                ),
                ActionEvent(
                    item=item,
                    at=at,
                    actor=item.owner,
                    action="close",
                    from_status="进行中",
                    to_status="已办结",
                    reason=item.closing_note,
                ),
            ]
        )

    # --- committee -----------------------------------------------------------------------------------

    def meetings(self, year: int) -> list[Meeting]:
        held = []
        n = 0
        for month in range(1, 13):
            day = workday_near(self.cal, dt.date(year, month, 24 if month != 2 else 22))
            if day > self.today + dt.timedelta(days=31):
                break
            n += 1
            agenda, resolutions = MONTHS[month]
            attendees = [self.head, *self.officers, self.c.users["kf_zhao"], self.c.users["lp_chen"]]
            attendees += self.rng.sample(self.central_heads, 2)
            is_held = day <= self.today
            meeting = Meeting.objects.create(
                unit=self.branch,
                title=f"{year}年第{n}次消保工作事务委员会",
                held_on=day,
                place="分公司 3 楼会议室",
                chair=self.head,
                agenda=agenda.format(y=year if month != 12 else year + 1),
                other_attendees="各部门负责人列席",
                minutes=MINUTES.format(chair=self.head, month=month) if is_held else "",
                status=MeetingStatus.HELD if is_held else MeetingStatus.PLANNED,
                created_by=self.officers[0],
            )
            meeting.attendees.set(attendees)
            self.counts["meetings"] += 1
            if not is_held:
                continue
            held.append(meeting)
            for number, (text, actions) in enumerate(resolutions, start=1):
                resolution = Resolution.objects.create(
                    meeting=meeting, number=number, text=text.format(y=year), created_by=self.officers[0]
                )
                self.counts["resolutions"] += 1
                for title in actions:
                    self.action(
                        title=title.format(y=year),
                        owner=self.rng.choice(self.owners),
                        held_on=day,
                        resolution=resolution,
                    )
        return held

    def near_today(self, held: list[Meeting]) -> None:
        """Make the latest meetings show what an officer follows up: overdue and due-soon items."""
        recent = [m for m in held if m.held_on < self.today - dt.timedelta(days=8)][-2:]
        if not recent:
            return
        last = recent[-1]
        resolution = last.resolutions.order_by("number").first()
        for title, due in [
            ("报送业务品质问题整改佐证材料", self.today - dt.timedelta(days=5)),
            ("更新消保宣传专栏内容", self.today + dt.timedelta(days=3)),
            ("完成投诉处理岗位人员轮训", self.today + dt.timedelta(days=12)),
        ]:
            self.action(
                title=title,
                owner=self.rng.choice(self.central_officers),
                held_on=last.held_on,
                resolution=resolution,
                due=max(due, last.held_on),
                open_=True,
            )
        if len(recent) > 1:
            earlier = recent[0].resolutions.order_by("number").first()
            self.action(
                title="整理热线高峰时段排班调整效果分析",
                owner=self.c.users["kf_zhao"],
                held_on=recent[0].held_on,
                resolution=earlier,
                due=self.today - dt.timedelta(days=3),
                open_=True,
            )

    # --- 高管讲消保 ------------------------------------------------------------------------------------

    def talks(self, year: int) -> None:
        for quarter, month in enumerate((3, 6, 9, 12)):
            day = workday_near(self.cal, dt.date(year, month, 8 + self.rng.randint(0, 12)))
            if day > self.today:
                return
            topic, title = TALKS[(quarter + year) % len(TALKS)]
            speaker = self.head if "分公司" in title else self.rng.choice(self.central_heads)
            ExecutiveTalk.objects.create(
                unit=self.branch if speaker is self.head else speaker.unit,
                held_on=day,
                speaker=speaker,
                speaker_name=str(speaker),
                speaker_title=title,
                topic=topic,
                audience="全体员工" if speaker is self.head else "中支全体员工及营销团队主管",
                participants=self.rng.randint(40, 160),
                summary="结合本单位投诉和服务数据，讲解消保工作要求，强调全员树立“以消费者为中心”的服务理念。",
                created_by=self.officers[0],
            )
            self.counts["talks"] += 1

    # --- plans ---------------------------------------------------------------------------------------

    def plans(self, year: int) -> None:
        kinds = [PlanKind.WORK, PlanKind.EDUCATION, PlanKind.TRAINING, PlanKind.EMERGENCY]
        if year == self.today.year:
            kinds.append(PlanKind.REVIEW)
        for index, kind in enumerate(kinds):
            submitted = workday_near(self.cal, dt.date(year, 1, 8 + index))
            if kind == PlanKind.REVIEW:
                submitted = max(self.today - dt.timedelta(days=2), dt.date(year, 1, 2))
            if kind == PlanKind.EMERGENCY:
                submitted = workday_near(self.cal, dt.date(year, 5, 28))
            if submitted > self.today:
                continue
            decided = submitted + dt.timedelta(days=self.rng.randint(2, 6))
            pending = kind == PlanKind.REVIEW or decided > self.today
            plan = Plan.objects.create(
                unit=self.branch,
                year=year,
                kind=kind,
                title=f"{year}年{kind.label}",
                content=PLAN_TEXT[kind],
                status=PlanStatus.SUBMITTED if pending else PlanStatus.APPROVED,
                submitted_at=aware(submitted, 9),
                decided_by=None if pending else self.head,
                decided_at=None if pending else aware(decided, 17),
                opinion="" if pending else "同意，请按计划分解落实，每季度向委员会报告进展。",
                created_by=self.officers[0],
            )
            events = [
                PlanEvent(
                    plan=plan,
                    at=aware(submitted - dt.timedelta(days=3), 10),
                    actor=self.officers[0],
                    action="create",
                    to_status="草稿",
                ),
                PlanEvent(
                    plan=plan,
                    at=aware(submitted, 9),
                    actor=self.officers[0],
                    action="submit",
                    from_status="草稿",
                    to_status="待审批",
                ),
            ]
            if not pending:
                events.append(
                    PlanEvent(
                        plan=plan,
                        at=aware(decided, 17),
                        actor=self.head,
                        action="approve",
                        from_status="待审批",
                        to_status="已批准",
                        reason=plan.opinion,
                    )
                )
            PlanEvent.objects.bulk_create(events)
            if kind == PlanKind.WORK:
                attach(PlanFile(plan=plan), f"{plan.title}.pdf", pdf(plan.title), self.officers[0])
            self.counts["plans"] += 1

    # --- rules ---------------------------------------------------------------------------------------

    def rules(self) -> None:
        for title, category, code, department, versions, repealed in RULES:
            rule = Rule.objects.create(
                unit=self.branch,
                code=code,
                title=title,
                category=category,
                department=department,
                status=RuleStatus.REPEALED if repealed else RuleStatus.ACTIVE,
                repealed_on=repealed[0] if repealed else None,
                repeal_reason=repealed[1] if repealed else "",
                created_by=self.officers[0],
            )
            self.counts["rules"] += 1
            for number, (effective, note) in enumerate(versions, start=1):
                if effective > self.today + dt.timedelta(days=60):
                    break
                version = RuleVersion(rule=rule, number=number, effective_on=effective, note=note)
                attach(version, f"{title}(第{number}版).pdf", pdf(f"{code} v{number}"), self.officers[1])
                self.counts["rule_versions"] += 1

    # --- drills --------------------------------------------------------------------------------------

    def drills(self, year: int) -> None:
        participants = [self.head, *self.officers, self.c.users["kf_zhao"], self.c.users["lp_chen"]]
        for month, day, kind, title, scenario, findings, actions in DRILLS:
            held_on = workday_near(self.cal, dt.date(year, month, day))
            if held_on > self.today + dt.timedelta(days=45):
                continue
            is_held = held_on <= self.today
            host = self.c.units[BRANCH + self.rng.choice(CENTRAL)]
            drill = Drill.objects.create(
                unit=self.branch,
                title=f"{year}年{title}",
                scenario_kind=kind,
                scenario=scenario,
                held_on=held_on,
                other_participants=f"{host.name}柜面人员、营销团队主管",
                findings=findings if is_held else "",
                status=DrillStatus.HELD if is_held else DrillStatus.PLANNED,
                created_by=self.officers[0],
            )
            local = [u for u in self.c.users.values() if u.unit_id and u.unit.path.startswith(host.path)]
            drill.participants.set(participants + local)
            self.counts["drills"] += 1
            if is_held:
                for action_title in actions:
                    self.action(
                        title=action_title, owner=self.rng.choice(self.owners), held_on=held_on, drill=drill
                    )

    # --- business quality ----------------------------------------------------------------------------

    def issues(self, year: int) -> list[QualityIssue]:
        found = []
        order = self.rng.sample(ISSUES, len(ISSUES))  # the same kinds of problem, in another order each year
        for seq, (source, category, severity, title, description) in enumerate(order, start=1):
            found_on = workday_near(
                self.cal, dt.date(year, 1, 1) + dt.timedelta(days=20 + 60 * seq + self.rng.randint(0, 15))
            )
            if found_on > self.today:
                break
            case = None
            if source in ("投诉台账", "热线工单"):
                # A case received in the weeks before the issue was found in it.
                pool = list(
                    Case.objects.filter(
                        kind="投诉" if source == "投诉台账" else "求助",
                        received_at__gte=aware(found_on - dt.timedelta(days=60)),
                        received_at__lt=aware(found_on - dt.timedelta(days=3)),
                    )
                    .order_by("pk")
                    .values_list("pk", flat=True)[:200]
                )
                case = Case.objects.select_related("unit").get(pk=self.rng.choice(pool)) if pool else None
            if source in ("投诉台账", "热线工单") and case is None:
                source = "内部检查"
            officer = self.rng.choice(self.central_officers)
            unit = case.unit if case is not None else officer.unit
            owner = next((u for u in self.central_officers if unit.path.startswith(u.unit.path)), officer)
            due = found_on + dt.timedelta(days=30)
            closed = due < self.today - dt.timedelta(days=5) or (
                found_on < self.today - dt.timedelta(days=20) and self.rng.random() < 0.5
            )
            closed_on = min(
                due - dt.timedelta(days=self.rng.randint(0, 10)), self.today - dt.timedelta(days=1)
            )
            issue = QualityIssue.objects.create(
                ref=f"PZ{year}-{seq:03d}",
                unit=unit,
                source=source,
                case=case,
                source_ref=case.case_no
                if case is not None
                else (f"SC{year}-{seq:03d}" if source == "消保审查" else ""),
                category=category,
                severity=severity,
                title=title,
                description=description,
                found_on=found_on,
                owner=owner,
                due_date=due,
                status=QualityStatus.CLOSED if closed else QualityStatus.OPEN,
                measures="已完成整改：修订流程与材料，对相关人员开展专项培训并留存签到表。" if closed else "",
                closed_at=aware(closed_on, 16) if closed else None,
                created_by=self.officers[1],
            )
            events = [
                QualityEvent(
                    issue=issue,
                    at=aware(found_on, 11),
                    actor=self.officers[1],
                    action="create",
                    to_status="跟踪中",
                )
            ]
            if closed:
                events.append(
                    QualityEvent(
                        issue=issue,
                        at=aware(closed_on, 16),
                        actor=owner,
                        action="close",
                        from_status="跟踪中",
                        to_status="已关闭",
                        reason=issue.measures,
                    )
                )
            QualityEvent.objects.bulk_create(events)
            found.append(issue)
            self.counts["issues"] += 1
        return found

    def bulletins(self, year: int, issues: list[QualityIssue]) -> None:
        recipients = [self.c.units[BRANCH + s] for s in CENTRAL]
        for number, (month, day) in enumerate(((6, 28), (12, 20)), start=1):
            issued = workday_near(self.cal, dt.date(year, month, day))
            if issued > self.today:
                return
            listed = [
                i
                for i in issues
                if i.found_on <= issued and (number == 1 or i.found_on > dt.date(year, 6, 28))
            ]
            bulletin = Bulletin.objects.create(
                unit=self.branch,
                code=f"鲁分消保通〔{year}〕{number}号",
                title=f"关于{year}年{'上' if number == 1 else '下'}半年业务品质问题的通报",
                body="现将近期通过热线工单、投诉台账、消保审查和内部检查发现的业务品质问题通报如下，请各中支对照自查，举一反三，限期整改。",
                status=BulletinStatus.ISSUED,
                issued_on=issued,
                issued_by=self.officers[0],
                created_by=self.officers[0],
            )
            bulletin.issues.set(listed)
            receipts = []
            for unit in recipients:
                officer = next(u for u in self.central_officers if u.unit_id == unit.pk)
                acked = issued + dt.timedelta(days=self.rng.randint(1, 4))
                if acked >= self.today or self.rng.random() < 0.1:
                    receipts.append(BulletinReceipt(bulletin=bulletin, unit=unit))
                else:
                    receipts.append(
                        BulletinReceipt(
                            bulletin=bulletin,
                            unit=unit,
                            acknowledged_at=aware(acked, 9),
                            acknowledged_by=officer,
                        )
                    )
            BulletinReceipt.objects.bulk_create(receipts)
            self.counts["bulletins"] += 1


def build(ctx) -> dict:
    """Governance from 2024 to the demo's today; returns what was made, by kind."""
    builder = Builder(context(ctx))
    builder.rules()
    held = []
    for year in range(2024, builder.today.year + 1):
        held += builder.meetings(year)
        builder.talks(year)
        builder.plans(year)
        builder.drills(year)
        builder.bulletins(year, builder.issues(year))
    builder.near_today(held)
    return {f"governance_{name}": count for name, count in builder.counts.items()}
