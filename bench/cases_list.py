"""Case list, search and statistics latency at scale (SQLite or PostgreSQL).

    .venv/bin/python bench/cases_list.py --db sqlite   --cases 1000000 [--reuse] [--snapshot]
    .venv/bin/python bench/cases_list.py --db postgres --cases 1000000 [--reuse] [--snapshot]

1. Builds a throw-away database (SQLite in bench/results/tmp/sqlite/, PostgreSQL database
   `xiaobao_bench` on 127.0.0.1), migrates it, builds the demo org, users and customers, and
   loads N cases with raw bulk SQL (executemany / COPY), not through the ORM or the services.
   The SQLite FTS5 triggers stay in place during the load, so the search index is the real one.
2. Logs in with Django's test Client as `xb_wang` (branch officer, sees the whole branch) and
   `jn_kf1` (a 中支 handler) and times each desk scenario through the full Django stack
   (wall time, CPU time of this process and of its PostgreSQL backend, query count).
3. Writes bench/results/cases-list-<db>.md and bench/results/cases-list-<db>-plans.md (every
   query on cases_case re-run alone with its rows fetched, and the plans of the slow ones), and
   prints the table.

--reuse skips generation when the database already holds N cases. --snapshot runs the committed
code instead of the working tree. --data-dir / --pg-name point the run at a scratch copy, where
--setup-sql (index DDL) and --what-if (query patches from bench/whatif.py) measure a proposed
change without editing the product code.
"""

import argparse
import datetime as dt
import io
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_NAME = "xiaobao_bench"

LIST_TARGET_MS = 150.0
STATS_TARGET_MS = 2000.0
REPS, WARMUP = 50, 3
MIN_REPS = 10  # with --budget, a scenario stops after its time budget but never below this
STATS_REPS = 5

# Full-text search terms and the share of descriptions the generator puts them in.
RARE_PHRASE = "骨髓移植"  # ~0.1 %
COMMON_PHRASE = "退保损失"  # ~10 %
SHORT_TERM = "骨折"  # 2 characters, below the trigram length; ~1 %
RARE_SHARE, COMMON_SHARE, SHORT_SHARE = 0.001, 0.10, 0.01


# ----------------------------------------------------------------------------------------------
# Environment and database lifecycle (before django.setup())
# ----------------------------------------------------------------------------------------------


CODE_REV = ""


def snapshot() -> Path:
    """Export HEAD into bench/results/tmp/code/<sha>/ so a long run is not broken by edits in progress."""
    import subprocess
    import tarfile

    global CODE_REV
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    CODE_REV = f"{sha} (snapshot of HEAD)"
    target = RESULTS / "tmp" / "code" / sha
    if not (target / "xiaobao").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "HEAD", "xiaobao"], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def configure_env(args) -> Path:
    data_dir = Path(args.data_dir).resolve() if args.data_dir else RESULTS / "tmp" / args.db
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "xiaobao.settings"
    os.environ["XIAOBAO_MODE"] = "demo"
    os.environ["XIAOBAO_DEBUG"] = "false"
    os.environ["XIAOBAO_DATA_DIR"] = str(data_dir)
    for name in ("XIAOBAO_SECRET_KEY", "XIAOBAO_FIELD_KEY"):
        os.environ.pop(name, None)  # the bench's own demo keys live in its data folder
    if args.db == "postgres":
        os.environ["XIAOBAO_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.pg_name}"
    else:
        os.environ["XIAOBAO_DATABASE_URL"] = f"sqlite:///{data_dir / 'xiaobao.sqlite3'}"
    return data_dir


def pg_admin(sql: str) -> list:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def prepare_database(args, data_dir: Path) -> None:
    """Without --reuse start from nothing; with it keep whatever is there."""
    if args.db == "postgres":
        exists = pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{args.pg_name}'")
        if exists and not args.reuse:
            pg_admin(f'DROP DATABASE "{args.pg_name}" WITH (FORCE)')
            exists = False
        if not exists:
            pg_admin(f'CREATE DATABASE "{args.pg_name}"')
    elif not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"xiaobao.sqlite3{suffix}").unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------
# Data generation
# ----------------------------------------------------------------------------------------------

PRODUCTS = [
    ("P1001", "瀚海福享终身寿险(分红型)"),
    ("P1002", "瀚海鑫享年金保险"),
    ("P1003", "瀚海安康重大疾病保险"),
    ("P1004", "瀚海金账户两全保险(万能型)"),
    ("P1005", "瀚海护航医疗保险"),
    ("P1006", "瀚海少儿成长年金保险"),
    ("P1007", "瀚海意外伤害保险"),
    ("P1008", "瀚海颐养护理保险"),
]
OPENERS = [
    "客户来电反映, ",
    "客户致电4008热线称, ",
    "客户到柜面反映, ",
    "客户通过微信公众号留言称, ",
    "客户来函称, ",
    "客户家属代为反映, ",
    "客户通过官网在线客服反映, ",
    "客户再次来电催办, 称",
    "客户通过APP留言反映, ",
    "客户在{city}营业网点现场反映, ",
]
CITIES = ["济南", "青岛", "烟台", "潍坊", "临沂", "济宁", "淄博", "威海", "日照", "泰安", "德州", "聊城"]
BANKS = ["工商银行", "建设银行", "农业银行", "中国银行", "邮储银行", "交通银行", "招商银行"]
HOSPITALS = ["市第一人民医院", "市中心医院", "省立医院", "中医院", "妇幼保健院", "大学附属医院", "县人民医院"]
ILLNESSES = [
    "肺炎",
    "脑梗",
    "冠心病",
    "甲状腺结节",
    "乳腺癌",
    "胃癌",
    "糖尿病并发症",
    "阑尾炎",
    "腰椎间盘突出",
]
WORK_ORDER_BODIES = {
    "咨询": [
        "咨询{product}的现金价值计算方式和保单年度报告内容。",
        "咨询生存金领取时间和领取方式, 已告知可通过官网/APP或柜面办理。",
        "咨询保单贷款的额度、利率和还款方式, 计划借款{amount}元。",
        "咨询理赔所需材料, 其家属因{illness}在{city}{hospital}住院治疗, 准备申请医疗保险金。",
        "咨询如何将续期缴费账户变更为{bank}的银行卡。",
        "咨询{product}能否追加保费以及追加后的账户价值和结算利率。",
        "咨询{year}年购买的{product}何时满期以及满期金金额。",
        "咨询犹豫期内解除合同的手续和到账时间。",
        "咨询投保人变更需要携带哪些证件和材料。",
        "咨询分红方式能否由累积生息改为现金领取。",
    ],
    "求助": [
        "因手机号变更无法接收验证码登录APP, 请求协助变更预留手机号。",
        "年事已高行动不便, 请求上门办理生存金领取手续。",
        "保单原件遗失, 请求补发保单并邮寄至{city}家中。",
        "续期扣款失败, 请求协助通过{bank}重新扣款以免保单失效。",
        "银行卡已注销导致满期金{amount}元退回, 请求更换收款账户。",
        "无法在APP上传理赔发票照片, 请求人工协助提交。",
    ],
    "建议": [
        "建议在APP增加理赔进度实时查询功能。",
        "建议柜面增加老年人专用服务窗口和老花镜等便民设施。",
        "建议保单年度报告增加分红实现率说明。",
        "建议热线增加方言服务和转人工的快捷按键。",
    ],
    "表扬": [
        "表扬理赔专员服务热情、{days}天内完成赔付。",
        "表扬{city}柜面人员耐心讲解保单条款, 帮助其了解犹豫期权利。",
        "表扬客服专员帮助其找回{year}年购买的保单。",
        "表扬业务员{surname}某长期提供续期提醒和上门服务。",
    ],
}
CLAIMS_BODIES = [
    "其家属因{illness}在{city}{hospital}住院{days}天, 申请医疗保险金{amount}元, 询问审核进度。",
    "重疾理赔已提交资料{days}天仍未结案, 要求尽快赔付。",
    "对医疗费用部分给付的计算方式有异议, 认为自费药品也应赔付。",
    "称其母亲因{illness}住院, 申请理赔后被告知属于既往症不予赔付, 要求重新审核。",
    "理赔款{amount}元迟迟未到{bank}账户, 要求说明原因。",
]
COMPLAINT_BODIES = {
    "销售纠纷": [
        "{year}年通过业务员{surname}某购买{product}时, 业务员称该产品“保本保息、随时可取”, 现急需用钱, 要求全额退还保费{amount}元。",
        "投保时业务员未告知犹豫期, 投保单上的签名非本人书写, 要求撤销合同并退还全部保费。",
        "在{bank}{city}支行办理存款时被推荐购买{product}, 误以为是定期存款, 要求退还保费。",
    ],
    "理赔纠纷": CLAIMS_BODIES,
    "退保纠纷": [
        "要求退保, 对现金价值远低于已交保费{amount}元不理解。",
        "称家庭经济困难无力续缴, 要求全额退还{product}已交保费。",
        "接到自称“维权机构”的电话后要求全额退保, 并表示将向监管部门投诉。",
    ],
    "保全纠纷": [
        "办理受益人变更已超过{days}个工作日仍未完成, 要求尽快办理并说明原因。",
        "申请部分领取万能账户价值, 到账金额与预期的{amount}元不符。",
    ],
    "续期纠纷": [
        "续期保费扣款失败后未收到任何提醒, 保单进入宽限期, 担心保单失效。",
        "业务员离职后无人提供续期服务, 对服务断档不满。",
    ],
    "服务质量": [
        "多次拨打4008热线排队时间超过{days}分钟, 对服务效率不满。",
        "{city}柜面人员服务态度生硬, 未能耐心解释问题。",
    ],
    "其他": ["对公司频繁推销电话不满, 要求停止营销来电。"],
}
DETAILS = [
    "保单尾号{tail}, {year}年投保, 年交保费{amount}元。",
    "投保人为其{relation}, 被保险人为客户本人。",
    "客户表示已多次联系业务员未果。",
    "客户称近期收到公司短信提醒, 但未说明具体原因。",
    "客户留有备用联系电话, 要求工作日白天联系。",
    "客户此前于{month}月曾就同一问题来电, 本次为再次反映。",
    "客户所在地为{city}{county}, 距离最近的营业网点较远。",
    "客户为{age}岁老年人, 由子女陪同办理。",
]
RELATIONS = ["配偶", "父亲", "母亲", "子女", "兄弟", "姐妹"]
COUNTIES = [
    "历城区",
    "黄岛区",
    "芝罘区",
    "寿光市",
    "兰山区",
    "任城区",
    "平阴县",
    "莱西市",
    "蓬莱区",
    "诸城市",
]
CLOSINGS = [
    "",
    "",
    "",
    "请尽快回复。",
    "希望公司重视。",
    "要求书面答复。",
    "客户情绪较激动。",
    "已留联系电话。",
]
# Each controlled clause holds its term exactly once; no other fragment contains any of the terms.
COMMON_CLAUSES = [
    "对退保损失不认可, 认为投保时未被告知。",
    "要求公司承担全部退保损失。",
    "询问退保损失如何计算。",
    "称业务员从未提示退保损失。",
]
RARE_CLAUSES = ["其子因白血病需要骨髓移植, 急需用钱。", "称家人等待骨髓移植手术, 费用压力很大。"]
SHORT_CLAUSES = ["因意外摔伤导致骨折住院。", "称小腿骨折后申请意外医疗理赔。", "其父骨折后行动不便。"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾"

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
COMPLAINT_CHANNELS = {
    "4008热线": 58,
    "柜面": 20,
    "信函": 9,
    "官网/APP": 5,
    "微信": 5,
    "监管转办": 2,
    "行业协会": 0.7,
    "媒体": 0.3,
}
OPEN_WEIGHTS = {"登记": 10, "受理": 25, "处理中": 45, "暂停": 10, "核查中": 10}
COMPLAINT_SHARE = 0.06
YEARS = 8

CASE_COLUMNS = [
    "id", "case_no", "kind", "channel", "status", "unit_id", "handler_id", "customer_id", "policy_no",
    "category", "urgent", "claims_related", "description", "received_at", "regulator_ref",
    "regulator_complex", "due_date", "deadline_rule", "deadline_provisional", "response_due_date",
    "responded_at", "extension_level", "paused_days", "decided_at", "notified_at", "closed_at", "on_time",
    "decision", "decision_amount", "remedy", "outcome", "satisfaction", "root_cause_id", "root_unit_id",
    "root_agent_code", "root_product_code", "merged_into_id", "review_unit_id", "extra", "source_batch_id",
    "version", "created_at", "updated_at",
]  # fmt: skip


def _sampler(rng: random.Random, weights: dict):
    """A fast weighted choice: a 1000-slot table, one rng.random() per draw."""
    table = []
    total = sum(weights.values())
    for key, w in weights.items():
        table += [key] * round(1000 * w / total)
    n = len(table)
    return lambda: table[int(rng.random() * n)]


class CaseGenerator:
    """Rows for cases_case in id order (= received order), as Python values the writer formats."""

    def __init__(self, rng: random.Random, n: int, today: dt.date, org: dict):
        self.rng, self.n, self.today = rng, n, today
        self.org = org
        self.kind = _sampler(rng, WORK_ORDER_KINDS)
        self.wo_channel = _sampler(rng, WORK_ORDER_CHANNELS)
        self.c_channel = _sampler(rng, COMPLAINT_CHANNELS)
        self.category = _sampler(rng, CATEGORY_WEIGHTS)
        self.open_status = _sampler(rng, OPEN_WEIGHTS)
        self.seq: dict[str, int] = {}

    def received_times(self) -> list[int]:
        """Local (Asia/Shanghai) seconds since the first day, sorted: office hours mostly."""
        rng = self.rng
        span = YEARS * 365
        hours = [9, 9, 10, 10, 11, 14, 15, 16, 17]
        out = []
        for _ in range(self.n):
            day = int(rng.random() * span)
            hour = (
                hours[int(rng.random() * 9)]
                if rng.random() > 0.12
                else (8, 18, 19, 20)[int(rng.random() * 4)]
            )
            out.append(day * 86400 + hour * 3600 + int(rng.random() * 3600))
        out.sort()
        return out

    def text(self, bodies: list[str]) -> str:
        rng = self.rng
        r = rng.random
        body = bodies[int(r() * len(bodies))]
        product = PRODUCTS[int(r() * len(PRODUCTS))][1]
        parts = [OPENERS[int(r() * len(OPENERS))], body]
        for _ in range(int(r() * 3)):  # 0–2 details
            parts.append(DETAILS[int(r() * len(DETAILS))])
        if r() < COMMON_SHARE:
            parts.append(COMMON_CLAUSES[int(r() * len(COMMON_CLAUSES))])
        if r() < SHORT_SHARE:
            parts.append(SHORT_CLAUSES[int(r() * len(SHORT_CLAUSES))])
        if r() < RARE_SHARE:
            parts.append(RARE_CLAUSES[int(r() * len(RARE_CLAUSES))])
        parts.append(CLOSINGS[int(r() * len(CLOSINGS))])
        return "".join(parts).format(
            product=product,
            city=CITIES[int(r() * len(CITIES))],
            bank=BANKS[int(r() * len(BANKS))],
            hospital=HOSPITALS[int(r() * len(HOSPITALS))],
            illness=ILLNESSES[int(r() * len(ILLNESSES))],
            year=2008 + int(r() * 18),
            amount=1000 + int(r() * 200) * 500,
            days=2 + int(r() * 40),
            surname=SURNAMES[int(r() * len(SURNAMES))],
            tail=f"{int(r() * 10000):04d}",
            relation=RELATIONS[int(r() * len(RELATIONS))],
            month=1 + int(r() * 12),
            county=COUNTIES[int(r() * len(COUNTIES))],
            age=60 + int(r() * 30),
        )

    def rows(self):
        r = self.rng.random
        org = self.org
        today = self.today
        first_day = today - dt.timedelta(days=YEARS * 365 - 1)
        start = dt.datetime.combine(first_day, dt.time.min)  # local midnight
        now_local = dt.datetime.combine(today, dt.time(18))
        utc = dt.timedelta(hours=8)
        td = dt.timedelta
        for pk, secs in enumerate(self.received_times(), start=1):
            recv = start + td(seconds=secs)  # local
            day = recv.date()
            age = (today - day).days
            complaint = r() < COMPLAINT_SHARE
            if complaint:
                kind = "投诉"
                channel = self.c_channel()
                unit = org["complaint_units"][int(r() * 6)] if r() < 0.85 else org["branch"]
                category = self.category()
                claims = category == "理赔纠纷"
                bodies = COMPLAINT_BODIES[category]
            else:
                kind = self.kind()
                channel = self.wo_channel()
                claims = r() < 0.15
                x = r()
                if claims and x < 0.4:
                    unit = org["claims_unit"]
                else:
                    unit = org["kf_units"][int(r() * 6)] if x < 0.9 else org["branch_kf"]
                category = ""
                bodies = CLAIMS_BODIES if claims else WORK_ORDER_BODIES[kind]
            urgent = r() < 0.04
            handlers = org["handlers"][unit]
            handler = handlers[int(r() * len(handlers))] if handlers else None
            customers = org["customers"][unit]
            customer = customers[int(r() * len(customers))] if complaint or r() < 0.5 else None
            level = (1 if r() < 0.8 else 2) if complaint and r() < 0.06 else 0
            if complaint:
                due = day + td(days=15 + 30 * level)
            else:
                due = day + td(days=3 if urgent else 7)
            # ~2 % open: most of the young cases, a tail of forgotten old ones.
            p_open = 0.6 if age <= 14 else 0.15 if age <= 90 else 0.02 if age <= 365 else 0.012
            if r() < p_open:
                status = self.open_status()
            else:
                x = r()
                status = (
                    "已撤诉" if x < 0.004 else "已合并" if x < 0.007
                    else "已决定" if x < 0.012 and age <= 30 else "已告知" if x < 0.015 and age <= 30
                    else "已办结"
                )  # fmt: skip
            responded = decided = notified = closed = on_time = None
            paused = 0
            decision = remedy = outcome = satisfaction = agent = product_code = ""
            amount = root_cause = root_unit = merged = None
            if status != "登记":
                responded = recv + td(minutes=5 + int(r() * 85))
            if status == "暂停":
                paused = 3 + int(r() * 10)
            if status in ("核查中", "已决定", "已告知", "已办结"):
                if complaint:
                    span = (3, 5, 6, 7, 8, 9, 10, 12)[int(r() * 8)] + (15 if level else 0)
                else:
                    span = (0, 1, 1, 2, 3, 4)[int(r() * 6)]
                if r() < 0.03:
                    span = (due - day).days + 1 + int(r() * 3)
                decided = dt.datetime.combine(day + td(days=span), dt.time(9 + int(r() * 8), int(r() * 60)))
                if decided <= responded:
                    decided = responded + td(hours=1)
                if decided > now_local:
                    decided = min(responded + td(hours=1), now_local)
                on_time = decided.date() <= due
                if complaint:
                    amount = (None, None, 500 + int(r() * 29500))[int(r() * 3)]
                    decision = "经核实, 已按合同约定处理并向客户解释说明。"
                    remedy = ("退还保费", "补充赔付", "解释说明并致歉", "")[int(r() * 4)]
            if status in ("已告知", "已办结"):
                notified = min(decided + td(hours=1 + int(r() * 29)), now_local)
            if status == "已办结":
                closed = min(notified + td(hours=1 + int(r() * 47)), now_local)
                outcome = "已向客户告知处理结果"
                satisfaction = ("满意", "满意", "满意", "基本满意", "不满意", "")[int(r() * 6)]
                if complaint:
                    root_cause = org["roots"][ROOT_BY_CATEGORY[category]]
                    root_unit = unit
                    product_code = PRODUCTS[int(r() * len(PRODUCTS))][0]
                    if category == "销售纠纷":
                        agent = f"A8637{1 + int(r() * 59):04d}"
            elif status == "已撤诉":
                closed = recv + td(days=2)
            elif status == "已合并":
                closed = recv + td(hours=2)
                merged = pk - 1 if pk > 1 else None
            prefix = ("TS" if complaint else "GD") + day.strftime("%Y%m%d")
            seq = self.seq[prefix] = self.seq.get(prefix, 0) + 1
            yield (
                pk,
                f"{prefix}-{seq:04d}",
                kind,
                channel,
                status,
                unit,
                handler,
                customer,
                f"8637{int(r() * 10**11):011d}" if r() < 0.8 else "",
                category,
                urgent,
                claims,
                self.text(bodies),
                recv - utc,
                f"鲁金访{day:%Y}{int(r() * 10000):05d}" if channel == "监管转办" else "",
                channel == "监管转办" and r() < 0.3,
                due,
                "投诉15日" if complaint else "工单时限",
                due.year > today.year,
                day + td(days=1),
                responded - utc if responded else None,
                level,
                paused,
                decided - utc if decided else None,
                notified - utc if notified else None,
                closed - utc if closed else None,
                on_time,
                decision,
                amount,
                remedy,
                outcome,
                satisfaction,
                root_cause,
                root_unit,
                agent,
                product_code,
                merged,
                None,
                json.dumps({"product": PRODUCTS[int(r() * len(PRODUCTS))][0]}),
                None,
                1,
                recv - utc,
                (closed or recv) - utc,
            )


def org_context() -> dict:
    """Unit ids, handlers and customers per unit, as the demo case book assigns them."""
    from xiaobao.accounts.models import Role, User
    from xiaobao.cases.models import RootCause
    from xiaobao.customers.models import Customer
    from xiaobao.org.models import Unit

    units = {u.code: u for u in Unit.objects.all()}
    complaint_units = [units[f"8637{s:02d}"] for s in range(1, 7)]
    kf_units = [units[f"8637{s:02d}KF"] for s in range(1, 7)]
    all_units = [units["8637"], units["8637KF"], units["8637LP"], *complaint_units, *kf_units]
    staff = [
        u for u in User.objects.select_related("unit") if u.unit and u.has_role(Role.HANDLER, Role.OFFICER)
    ]
    customers = list(Customer.objects.select_related("unit").values_list("pk", "unit__path"))
    handlers, pools = {}, {}
    for unit in all_units:
        able = [u for u in staff if unit.path.startswith(u.unit.path)]
        deepest = max((u.unit.depth for u in able), default=0)
        handlers[unit.pk] = [u.pk for u in able if u.unit.depth == deepest] or [u.pk for u in able]
        pools[unit.pk] = [
            pk for pk, path in customers if path.startswith(unit.path) or unit.path.startswith(path)
        ]
        pools[unit.pk] = pools[unit.pk] or [pk for pk, _ in customers]
    return {
        "branch": units["8637"].pk,
        "branch_kf": units["8637KF"].pk,
        "claims_unit": units["8637LP"].pk,
        "complaint_units": [u.pk for u in complaint_units],
        "kf_units": [u.pk for u in kf_units],
        "handlers": handlers,
        "customers": pools,
        "roots": dict(RootCause.objects.values_list("code", "pk")),
    }


def check_columns() -> None:
    """Other engineers change the schema: columns the loader does not know must be nullable."""
    from django.db import connection

    with connection.cursor() as cur:
        columns = {c.name: c for c in connection.introspection.get_table_description(cur, "cases_case")}
    missing = set(CASE_COLUMNS) - set(columns)
    required = [n for n in set(columns) - set(CASE_COLUMNS) if not columns[n].null_ok]
    if missing or required:
        sys.exit(f"cases_case changed (gone {sorted(missing)}, new NOT NULL {required}): update CASE_COLUMNS")
    for name in sorted(set(columns) - set(CASE_COLUMNS)):
        print(f"  note: new nullable column cases_case.{name} is left NULL", flush=True)


def check_search_index() -> str:
    """The SQLite full-text index is only real while its triggers exist (a table remake drops them)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        with connection.cursor() as cur:
            # cases.0004 rebuilt it on UPPER(description), the expression icontains compares.
            cur.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname IN "
                "('cases_case_description_upper_trgm', 'cases_case_description_trgm') ORDER BY indexname DESC"
            )
            row = cur.fetchone()
        return row[0] if row else "**missing: cases_case_description_upper_trgm**"
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_case'")
        triggers = sorted(r[0] for r in cur.fetchall())
        cur.execute("SELECT count(*) FROM cases_case_fts_docsize")
        docs = cur.fetchone()[0]
    return f"FTS5 trigram, triggers {', '.join(triggers) or '**missing**'}, {docs:,} documents indexed"


def load_sqlite(gen: CaseGenerator, chunk: int = 100_000) -> None:
    import sqlite3

    from django.db import connection

    path = connection.settings_dict["NAME"]
    connection.close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")  # 1 GB page cache for the load only
    con.execute("PRAGMA temp_store=MEMORY")
    sql = f"INSERT INTO cases_case ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})"
    dt_cols = {i for i, c in enumerate(CASE_COLUMNS) if c.endswith("_at")}

    def fmt(row):
        row = list(row)
        for i in dt_cols:
            if row[i] is not None:
                row[i] = row[i].isoformat(" ")
        row[16] = row[16].isoformat()  # due_date
        row[19] = row[19].isoformat()  # response_due_date
        return row

    batch = []
    done = 0
    t0 = time.perf_counter()
    for row in gen.rows():
        batch.append(fmt(row))
        if len(batch) == chunk:
            con.execute("BEGIN")
            con.executemany(sql, batch)
            con.execute("COMMIT")
            done += len(batch)
            batch = []
            print(f"  {done:>9,} cases  {time.perf_counter() - t0:6.1f} s", flush=True)
    if batch:
        con.execute("BEGIN")
        con.executemany(sql, batch)
        con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def load_postgres(gen: CaseGenerator) -> None:
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cur:
        # A bulk load builds the secondary indexes after the data, from the same DDL.
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'cases_case' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    raw = connection.connection  # psycopg 3
    t0 = time.perf_counter()

    def cell(v):
        if v is None:
            return "\\N"
        if v is True:
            return "t"
        if v is False:
            return "f"
        if isinstance(v, dt.datetime):
            return v.isoformat(" ") + "+00"
        return str(v)

    done = 0
    with raw.cursor() as cur:
        with cur.copy(f"COPY cases_case ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
            buf = []
            for row in gen.rows():
                buf.append("\t".join(map(cell, row)))
                if len(buf) == 50_000:
                    copy.write(("\n".join(buf) + "\n").encode())
                    done += len(buf)
                    buf = []
                    if done % 200_000 == 0:
                        print(f"  {done:>9,} cases  {time.perf_counter() - t0:6.1f} s", flush=True)
            if buf:
                copy.write(("\n".join(buf) + "\n").encode())
    raw.commit() if not raw.autocommit else None
    print(f"  COPY done {time.perf_counter() - t0:6.1f} s; building {len(indexes)} indexes", flush=True)
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for name, ddl in indexes:
            t = time.perf_counter()
            cur.execute(ddl)
            print(f"    {name}: {time.perf_counter() - t:5.1f} s", flush=True)
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), (SELECT max(id) FROM cases_case))"
        )
        cur.execute("VACUUM (ANALYZE) cases_case")  # what autovacuum does after a bulk load


def build(args) -> dict:
    from django.db import connection, transaction

    from xiaobao.demo.builders import build_customers, build_org, build_users

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    with transaction.atomic():
        units = build_org()
        build_users(rng, units)
        build_customers(rng, units)
    check_columns()
    gen = CaseGenerator(rng, args.cases, dt.date.today(), org_context())
    print(f"generating and loading {args.cases:,} cases into {connection.vendor}", flush=True)
    if connection.vendor == "sqlite":
        load_sqlite(gen)
    else:
        load_postgres(gen)
    seconds = time.perf_counter() - t0
    meta = {"cases": args.cases, "load_seconds": round(seconds, 1), "loaded_on": dt.date.today().isoformat()}
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (k varchar(40) PRIMARY KEY, v text)")
        cur.execute("DELETE FROM bench_meta")
        cur.execute("INSERT INTO bench_meta VALUES (%s, %s)", ["load", json.dumps(meta)])
    print(f"loaded in {seconds:.0f} s", flush=True)
    return meta


def existing_meta(n: int) -> dict | None:
    from django.db import connection

    with connection.cursor() as cur:
        if "bench_meta" not in connection.introspection.table_names(cur):
            return None
        cur.execute("SELECT v FROM bench_meta WHERE k = 'load'")
        row = cur.fetchone()
        cur.execute("SELECT count(*) FROM cases_case")
        count = cur.fetchone()[0]
    if not row or count < n:
        return None
    return json.loads(row[0])


# ----------------------------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def cpu_pressure() -> str:
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return line.split("avg60=")[1].split()[0] + " %"
    except (OSError, IndexError):
        return "?"


def _cpu_ns(pid: int | None) -> int:
    """CPU time of this process plus (PostgreSQL) the backend serving it, in ns: unlike wall time,
    it does not grow when other processes compete for the 2 cores."""
    total = time.process_time_ns()
    if pid:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def timed(fn, reps: int, warmup: int, budget_s: float = 0):
    """Server time of fn (ms) per repetition, CPU ms, query counts, and the SQL of the last one."""
    from django.db import close_old_connections, connection
    from django.test.utils import CaptureQueriesContext

    def backend_pid() -> int | None:
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cur:  # also opens the (persistent) connection before timing
            cur.execute("SELECT pg_backend_pid()")
            return cur.fetchone()[0]

    for _ in range(warmup):
        fn()
        close_old_connections()
    times, cpu, counts = [], [], []
    start = time.perf_counter()
    for i in range(reps):
        if budget_s and i >= MIN_REPS and time.perf_counter() - start > budget_s:
            break  # far over target: more repetitions add time, not information
        pid = backend_pid()
        c0 = _cpu_ns(pid)
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:  # opens the connection if it is closed
            fn()
            # What the WSGI server does after each response (closes the connection past CONN_MAX_AGE).
            close_old_connections()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((_cpu_ns(pid) - c0) / 1e6)
        counts.append(len(ctx.captured_queries))
    return times, cpu, counts, [q["sql"] for q in ctx.captured_queries]


def list_scenarios(today: dt.date) -> list[tuple[str, dict]]:
    year_ago = today - dt.timedelta(days=364)
    return [
        ("desk, default (page 1)", {}),
        (
            "filtered: 处理中 + 4008热线 + one year",
            {
                "status": "处理中",
                "channel": "4008热线",
                "from": year_ago.isoformat(),
                "to": today.isoformat(),
            },
        ),
        ("view=overdue", {"view": "overdue"}),
        ("deep page (page=200)", {"page": "200"}),
        (f"search, rare phrase 「{RARE_PHRASE}」", {"q": RARE_PHRASE}),
        (f"search, common phrase 「{COMMON_PHRASE}」", {"q": COMMON_PHRASE}),
        (f"search, 2 characters 「{SHORT_TERM}」", {"q": SHORT_TERM}),
    ]


def measure(args) -> tuple[list[dict], list[dict]]:
    from django.core.management import call_command
    from django.http import QueryDict
    from django.test import Client
    from django.urls import reverse

    from xiaobao.accounts.models import User
    from xiaobao.cases.models import Case
    from xiaobao.cases.selectors import CaseFilter, case_list
    from xiaobao.cases.stats import case_period

    url = reverse("cases-desk")
    today = dt.date.today()
    rows, plans = [], []
    for username in args.users:
        user = User.objects.get(username=username)
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        for label, params in list_scenarios(today):
            if args.only and not any(o in label for o in args.only):
                continue
            qd = QueryDict(mutable=True)
            qd.update(params)
            matches = case_list(user=user, f=CaseFilter.from_params(qd)).count()

            def get(params=params, client=client):
                response = client.get(url, params)
                assert response.status_code == 200, response.status_code

            times, cpu, counts, sqls = timed(get, args.reps, WARMUP, args.budget)
            row = _row(f"{username}: {label}", matches, times, cpu, counts, LIST_TARGET_MS)
            rows.append(row)
            plans.append({"scenario": row["scenario"], "sqls": sqls, "over": not row["pass"]})
            print(_fmt_row(row), flush=True)
    if not args.only or any("stats" in o for o in args.only):
        argv = ["cases", "stats", "--from", "2024-01-01", "--to", "2024-12-31", "--by", "month"]

        def stats():
            call_command(*argv, stdout=io.StringIO())

        times, cpu, counts, sqls = timed(stats, STATS_REPS, 1)
        n2024 = case_period(Case.objects.all(), dt.date(2024, 1, 1), dt.date(2024, 12, 31)).count()
        row = _row("`xiaobao " + " ".join(argv) + "`", n2024, times, cpu, counts, STATS_TARGET_MS)
        rows.append(row)
        plans.append({"scenario": row["scenario"], "sqls": sqls, "over": not row["pass"]})
        print(_fmt_row(row), flush=True)
    return rows, plans


def _row(scenario, matches, times, cpu, counts, target) -> dict:
    p95 = pct(times, 95)
    return {
        "scenario": scenario,
        "rows": matches,
        "queries": f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}",
        "median": statistics.median(times),
        "p95": p95,
        "cpu": statistics.median(cpu),
        "target": target,
        "pass": p95 < target,
        "reps": len(times),
    }


TABLE_HEAD = (
    "| scenario | rows | queries | n | median ms | p95 ms | CPU ms (median) | target (p95) | result |"
)


def _fmt_row(r: dict) -> str:
    return (
        f"| {r['scenario']} | {r['rows']:,} | {r['queries']} | {r['reps']} | {r['median']:.0f} | {r['p95']:.0f} | "
        f"{r['cpu']:.0f} | < {r['target']:.0f} | {'pass' if r['pass'] else '**FAIL**'} |"
    )


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


def environment(args, meta: dict) -> list[tuple[str, str]]:
    import django
    from django.db import connection

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            import sqlite3

            version = f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL, default cache)"
            size = sum(
                p.stat().st_size
                for p in Path(connection.settings_dict["NAME"]).parent.glob("xiaobao.sqlite3*")
            )
        else:
            cur.execute("SHOW server_version")
            v = cur.fetchone()[0]
            settings = []
            for name in (
                "shared_buffers",
                "work_mem",
                "effective_cache_size",
                "max_parallel_workers_per_gather",
                "jit",
            ):
                cur.execute(f"SHOW {name}")
                settings.append(f"{name}={cur.fetchone()[0]}")
            version = f"PostgreSQL {v} ({', '.join(settings)})"
            cur.execute("SELECT pg_database_size(current_database())")
            size = cur.fetchone()[0]
    mem = "?"
    try:
        kb = int(
            next(
                x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")
            ).split()[1]
        )
        mem = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration, ValueError):
        pass
    import xiaobao

    rev = CODE_REV
    if not rev:
        import subprocess

        rev = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
        ).stdout.strip()
        rev += " (working tree)"
    rev += f", xiaobao imported from {Path(xiaobao.__file__).parent.parent}"
    return [
        ("date", dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z") + f", code at {rev}"),
        ("CPU", f"{cpu}, {os.cpu_count()} cores, {mem} RAM"),
        ("database", version),
        ("software", f"Python {platform.python_version()}, Django {django.get_version()}"),
        ("cases", f"{meta['cases']:,} (generated {meta.get('loaded_on', '?')}; database size {size / 2**30:.2f} GiB)"),
        ("load time", f"{meta['load_seconds']:.0f} s (org, users, customers, cases, indexes and search index)"),
        ("search index", check_search_index()),
        ("machine load", meta.get("loadavg", "?")),
        ("what-if", "; ".join(meta.get("changes") or []) or "none (the code and schema as they are)"),
        ("method", f"Django test Client, full stack incl. template; {args.reps} reps after {WARMUP} warm-ups "
                   f"({STATS_REPS} after 1 for stats); p95 = nearest rank"
                   + (f"; time budget {args.budget:.0f} s per scenario" if args.budget else "")),
    ]  # fmt: skip


def write_report(args, meta: dict, rows: list[dict], plans: list[dict]) -> Path:
    from django.db import connection

    from xiaobao.cases.views import PAGE_SIZE

    lines = [f"# Case list, search and statistics: {connection.vendor}", ""]
    lines += [f"- **{k}**: {v}" for k, v in environment(args, meta)]
    lines += [
        "",
        TABLE_HEAD,
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    lines += [_fmt_row(r) for r in rows]
    # The same page for a user who sees 1,000,000 cases and one who sees 131,660, and every
    # repetition: one count (a search on SQLite adds its index probes, the same for every size).
    by_page: dict[str, set[str]] = {}
    for r in rows:
        if "xiaobao cases" not in r["scenario"]:
            by_page.setdefault(r["scenario"].split(": ", 1)[-1], set()).add(str(r["queries"]))
    constant = all(len(counts) == 1 and "–" not in next(iter(counts)) for counts in by_page.values())
    shown_counts = "; ".join(f"{page}: {', '.join(sorted(counts))}" for page, counts in by_page.items())
    lines += [
        "",
        f"*rows*: cases matching the filter (the page shows {PAGE_SIZE}); for stats, the cases of 2024. "
        "*queries*: per request, min–max over the repetitions (session, user and audit queries included). "
        "*n*: repetitions measured (fewer than asked only when `--budget` ran out on a scenario far over "
        "target). *CPU ms*: CPU time of the Django process plus the PostgreSQL backend serving it (without parallel "
        "workers), a load-independent companion of the wall time when other processes share the cores. "
        f"Per-query times and plans: `{args.out or f'cases-list-{args.db}'}-plans.md`.",
        "",
        "Constant query count (each page the same for every user and repetition, whatever the rows): "
        f"{'pass' if constant else '**FAIL**'} ({shown_counts}).",
        "",
    ]
    name = args.out or f"cases-list-{args.db}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.md"
    out.write_text("\n".join(lines))
    write_plans(RESULTS / f"{name}-plans.md", plans)
    return out


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + sql)
            return "\n".join(f"{r[0]:>3} {r[1]:>3} {r[3]}" for r in cur.fetchall())
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(r[0] for r in cur.fetchall())


def query_ms(sql: str, reps: int = 3) -> tuple[float, int]:
    """Median time of one query including fetching every row (Django's debug cursor only times
    execute(), which on SQLite returns at the first row)."""
    from django.db import connection

    times, n = [], 0
    with connection.cursor() as cur:
        for _ in range(reps):
            t0 = time.perf_counter()
            cur.execute(sql)
            n = len(cur.fetchall())
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), n


def write_plans(path: Path, plans: list[dict], threshold_ms: float = 10.0) -> None:
    """Every query of each scenario on cases_case, re-run with full fetch; plans of the slow ones."""
    out = [
        "# Queries of each scenario, re-run alone (median of 3, rows fetched), and plans of the slow ones",
        "",
    ]
    explained: dict[str, str] = {}
    timed_sql: dict[str, tuple[float, int]] = {}
    for p in plans:
        out += [f"## {p['scenario']}{' (over target)' if p['over'] else ''}", ""]
        for sql in p["sqls"]:
            if not sql.lstrip().upper().startswith("SELECT") or "cases_case" not in sql:
                continue
            if sql not in timed_sql:
                timed_sql[sql] = query_ms(sql)
            ms, n = timed_sql[sql]
            out.append(f"- **{ms:.1f} ms**, {n} rows: `{sql[:160]}…`")
            if ms >= threshold_ms:
                if sql in explained:
                    out.append(f"  (plan: see {explained[sql]})")
                    continue
                explained[sql] = p["scenario"]
                out += ["", "  ```sql", "  " + sql, "  ```", "", "  ```"]
                out += ["  " + line for line in explain(sql).splitlines()]
                out += ["  ```", ""]
        out.append("")
    path.write_text("\n".join(out))


# ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="skip generation when the data exists")
    parser.add_argument("--reps", type=int, default=REPS)
    parser.add_argument(
        "--budget",
        type=float,
        default=0,
        help=f"seconds per scenario after which repetitions stop (never below {MIN_REPS}); 0 = all",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--users", nargs="+", default=["xb_wang", "jn_kf1"])
    parser.add_argument("--only", nargs="*", help="run only scenarios whose label contains one of these")
    parser.add_argument("--data-dir", help="data folder (default bench/results/tmp/<db>)")
    parser.add_argument("--pg-name", default=PG_NAME, help="PostgreSQL database name")
    parser.add_argument("--out", help="results file stem (default cases-list-<db>)")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--what-if", nargs="*", default=[], help="query-change patches from bench/whatif.py")
    parser.add_argument(
        "--setup-sql",
        action="append",
        default=[],
        help="statement run before measuring (index what-ifs; only on a scratch copy)",
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="run the committed code (git archive HEAD) instead of the working tree that others are editing",
    )
    args = parser.parse_args()

    data_dir = configure_env(args)
    prepare_database(args, data_dir)
    sys.path.insert(0, str(snapshot() if args.snapshot else ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    meta = existing_meta(args.cases) if args.reuse else None
    if meta:
        print(f"reusing {meta['cases']:,} cases (loaded in {meta['load_seconds']} s)", flush=True)
    else:
        if args.reuse:
            from django.db import connection

            connection.close()
            prepare_database(argparse.Namespace(**{**vars(args), "reuse": False}), data_dir)
            call_command("migrate", verbosity=0)
        meta = build(args)
    if args.load_only:
        return
    if args.setup_sql and not (args.data_dir or args.pg_name != PG_NAME):
        sys.exit("--setup-sql changes the database: use it on a scratch copy (--data-dir / --pg-name)")
    from django.db import connection

    for sql in args.setup_sql:
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(sql)
        print(f"setup: {sql} ({time.perf_counter() - t0:.1f} s)", flush=True)
    import whatif

    meta["changes"] = whatif.apply(args.what_if) + [f"`{sql}`" for sql in args.setup_sql]
    print(TABLE_HEAD, flush=True)
    load_before, pressure_before = os.getloadavg(), cpu_pressure()
    rows, plans = measure(args)
    meta["loadavg"] = (
        f"1-minute load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after; "
        f"CPU pressure (share of time some task waited for a core, avg60) {pressure_before} before, "
        f"{cpu_pressure()} after"
    )
    out = write_report(args, meta, rows, plans)
    print()
    print(out.read_text())


if __name__ == "__main__":
    main()
