"""How a numerator or denominator reads: counts whole, amounts as stored (Decimal yuan), and a
computed float (the quality index's weighted sum) to at most four places, without trailing zeros."""

from django import template

register = template.Library()


@register.filter
def kpi_number(value):
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text or "0"
    return value
