"""Demo training: about ten sessions a year since 2024 (regulatory briefings, rules, complaint-handling
skills, sales conduct, privacy, cases, 高管讲消保), attendance covering most staff, and a few people
who missed every session of 2024 so the "not yet trained" list has names.

Sessions of the current year stop at the demo's today, so this year's coverage is still growing.
Derived from the demo seed alone; the volume is a branch's, so `scale` does not change it.
"""

import datetime as dt
import random
from decimal import Decimal

from xiaobao.accounts.models import Role
from xiaobao.governance.demo import context
from xiaobao.training.models import Attendance, AttendanceSource, TrainingSession

BRANCH = "8637"
TRAINING_PLAN = [
    # (month, day, kind, topic, trainer, hours, who)
    (1, 18, "监管政策解读", "《银行保险机构消费者权益保护管理办法》解读", "分公司消保部 王老师", 2, "all"),
    (2, 22, "消保制度", "消保制度体系与岗位职责全员学习", "分公司消保部", 2, "all"),
    (3, 20, "投诉处理技能", "投诉接待与沟通技巧", "外部讲师", 3, "handlers"),
    (4, 16, "销售合规", "“三适当”与销售行为可回溯", "个险业务部", 2, "staff"),
    (5, 21, "个人信息保护", "个人信息保护与查看留痕", "运营管理部", 1.5, "all"),
    (6, 25, "案例警示", "以案说险：代理退保典型案例", "分公司消保部", 2, "central"),
    (7, 16, "高管讲消保", "高管讲消保：有诉即有责", "分公司总经理", 1.5, "leaders"),
    (9, 10, "金融知识", "金融知识普及月宣讲员培训", "分公司消保部", 2, "officers"),
    (10, 22, "投诉处理技能", "监管转办投诉的办理时限与核查", "分公司消保部", 2, "handlers"),
    (11, 26, "监管政策解读", "金融消保监管评价办法解读", "分公司消保部 李老师", 2, "leaders"),
]


def _who(rule: str, staff: list) -> list:
    """The people a session is for, by the plan's rule."""
    if rule == "handlers":
        return [u for u in staff if u.has_role(Role.HANDLER, Role.OFFICER)]
    if rule == "leaders":
        return [u for u in staff if u.has_role(Role.UNIT_HEAD, Role.OFFICER, Role.ADMIN, Role.AUDITOR)]
    if rule == "officers":
        return [u for u in staff if u.has_role(Role.OFFICER)]
    if rule == "central":
        return [u for u in staff if u.unit.code.startswith(BRANCH + "0")]  # the 中支 and their departments
    if rule == "staff":
        return [u for u in staff if not u.has_role(Role.AUDITOR)]
    return list(staff)


def build(ctx) -> dict:
    c = context(ctx)
    rng = random.Random(f"{c.seed}-training")
    branch = c.units[BRANCH]
    staff = sorted((u for u in c.users.values() if u.unit_id is not None and u.is_active), key=lambda u: u.pk)
    officer = c.users.get("xb_wang")
    # Three handlers of the 中支 missed everything in 2024: the list of who has not been trained.
    skipped_2024 = {u.pk for u in rng.sample([u for u in staff if u.username.endswith("_kf2")], 3)}
    sessions = attendances = 0
    for year in range(2024, c.today.year + 1):
        seq = 0
        for month, day, kind, topic, trainer, hours, rule in TRAINING_PLAN:
            held_on = dt.date(year, month, day)
            if held_on > c.today:
                break
            seq += 1
            session = TrainingSession.objects.create(
                ref=f"PX{year}-{seq:03d}",
                unit=branch,
                topic=topic,
                kind=kind,
                mode="线上线下" if rule == "all" else "线下",
                trainer=trainer,
                held_on=held_on,
                hours=Decimal(str(hours)),
                audience={
                    "all": "全体员工",
                    "handlers": "投诉处理岗、消保岗",
                    "leaders": "机构负责人及管理岗",
                }.get(rule, ""),
                description=f"{topic}。培训后进行随堂测试。",
                created_by=officer,
            )
            sessions += 1
            imported = rng.random() < 0.5
            rows = []
            for person in _who(rule, staff):
                if year == 2024 and person.pk in skipped_2024:
                    continue
                if rng.random() < 0.12:  # on leave, on the road: caught up in a later session
                    continue
                rows.append(
                    Attendance(
                        session=session,
                        user=person,
                        source=AttendanceSource.IMPORT if imported else AttendanceSource.FORM,
                        score=Decimal(rng.randint(72, 100)) if kind != "高管讲消保" else None,
                        recorded_by=officer,
                    )
                )
            Attendance.objects.bulk_create(rows)
            attendances += len(rows)
    return {"training_sessions": sessions, "training_attendance": attendances}
