"""Simplified Chinese, as a branch's reports and the regulator's tables write numbers.

Django's zh_Hans has no thousands separator, so `intcomma` printed 1234567 while the Python side
(KPI tables, reports, the decision notice) wrote 1,234,567. Financial Chinese groups by three with
a comma (¥12,345.60); everything else is Django's.
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
