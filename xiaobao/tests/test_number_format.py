"""Numbers on pages read as a branch writes them, in Chinese as in English: 1,234,567 and 12,345.60."""

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_grouped_by_three_with_a_comma(language):
    template = Template('{% load humanize %}{{ n|intcomma }} | {{ amount|floatformat:"2g" }} | {{ year }}')
    with translation.override(language):
        shown = template.render(Context({"n": 1234567, "amount": 12345.6, "year": 2024}))

    assert shown == "1,234,567 | 12,345.60 | 2024"  # a year is not a quantity: never grouped


def test_the_case_statistics_row_groups_its_counts():
    row = {"key": "总公司", "count": 281397, "closed": 280001, "open": 1396, "median_days_to_close": 12}
    row |= {"on_time_rate": 0.97, "overdue_now": 1203, "extended": 0, "regulator_forwarded": 281397}
    with translation.override("zh-hans"):
        html = render_to_string("cases/_stats_row.html", {"g": row})

    assert '<td class="num">281,397</td><td class="num">280,001</td><td class="num">1,396</td>' in html
    assert '<td class="num">1,203</td>' in html
