"""`xiaobao assessment`: the yearly catalogue and a unit's self-assessment from the command line.

xiaobao assessment catalogue --year Y              建立年度指标体系 (复制最近一年，首年用默认)
xiaobao assessment prefill --year Y --unit CODE    按最新记录预填 (自评不存在时先建立)
xiaobao assessment show --year Y --unit CODE       总分、各要素得分、预填数据及来源 (JSON)
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from xiaobao.assessment import services
from xiaobao.assessment.models import Assessment, Catalogue
from xiaobao.assessment.selectors import assessment_comparison, assessment_result
from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.org.models import Unit


class Command(XiaobaoCommand):
    help = "消保自评: catalogue | prefill | show"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["catalogue", "prefill", "show"])
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--unit", help="机构代码 (prefill / show)")

    def handle(self, *args, action, year, unit=None, **options):
        try:
            if action == "catalogue":
                catalogue = services.catalogue_create(actor=None, year=year)
                self.stdout.write(
                    json.dumps(
                        {"year": catalogue.year, "indicators": catalogue.indicators.count()},
                        ensure_ascii=False,
                    )
                )
                return
            if not unit:
                raise CommandError("--unit 必填")
            target = Unit.objects.filter(code=unit).first()
            if target is None:
                raise CommandError(f"--unit: 机构 {unit!r} 不存在")
            assessment = Assessment.objects.filter(catalogue__year=year, unit=target).first()
            if action == "prefill":
                if assessment is None:
                    if not Catalogue.objects.filter(year=year).exists():
                        raise CommandError(
                            f"{year} 年的指标体系尚未建立: xiaobao assessment catalogue --year {year}"
                        )
                    assessment = Assessment.objects.create(
                        catalogue=Catalogue.objects.get(year=year), unit=target
                    )
                available = services.assessment_prefill(actor=None, assessment=assessment)
                self.stdout.write(
                    json.dumps({"assessment": assessment.pk, "available": available}, ensure_ascii=False)
                )
                return
            if assessment is None:
                raise CommandError(f"{unit} {year} 年的自评不存在")
            self.stdout.write(json.dumps(assessment_report(assessment), ensure_ascii=False, default=str))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None


def assessment_report(assessment: Assessment) -> dict:
    scores = list(assessment.scores.select_related("indicator").prefetch_related("evidence"))
    result = assessment_result(assessment, scores)
    comparison = assessment_comparison(assessment, result)
    return {
        "year": assessment.year,
        "unit": assessment.unit.code,
        "status": assessment.status,
        "total": result["total"],
        "scored": result["scored"],
        "indicators": result["count"],
        "elements": [
            {k: row[k] for k in ("element", "weight", "score", "weighted", "scored", "count")}
            for row in result["elements"]
        ],
        "previous": {"year": comparison["year"], "total": comparison["total"], "change": comparison["change"]}
        if comparison
        else None,
        "scores": [
            {
                "code": s.indicator.code,
                "element": s.indicator.element,
                "score": s.score,
                "points": s.indicator.points,
                "prefilled": s.prefilled,
                "figure": s.figure or None,
                "evidence": [e.url for e in s.evidence.all()],
            }
            for s in scores
        ],
    }
