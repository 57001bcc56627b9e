"""`QuerySet.values()` for bulk reads, with each column's converters applied once per distinct value.

Django converts every fetched cell through the column's converters, row by row: on SQLite a
date-time arrives as text and is parsed and made aware for each row, a JSON column is decoded for
each row. An import that reads back thousands of stored rows per chunk, whose dates and extra
attributes repeat, spends most of that time converting the same texts again. `values_memo()`
runs the same SQL (Django's compiler builds it) and gives the same dicts, but remembers, per
column, what each raw value converted to.

The converters Django and its backends attach (date-times, dates, decimals, booleans, JSON, UUIDs)
are pure functions of the raw value, which is what makes this safe. Two raw values that are equal
but of different types (1 and True) are never one memo entry: the key carries the type. A value
that cannot be a key (a list from PostgreSQL) is converted as usual. A converted value that is
mutable (a decoded JSON object) is shared by the rows that stored the same text: callers read it,
they must not change it.
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.db.models.sql.constants import MULTI

MEMO_LIMIT = 50_000  # distinct raw values remembered per column and call


def values_memo(queryset: QuerySet, *fields: str) -> Iterator[dict[str, Any]]:
    """The rows of `queryset.values(*fields)`, equal to what Django gives, converted through a memo."""
    query = queryset.values(*fields).query
    compiler = query.get_compiler(using=queryset.db)
    results = compiler.execute_sql(MULTI)
    if results is None:  # an empty IN () or the like: Django answers without asking the database
        return
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    expressions = [s[0] for s in compiler.select[: compiler.col_count]]
    converters = compiler.get_converters(expressions)
    connection = compiler.connection
    plans = [(pos, convs, expression, {}) for pos, (convs, expression) in converters.items()]
    for chunk in results:
        for row in chunk:
            if plans:
                row = list(row)
                for pos, convs, expression, memo in plans:
                    raw = row[pos]
                    key = (raw.__class__, raw)
                    try:
                        value = memo[key]
                    except KeyError:
                        value = raw
                        for converter in convs:
                            value = converter(value, expression, connection)
                        if len(memo) < MEMO_LIMIT:
                            memo[key] = value
                    except TypeError:  # unhashable (a list or dict from the driver)
                        value = raw
                        for converter in convs:
                            value = converter(value, expression, connection)
                    row[pos] = value
            yield dict(zip(names, row, strict=True))
