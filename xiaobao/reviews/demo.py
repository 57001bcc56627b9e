"""Demo 消保审查: every year since 2024, the branch's marketing material, sales scripts, contract terms,
new products and internal rules go through review; most opinions are adopted, a few partly or not
(with a reason); two signed-off files later change and are reviewed again; and today a few reviews
are still open, one of them waiting for the submitter's answers.

Rows are written in bulk with their event rows, as the services would leave them; each document is a
small generated file, stored by its SHA-256 like an upload.
"""

import datetime as dt
import hashlib
import random

from django.core.files.base import ContentFile
from django.utils import timezone

from xiaobao.education.demo import read_context
from xiaobao.reviews.models import (
    Adoption,
    ChecklistItem,
    ItemResult,
    Outcome,
    ReviewDocument,
    ReviewEvent,
    ReviewItem,
    ReviewRequest,
    ReviewStatus,
    ReviewType,
)

SUBMITTERS = ["kf_zhao", "lp_chen", "fgs_head", "jn_head", "qd_head", "yt_head", "wf_kf1", "ly_kf1"]
REVIEWERS = ["xb_wang", "xb_li"]
SUBJECTS = {
    ReviewType.MARKETING: [
        "{product}产品宣传折页",
        "{product}朋友圈海报",
        "“守住钱袋子”宣传长图",
        "{product}短视频脚本",
        "客户答谢会邀请函",
        "开门红宣传单页",
    ],
    ReviewType.PRODUCT: ["{product}上市前消保审查", "{product}(升级版)条款费率审查"],
    ReviewType.CONTRACT: ["{product}保险条款", "投保须知及风险提示书", "保全变更申请书 (修订)"],
    ReviewType.SCRIPT: ["银保渠道{product}销售话术", "电销回访话术", "个险{product}产品说明会讲稿"],
    ReviewType.RULES: ["分公司消费投诉处理实施细则", "个人信息保护管理办法 (修订)", "营销宣传管理实施细则"],
}
PRODUCTS = [
    "瀚海福享终身寿险",
    "瀚海鑫享年金保险",
    "瀚海安康重大疾病保险",
    "瀚海金账户两全保险",
    "瀚海护航医疗保险",
]
VOLUMES = {
    ReviewType.MARKETING: 16,
    ReviewType.SCRIPT: 7,
    ReviewType.CONTRACT: 5,
    ReviewType.PRODUCT: 4,
    ReviewType.RULES: 4,
}
OPINIONS = {
    "disclosure": "请在首页显著位置标明保险公司全称和产品全称 (含“分红型”字样)。",
    "no_misleading_returns": "“年化收益可达 5%”属演示利率，须注明“演示利率不代表实际收益，分红不保证”。",
    "risk_warning": "风险提示字号明显小于正文，请调整为同等显著。",
    "suitability": "请明确适合人群和不适合人群，如风险承受能力低的客户不宜推介。",
    "identity_qualification": "请删除“监管机构推荐”字样，并标注宣传主体和联系方式。",
    "personal_info_consent": "扫码报名收集身份证号超出必要范围，请只收集姓名和电话并增加授权告知。",
    "plain_language": "专业用语较多，建议改写为通俗表述并放大字号，方便老年客户阅读。",
    "fair_terms": "责任免除条款未加粗提示，请显著标识并在投保流程中单独说明。",
    "cooling_off_surrender": "请补充犹豫期天数、犹豫期后退保按现金价值退还及退保损失示例。",
    "complaint_channel": "请载明 4008 客服热线和投诉渠道。",
    "fair_pricing": "请补充初始费用、保单管理费等费用项目的收取标准。",
    "no_induced_surrender": "“旧保单收益低，建议退保换新”有诱导退旧投新之嫌，请删除。",
    "traceable": "请在话术中增加双录提示语和关键信息确认环节。",
    "eight_rights": "请补充客户受尊重权和依法求偿权的保障措施。",
    "process_links": "请明确与溯源整改机制的衔接和时限。",
    "accountability": "请明确考核指标和责任追究情形。",
}
RESPONSES = {
    Adoption.ADOPTED: "已按意见修改，见新版本。",
    Adoption.PARTLY: "已补充提示内容；版面所限字号调整为正文的九成并加粗，其余按意见修改。",
    Adoption.REJECTED: "该表述沿用总公司已审定的产品说明书，拟由总公司统一修改，本次暂不调整。",
}


def _moment(rng: random.Random, day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime(day.year, day.month, day.day, rng.randint(9, 16), rng.randint(0, 59))
    )


def _workday(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    for _ in range(20):
        day = start + dt.timedelta(days=rng.randrange(max(1, (end - start).days + 1)))
        if day.weekday() < 5:
            return day
    return start


class ReviewBook:
    def __init__(self, rng: random.Random, users: dict, today: dt.date) -> None:
        self.rng = rng
        self.users = users
        self.today = today
        self.now = timezone.now()
        self.checklists: dict[str, list[ChecklistItem]] = {}
        for item in ChecklistItem.objects.filter(active=True):
            self.checklists.setdefault(item.review_type, []).append(item)
        self.count = 0
        self._seq: dict[int, int] = {}

    def _no(self, year: int) -> str:
        self._seq[year] = self._seq.get(year, 0) + 1
        return f"XBSC{year}-{self._seq[year]:04d}"

    def _document(self, review: ReviewRequest, version: int, who, at: dt.datetime) -> ReviewDocument:
        body = f"%PDF-1.4\n% {review.review_no} {review.title} v{version}\n".encode()
        digest = hashlib.sha256(body).hexdigest()
        document = ReviewDocument(
            request=review,
            version=version,
            original_name=f"{review.title}_v{version}.pdf",
            sha256=digest,
            content_type="application/pdf",
            size=len(body),
            uploaded_by=who,
            uploaded_at=at,
        )
        document.file.save(f"{digest}.pdf", ContentFile(body), save=False)
        document.save()
        return document

    def review(
        self,
        review_type: str,
        submitted: dt.datetime,
        *,
        state: str = "signed",
        previous: ReviewRequest | None = None,
        title: str = "",
    ) -> ReviewRequest:
        """One review, from submission to `state`: "submitted", "waiting" (an opinion unanswered),
        "answered" (ready to sign off) or "signed"."""
        rng = self.rng
        submitter = self.users[rng.choice(SUBMITTERS)]
        reviewer = self.users[rng.choice(REVIEWERS)]
        title = title or rng.choice(SUBJECTS[review_type]).format(product=rng.choice(PRODUCTS))
        review = ReviewRequest.objects.create(
            review_no=self._no(submitted.year),
            title=title,
            review_type=review_type,
            unit=submitter.unit,
            description="" if previous is None else f"文件变更，重新审查 (前一轮: {previous.review_no})",
            submitter=submitter,
            submitted_at=submitted,
            previous=previous,
        )
        self.count += 1
        document = self._document(review, 1, submitter, submitted)
        events = [
            ReviewEvent(
                request=review,
                at=submitted,
                actor=submitter,
                action="submit",
                to_status="待审查",
                details={"sha256": document.sha256},
            )
        ]
        checklist = self.checklists.get(review_type, [])
        items = [
            ReviewItem(
                request=review, checklist_item=c, code=c.code, title=c.title, basis=c.basis, order=c.order
            )
            for c in checklist
        ]
        if state == "submitted":
            ReviewItem.objects.bulk_create(items)
            ReviewEvent.objects.bulk_create(events)
            return review
        reviewed_at = submitted + dt.timedelta(hours=rng.randint(4, 60))
        with_opinion = rng.sample(range(len(items)), k=min(len(items), rng.choice([0, 1, 1, 2, 2, 3])))
        if state == "waiting" and not with_opinion and items:
            with_opinion = [0]
        for index, item in enumerate(items):
            item.reviewed_by, item.reviewed_at = reviewer, reviewed_at
            if index in with_opinion:
                item.result = ItemResult.OPINION
                item.opinion = OPINIONS.get(item.code, "请按审查要点补充完善。")
            else:
                item.result = ItemResult.NOT_APPLICABLE if rng.random() < 0.08 else ItemResult.PASS
        events.append(
            ReviewEvent(
                request=review,
                at=reviewed_at,
                actor=reviewer,
                action="review",
                from_status="待审查",
                to_status="审查中",
                details={"opinions": len(with_opinion)},
            )
        )
        answered_at = reviewed_at + dt.timedelta(hours=rng.randint(3, 72))
        answers = [] if state == "waiting" else with_opinion
        for index in answers:
            item = items[index]
            item.adoption = rng.choices(
                [Adoption.ADOPTED, Adoption.PARTLY, Adoption.REJECTED], weights=[70, 20, 10]
            )[0]
            item.response = RESPONSES[item.adoption]
            item.responded_by, item.responded_at = submitter, answered_at
            events.append(
                ReviewEvent(
                    request=review,
                    at=answered_at,
                    actor=submitter,
                    action="respond",
                    reason=item.response,
                    details={"item": item.code, "adoption": item.adoption},
                )
            )
        ReviewItem.objects.bulk_create(items)
        review.reviewer = reviewer
        review.status = ReviewStatus.IN_REVIEW
        if answers and any(items[i].adoption != Adoption.REJECTED for i in answers):
            document = self._document(review, 2, submitter, answered_at)
            events.append(
                ReviewEvent(
                    request=review,
                    at=answered_at,
                    actor=submitter,
                    action="upload",
                    details={"version": 2, "sha256": document.sha256},
                )
            )
        if state == "signed":
            signed_at = max(answered_at, reviewed_at) + dt.timedelta(hours=rng.randint(2, 48))
            review.status = ReviewStatus.SIGNED_OFF
            review.outcome = Outcome.REJECTED if rng.random() < 0.05 else Outcome.APPROVED
            review.sign_off_note = (
                "同意使用。" if review.outcome == Outcome.APPROVED else "宣传内容与产品实际不符，不同意使用。"
            )
            review.signed_off_at = signed_at
            review.reviewed_sha256 = document.sha256
            events.append(
                ReviewEvent(
                    request=review,
                    at=signed_at,
                    actor=reviewer,
                    action="sign_off",
                    from_status="审查中",
                    to_status="已签批",
                    reason=review.sign_off_note,
                    details={"outcome": review.outcome, "sha256": document.sha256},
                )
            )
        review.save()
        ReviewEvent.objects.bulk_create(events)
        return review

    def year(self, year: int, scale: float) -> None:
        until = min(dt.date(year, 12, 20), self.today - dt.timedelta(days=14))
        start = dt.date(year, 1, 3)
        if until <= start:
            return
        share = (until - start).days / 351
        signed = []
        for review_type, volume in VOLUMES.items():
            for _ in range(max(1, round(volume * scale * share))):
                day = _workday(self.rng, start, until)
                signed.append(self.review(review_type, _moment(self.rng, day)))
        # Two signed-off files change later in the year and are reviewed again.
        changed = [
            r for r in signed if r.review_type == ReviewType.MARKETING and r.signed_off_at.date() < until
        ][:2]
        for old in changed:
            day = min(old.signed_off_at.date() + dt.timedelta(days=self.rng.randint(20, 60)), until)
            self.review(old.review_type, _moment(self.rng, day), previous=old, title=old.title)

    def open_queue(self) -> None:
        """Today's open reviews: two waiting for a reviewer, two for answers, one ready to sign off."""
        for offset, state, review_type in [
            (1, "submitted", ReviewType.MARKETING),
            (2, "submitted", ReviewType.SCRIPT),
            (4, "waiting", ReviewType.MARKETING),
            (6, "waiting", ReviewType.CONTRACT),
            (5, "answered", ReviewType.PRODUCT),
        ]:
            day = self.today - dt.timedelta(days=offset)
            self.review(review_type, _moment(self.rng, day), state=state)


def build(ctx) -> dict:
    c = read_context(ctx, "reviews")
    book = ReviewBook(c.rng, c.users, c.today)
    # Reviews are few; only a tiny test scale trims them.
    scale = max(0.1, min(1.0, c.scale * 5))
    for year in range(2024, c.today.year + 1):
        book.year(year, scale)
    book.open_queue()
    return {"reviews": book.count}
