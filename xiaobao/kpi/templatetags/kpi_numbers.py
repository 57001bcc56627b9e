"""How a numerator or denominator reads: counts whole, amounts as stored (Decimal yuan, with their
places), and a computed float (the quality index's weighted sum) to at most four places, without
trailing zeros; grouped by three with a comma, as the reports write them (886,610,530.00)."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def kpi_number(value):
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.4f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return f"{value:,}"
    return value
