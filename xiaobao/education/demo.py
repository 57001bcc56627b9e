"""Demo financial education: the branch year of the seed summary (2024), a plan per year, and the
years since, up to today.

2024 is built to the summary's exact figures: 18 offline events reaching 9,500 people, 6 videos,
4 original 以案说险 articles, 24 published pieces, 52 media reports, 25,000 people reached online
(the seed says "约"; the demo makes them exact so the statistics can be checked against them). The
reach of each activity is random; the totals are fixed by splitting them with largest remainders.
"""

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from xiaobao.accounts.models import User
from xiaobao.education.models import (
    Activity,
    ActivityEvidence,
    Audience,
    Dimension,
    EvidenceKind,
    Mode,
    Plan,
    PlanTarget,
    ReachLimit,
)
from xiaobao.org.models import Unit

BRANCH = "8637"
SEED_2024 = {
    "offline_events": 18,
    "offline_reach": 9500,
    "videos": 6,
    "case_articles": 4,
    "published_pieces": 24,
    "media_reports": 52,
    "online_reach": 25000,
}
# Region populations (people), the ceiling of a single activity's reach.
POPULATIONS = {
    BRANCH: (101_230_000, "山东省常住人口"),
    "863701": (9_410_000, "济南市常住人口"),
    "863702": (10_370_000, "青岛市常住人口"),
    "863703": (7_060_000, "烟台市常住人口"),
    "863704": (9_390_000, "潍坊市常住人口"),
    "863705": (11_010_000, "临沂市常住人口"),
    "863706": (8_350_000, "济宁市常住人口"),
}
CITIES = {
    "863701": ("济南", ["历下区", "市中区", "槐荫区", "天桥区", "章丘区"]),
    "863702": ("青岛", ["市南区", "市北区", "李沧区", "崂山区", "黄岛区"]),
    "863703": ("烟台", ["芝罘区", "莱山区", "福山区", "牟平区"]),
    "863704": ("潍坊", ["奎文区", "潍城区", "寒亭区", "坊子区"]),
    "863705": ("临沂", ["兰山区", "罗庄区", "河东区", "沂南县"]),
    "863706": ("济宁", ["任城区", "兖州区", "曲阜市", "邹城市"]),
}
# Campaign → (months it runs in, offline events in 2024); the other offline events are routine work.
CAMPAIGNS = {
    "3·15": ([3], 5),
    "守住钱袋子": ([6, 7], 3),
    "金融教育宣传周": ([9], 4),
    "金融知识万里行": ([11], 3),
}
VENUES = {
    Audience.ELDERLY: ["{district}{name}社区老年活动中心", "{district}{name}街道颐养中心"],
    Audience.YOUTH: ["{city}市第{n}中学", "{city}{name}职业技术学院"],
    Audience.NEW_CITIZENS: ["{district}{name}产业园", "{district}{name}物流园"],
    Audience.RURAL: ["{district}{name}镇{name2}村村委会", "{district}{name}镇农村大集"],
    Audience.OTHER: ["{district}{name}广场", "{district}营业网点柜面"],
}
PLACE_NAMES = "阳光 和平 幸福 锦绣 泉城 海岸 文化 新华 东风 建设 长安 福泰".split()
OFFLINE_TITLES = {
    Audience.ELDERLY: ["防范养老诈骗 守护“养老钱”", "识破“高收益”理财骗局", "适老化服务与理赔知识讲座"],
    Audience.YOUTH: ["远离校园贷 理性消费", "保险知识进校园", "青少年金融素养第一课"],
    Audience.NEW_CITIZENS: ["新市民保险保障知识讲座", "警惕“代理退保”陷阱", "灵活就业人员保障规划"],
    Audience.RURAL: ["金融知识下乡 守住钱袋子", "农村居民保险常识宣讲", "识别非法集资 保护财产安全"],
    Audience.OTHER: ["“3·15”消费者权益保护咨询日", "柜面金融知识宣传", "依法理性维权宣传"],
}
ONLINE_TITLES = {
    Mode.VIDEO: [
        "动画短片：什么是犹豫期",
        "短视频：警惕“全额退保”骗局",
        "微课堂：读懂保险合同的免责条款",
        "短视频：老年人如何防范电信诈骗",
        "情景剧：理性维权走正道",
        "短视频：分红险的分红不保证",
    ],
    Mode.ARTICLE: [
        "以案说险：轻信“代理退保”, 保障没了钱也没了",
        "以案说险：健康告知不如实，理赔起纠纷",
        "以案说险: “保本高收益”的承诺能信吗",
        "以案说险：退保损失从何而来",
        "以案说险：冒充监管人员的电话要警惕",
        "以案说险：被保险人变更的那些事",
    ],
    Mode.PIECE: [
        "守住钱袋子 护好幸福家",
        "金融知识万里行走进社区",
        "3·15 消费者权益保护教育宣传周启动",
        "如何识别非法金融活动",
        "保险消费者的八项权利",
        "理赔材料准备指南",
        "犹豫期内退保不扣费",
        "警惕“退保黑产”",
        "个人信息保护小贴士",
        "适老化服务升级",
    ],
    Mode.MEDIA: [
        "瀚海人寿山东分公司启动金融教育宣传周",
        "金融知识进社区 守护老年人“养老钱”",
        "“守住钱袋子”宣传走进乡村大集",
        "保险知识进校园 远离校园贷",
        "警惕“代理退保”: 保险公司以案说险",
        "3·15 消费者权益保护咨询日活动举行",
    ],
}
MEDIA_OUTLETS = [
    "大众日报",
    "齐鲁晚报",
    "山东广播电视台",
    "大众网",
    "齐鲁网",
    "半岛都市报",
    "济南日报",
    "青岛日报",
]


def split_exactly(total: int, weights: list[float]) -> list[int]:
    """Positive integers summing to exactly `total`, proportional to `weights` (largest remainders)."""
    count = len(weights)
    scale = (total - count) / sum(weights)
    raw = [w * scale for w in weights]
    parts = [int(r) for r in raw]
    for i in sorted(range(count), key=lambda i: raw[i] - parts[i], reverse=True)[
        : total - count - sum(parts)
    ]:
        parts[i] += 1
    return [p + 1 for p in parts]  # each at least one person


def _day(rng: random.Random, year: int, months: list[int], until: dt.date) -> dt.date:
    """A day of one of the months, never after `until` (the current year stops at today)."""
    months = [m for m in months if dt.date(year, m, 1) <= until] or [until.month]
    month = rng.choice(months)
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return min(dt.date(year, month, rng.randint(1, last)), until)


class Book:
    """Activities of the demo branch, numbered per day as the form would (JY<date>-NNN)."""

    def __init__(self, rng: random.Random, units: dict, today: dt.date, creator) -> None:
        self.rng = rng
        self.units = units
        self.today = today
        self.creator = creator
        self.activities: list[Activity] = []
        self.links: list[tuple[Activity, str, str]] = []
        self._seq: dict[dt.date, int] = {}

    def _no(self, day: dt.date) -> str:
        self._seq[day] = self._seq.get(day, 0) + 1
        return f"JY{day:%Y%m%d}-{self._seq[day]:03d}"

    def add(self, **values) -> Activity:
        activity = Activity(activity_no=self._no(values["date"]), created_by=self.creator, **values)
        self.activities.append(activity)
        return activity

    def offline(self, year: int, count: int, reach: int, until: dt.date) -> None:
        rng = self.rng
        plan = [
            (c, months) for c, (months, n) in CAMPAIGNS.items() for _ in range(max(1, round(n * count / 18)))
        ]
        while len(plan) < count:
            plan.append(("", [1, 2, 4, 5, 8, 10, 12]))
        plan = plan[:count]
        reaches = split_exactly(reach, [rng.uniform(200, 1100) for _ in range(count)])
        centrals = list(CITIES)
        for (campaign, months), people in zip(plan, reaches, strict=True):
            code = rng.choice(centrals + [f"{BRANCH}XB"])
            city, districts = CITIES.get(code, ("济南", CITIES["863701"][1]))
            audience = rng.choice(
                [
                    Audience.ELDERLY,
                    Audience.ELDERLY,
                    Audience.YOUTH,
                    Audience.NEW_CITIZENS,
                    Audience.RURAL,
                    Audience.OTHER,
                ]
            )
            venue = rng.choice(VENUES[audience]).format(
                city=city,
                district=f"{city}市{rng.choice(districts)}",
                name=rng.choice(PLACE_NAMES),
                name2=rng.choice(PLACE_NAMES),
                n=rng.randint(1, 40),
            )
            activity = self.add(
                unit=self.units[code],
                date=_day(rng, year, months, until),
                mode=Mode.OFFLINE,
                campaign=campaign,
                title=rng.choice(OFFLINE_TITLES[audience]),
                location=venue,
                audience=audience,
                reach=people,
                cost=Decimal(rng.randrange(500, 5000, 50)),
            )
            self.links.append(
                (activity, "现场照片与签到表 (宣传稿)", f"https://www.example.com/edu/{activity.activity_no}")
            )

    def online(self, year: int, counts: dict[str, int], reach: int, until: dt.date) -> None:
        rng = self.rng
        kinds = [mode for mode, n in counts.items() for _ in range(n)]
        spans = {
            Mode.VIDEO: (800, 2500),
            Mode.ARTICLE: (300, 900),
            Mode.PIECE: (150, 500),
            Mode.MEDIA: (80, 400),
        }
        reaches = split_exactly(reach, [rng.uniform(*spans[mode]) for mode in kinds])
        campaigns = list(CAMPAIGNS) + ["", ""]
        for mode, people in zip(kinds, reaches, strict=True):
            campaign = rng.choice(campaigns)
            months = CAMPAIGNS[campaign][0] if campaign else list(range(1, 13))
            title = rng.choice(ONLINE_TITLES[mode])
            if mode == Mode.MEDIA:
                title = f"{rng.choice(MEDIA_OUTLETS)}报道: {title}"
            code = rng.choice([f"{BRANCH}XB", f"{BRANCH}XB", *CITIES])
            activity = self.add(
                unit=self.units[code],
                date=_day(rng, year, months, until),
                mode=mode,
                campaign=campaign,
                title=title,
                location="",
                audience=rng.choice(["", "", Audience.ELDERLY, Audience.YOUTH, Audience.NEW_CITIZENS]),
                reach=people,
                cost=Decimal(rng.randrange(3000, 15000, 100)) if mode == Mode.VIDEO else None,
            )
            self.links.append((activity, "发布链接", f"https://www.example.com/edu/{activity.activity_no}"))

    def save(self) -> int:
        Activity.objects.bulk_create(self.activities, batch_size=500)
        ActivityEvidence.objects.bulk_create(
            [
                ActivityEvidence(
                    activity=activity,
                    kind=EvidenceKind.LINK,
                    url=url,
                    original_name=label,
                    uploaded_by=self.creator,
                )
                for activity, label, url in self.links
            ],
            batch_size=500,
        )
        return len(self.activities)


def _plan(unit, year: int, creator, targets: list[tuple[str, str, int | None, int | None]]) -> Plan:
    plan = Plan.objects.create(
        unit=unit,
        year=year,
        title=f"{year}年度金融教育宣传计划",
        notes="经消保工作事务委员会审议通过；统筹 3·15、金融教育宣传周、守住钱袋子和金融知识万里行等集中宣传与常态化宣传。",
        created_by=creator,
    )
    PlanTarget.objects.bulk_create(
        [PlanTarget(plan=plan, dimension=d, key=k, count=c, reach=r) for d, k, c, r in targets]
    )
    return plan


def _targets(
    offline: int, offline_reach: int, videos: int, articles: int, pieces: int, media: int, online_reach: int
):
    return [
        (Dimension.MODE, Mode.OFFLINE, offline, offline_reach),
        (Dimension.MODE, Mode.VIDEO, videos, online_reach * 25 // 100),
        (Dimension.MODE, Mode.ARTICLE, articles, online_reach * 8 // 100),
        (Dimension.MODE, Mode.PIECE, pieces, online_reach * 30 // 100),
        (Dimension.MODE, Mode.MEDIA, media, online_reach * 37 // 100),
        (Dimension.CAMPAIGN, "3·15", 18, 7000),
        (Dimension.CAMPAIGN, "金融教育宣传周", 18, 7000),
        (Dimension.CAMPAIGN, "守住钱袋子", 15, 5000),
        (Dimension.CAMPAIGN, "金融知识万里行", 15, 5000),
        (Dimension.AUDIENCE, Audience.ELDERLY, 25, 8000),
        (Dimension.AUDIENCE, Audience.YOUTH, 15, 5000),
        (Dimension.AUDIENCE, Audience.NEW_CITIZENS, 15, 5000),
        (Dimension.AUDIENCE, Audience.RURAL, 5, 2000),
    ]


@dataclass
class Context:
    rng: random.Random
    today: dt.date
    scale: float
    units: dict
    users: dict


def read_context(ctx, name: str) -> Context:
    """The demo builder's context, whatever its exact shape (seed or rng; lists or dicts of units and
    users), with a random generator of this module's own, so that adding a module elsewhere never
    shifts this one's data."""
    seed = getattr(ctx, "seed", None)
    if seed is None:
        seed = ctx.rng.random()
    units = getattr(ctx, "units", None) or Unit.objects.all()
    users = getattr(ctx, "users", None) or User.objects.select_related("unit")
    return Context(
        rng=random.Random(f"{name}:{seed}"),
        today=getattr(ctx, "today", None) or timezone.localdate(),
        scale=getattr(ctx, "scale", 1.0),
        units=units if isinstance(units, dict) else {u.code: u for u in units},
        users=users if isinstance(users, dict) else {u.username: u for u in users},
    )


def build(ctx) -> dict:
    """Education records for the demo branch: 2024 exactly as the seed, then every year up to today."""
    c = read_context(ctx, "education")
    rng, units, today = c.rng, c.units, c.today
    creator = c.users.get("xb_wang")
    ReachLimit.objects.bulk_create(
        [
            ReachLimit(unit=units[code], population=people, note=note)
            for code, (people, note) in POPULATIONS.items()
            if code in units
        ]
    )
    book = Book(rng, units, today, creator)
    year_end = dt.date(2024, 12, 31)
    book.offline(2024, SEED_2024["offline_events"], SEED_2024["offline_reach"], year_end)
    book.online(
        2024,
        {
            Mode.VIDEO: SEED_2024["videos"],
            Mode.ARTICLE: SEED_2024["case_articles"],
            Mode.PIECE: SEED_2024["published_pieces"],
            Mode.MEDIA: SEED_2024["media_reports"],
        },
        SEED_2024["online_reach"],
        year_end,
    )
    plans = [_plan(units[BRANCH], 2024, creator, _targets(16, 8000, 5, 4, 20, 40, 22000))]
    for year in range(2025, today.year + 1):
        # A full year's volume, cut at today for the current year.
        until = min(dt.date(year, 12, 31), today)
        share = (until.timetuple().tm_yday / 365) if year == today.year else 1.0
        offline = max(1, round(rng.randint(17, 22) * share))
        book.offline(year, offline, round(rng.randint(9000, 11500) * share), until)
        counts = {
            Mode.VIDEO: max(1, round(rng.randint(6, 9) * share)),
            Mode.ARTICLE: max(1, round(rng.randint(4, 7) * share)),
            Mode.PIECE: max(1, round(rng.randint(22, 30) * share)),
            Mode.MEDIA: max(1, round(rng.randint(40, 55) * share)),
        }
        book.online(year, counts, round(rng.randint(24000, 30000) * share), until)
        plans.append(_plan(units[BRANCH], year, creator, _targets(18, 9500, 6, 5, 24, 45, 26000)))
    count = book.save()
    return {"education_activities": count, "education_plans": len(plans)}
