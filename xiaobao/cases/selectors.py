"""Reads of cases: the desk's views and filters, full-text search, repeat complainants."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, DateField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.cases.models import (
    OPEN_STATUSES,
    UNDECIDED_STATUSES,
    Case,
    CaseKind,
    CaseStatus,
    Category,
    Channel,
)

REPEAT_WINDOW_DAYS = 90
SORTS = {
    "received": "-received_at",
    "received_asc": "received_at",
    "due": "due_date",
    "due_desc": "-due_date",
    "no": "case_no",
}
VIEWS = ["all", "mine", "unit", "due_today", "overdue", "urgent"]


def case_scope(user) -> QuerySet[Case]:
    return access.scope(Case.objects.all(), user)


def overdue_q(today: dt.date) -> Q:
    """Open past the deadline in force. A paused case's clock is stopped, so it is not overdue."""
    return Q(status__in=UNDECIDED_STATUSES, due_date__lt=today)


def _desk_overdue_q(today: dt.date) -> Q:
    """overdue_q for the desk's scoped list. On SQLite the deadline is compared through a unary
    plus (the same values and result), so SQLite does not pick the (status, due_date) index, which
    has no unit: it read every overdue case of the table and looked each row up for its unit. It
    then reads the scope's open cases from the covering (unit, status, …, due_date) index for the
    count, and walks received_at for the page (1M cases: count 107 → 6 ms for the branch, 196 →
    0.3 ms for a department; page 180 → 6 and 168 → 12 ms). Reminders and statistics, which are
    not scoped, keep overdue_q and that index."""
    if connection.vendor != "sqlite":
        return overdue_q(today)
    return Q(status__in=UNDECIDED_STATUSES) & Q(
        LessThan(_Plus(F("due_date"), output_field=DateField()), today)
    )


class _Plus(Func):
    """`+<expression>`: in SQLite a no-op on the value that hides the column from index choice."""

    template = "(+%(expressions)s)"


# SQLite full-text search: a phrase with at least this many matches is "common" (see search_q).
FTS_COMMON_HITS = 2_000
# The capped count of a search is driven by the matches' rowids up to this many matches (search_q).
FTS_COUNT_BY_ROWID = 20_000
FTS_MATCH = "SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s"
# What the FTS5 index holds of a description: the text and an end mark (migration 0008), so that a
# 2-character term at the very end of a text is a trigram too ("骨折\n").
FTS_INDEXED = "description || char(10)"
# The index's vocabulary: the trigrams that begin with a 2-character term are one range of it.
FTS_TERMS = "SELECT term FROM cases_case_fts_terms WHERE term >= %s AND term < %s"
# A 2-character term begun by more distinct trigrams than this is looked for by a scan instead (an OR
# of thousands of trigrams costs more than it saves).
FTS_MAX_TERMS = 2_000
TRIGRAM = 3  # shortest term a trigram index can serve


def search_q(text: str, *, counting: bool = False, many: bool = False, memo: dict | None = None) -> Q:
    """Chinese full-text search over descriptions: FTS5 trigram on SQLite, pg_trgm on PostgreSQL
    (a GIN index on UPPER(description), which serves icontains).

    SQLite: FTS5 first counts up to FTS_COMMON_HITS matches (cheap: it streams rowids). A rare
    phrase keeps `id IN (…)`, which fetches its few rows by rowid. A common one is filtered with
    `+id IN (…)`: the unary plus stops SQLite from driving the query by rowid, so it walks the
    received_at index newest first and stops at the page's 50th match instead of fetching and
    sorting every match (bench/results/cases-list.md, finding 5). The capped count (counting=True,
    unordered) keeps `id IN (…)` up to FTS_COUNT_BY_ROWID matches: it looks up at most that many
    rows, where the `+id` form would walk every case in scope to count a term found in 1 % of them
    (1,000,000 cases: 351 → 20 ms); past it, a phrase in a tenth of the cases, the walk stops at the
    cap sooner than the lookups would.

    SQLite, a 2-character term without cased letters (a Chinese word, digits): the OR of the
    trigrams in the index that begin with it (_fts_phrase), the same two ways.

    Other terms shorter than a trigram cannot use either index and fall back to a scan with LIKE;
    on PostgreSQL a term without cased letters (Chinese, digits) skips UPPER() on every row.

    `memo`: where the SQLite probe is kept, so a page and its count (CaseFilter.fts) read it once.
    """
    text = text.strip()
    if connection.vendor == "sqlite":
        phrase, hits = _fts_probe(text, {} if memo is None else memo)
        if phrase == "":
            return Q(pk__in=[])  # no trigram begins with the term: no description holds it
        if phrase is not None:
            if hits >= (FTS_COUNT_BY_ROWID if counting else FTS_COMMON_HITS):
                return Q(_PlusIn(F("pk"), RawSQL(FTS_MATCH, [phrase])))
            return Q(pk__in=RawSQL(FTS_MATCH, [phrase]))
    if connection.vendor == "postgresql" and text.upper() == text.lower():
        if len(text) < TRIGRAM:
            if many:
                # A short term the capped count found on more than a page's worth of cases:
                # strpos(…) > 0, the same test as LIKE '%…%', has no statistics behind it, so the
                # planner assumes a third of the rows match and walks received_at to the page's
                # rows, instead of trusting a histogram that may hold no description with the term
                # (then it takes 1 % for 0.01 % and sorts a department's 131,660 cases: 813 ms).
                return Q(GreaterThan(StrIndex("description", Value(text)), 0))
            return Q(description__contains=text)
        if counting:
            # The trigram index serves UPPER(…) LIKE; the plain LIKE, the same test for a term
            # without cased letters, is cheaper per row, so the capped count, which reads up to
            # 10,001 matches, checks it first (common phrase: 200 → 73 ms). Not in the page's
            # query: the planner multiplies the two tests' shares as if they were independent
            # and, thinking a common phrase rare, sorts all its matches instead of walking
            # received_at (13,000 matches in a department: 250 ms instead of 20).
            return Q(description__icontains=text) & Q(description__contains=text)
    return Q(description__icontains=text)


def short_search_plan_differs(text: str) -> bool:
    """Whether search_q(text, many=True) differs from search_q(text)."""
    text = text.strip()
    return connection.vendor == "postgresql" and 0 < len(text) < TRIGRAM and text.upper() == text.lower()


def counts_differently(text: str) -> bool:
    """Whether search_q(text, counting=True) may differ from search_q(text)."""
    text = text.strip()
    if connection.vendor == "sqlite":
        return len(text) >= TRIGRAM or _two_characters_indexed(text)
    return connection.vendor == "postgresql" and len(text) >= TRIGRAM and text.upper() == text.lower()


class _PlusIn(Func):
    """`+<column> IN (<subquery>)`: the unary plus makes the column an expression, so SQLite does
    not use it (the rowid) to drive the query."""

    arg_joiner = " IN "
    template = "(+%(expressions)s)"
    output_field = BooleanField()


def _two_characters_indexed(text: str) -> bool:
    """Whether SQLite's index serves this 2-character term: no cased letters, so the index's case
    folding leaves it as it is, and no quote (an FTS5 string delimiter)."""
    return len(text) == TRIGRAM - 1 and text.upper() == text.lower() and '"' not in text


def _fts_phrase(text: str) -> str | None:
    """The FTS5 query for `text` on SQLite: the quoted phrase for a term of 3 characters or more;
    for a 2-character term (_two_characters_indexed), the OR of the trigrams in the index that begin
    with it ("" when there is none, None past FTS_MAX_TERMS); None for any other term (a scan)."""
    if len(text) >= TRIGRAM:
        return '"' + text.replace('"', '""') + '"'
    if not _two_characters_indexed(text):
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"{FTS_TERMS} LIMIT {FTS_MAX_TERMS + 1}", [text, text + "\U0010ffff"])
        terms = [term for (term,) in cursor.fetchall()]
    if len(terms) > FTS_MAX_TERMS:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _fts_probe(text: str, memo: dict) -> tuple[str | None, int]:
    """(_fts_phrase(text), how many descriptions match it counted up to FTS_COUNT_BY_ROWID), read
    once per memo."""
    if text not in memo:
        phrase = _fts_phrase(text)
        memo[text] = (phrase, _fts_hits(phrase) if phrase else 0)
    return memo[text]


def _fts_hits(phrase: str) -> int:
    """How many descriptions match, counted up to FTS_COUNT_BY_ROWID (search_q compares the count
    with FTS_COMMON_HITS, which is lower, for a page and with the limit itself for a count)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({FTS_MATCH} LIMIT {int(FTS_COUNT_BY_ROWID)})", [phrase])
        return cursor.fetchone()[0]


def is_short_search(text: str) -> bool:
    """A search term too short for the trigram indexes: it is answered by a scan."""
    text = text.strip()
    if connection.vendor == "sqlite" and _two_characters_indexed(text):
        return False
    return 0 < len(text) < TRIGRAM


@dataclass
class CaseFilter:
    view: str = "all"
    status: str = ""
    kind: str = ""
    channel: str = ""
    category: str = ""
    unit: str = ""
    handler: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    overdue: bool = False
    urgent: bool = False
    claims: bool = False
    q: str = ""
    sort: str = "received"
    errors: list[str] = field(default_factory=list)
    # The SQLite search probe of `q`, shared by the page's and the count's querysets (search_q).
    fts: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_params(cls, params) -> "CaseFilter":
        f = cls()
        f.view = params.get("view") if params.get("view") in VIEWS else "all"
        for name, allowed in (
            ("status", CaseStatus.values),
            ("kind", CaseKind.values),
            ("channel", Channel.values),
            ("category", Category.values),
        ):
            value = params.get(name, "")
            if value and value not in allowed:
                f.errors.append(_("筛选条件「%(n)s」的值无效: %(v)s") % {"n": name, "v": value})
            elif value:
                setattr(f, name, value)
        f.unit = params.get("unit", "")[:32]
        handler = params.get("handler", "")
        # A user's number; more digits than any id column holds would crash the query (as in the API).
        if handler and not (handler.isascii() and handler.isdigit() and len(handler) <= 18):
            f.errors.append(_("处理人参数无效"))
        else:
            f.handler = handler
        for name, attr in (("from", "date_from"), ("to", "date_to")):
            value = params.get(name, "")
            if value:
                try:
                    setattr(f, attr, dt.date.fromisoformat(value))
                except ValueError:
                    f.errors.append(_("日期格式应为 YYYY-MM-DD: %(v)s") % {"v": value})
        f.overdue = params.get("overdue") in ("1", "on", "true")
        f.urgent = params.get("urgent") in ("1", "on", "true")
        f.claims = params.get("claims") in ("1", "on", "true")
        f.q = params.get("q", "")[:100]
        f.sort = params.get("sort") if params.get("sort") in SORTS else "received"
        return f


def case_list(
    *, user, f: CaseFilter, today: dt.date | None = None, counting: bool = False, many: bool = False
) -> QuerySet[Case]:
    """The desk's list: the user's scope, one of the views, then every filter, sorted. `counting`:
    the same cases, in the form cheapest to count; `many`: the search term is known to match many
    cases (see search_q)."""
    today = today or timezone.localdate()
    cases = case_scope(user).select_related("unit", "handler", "customer")
    if f.view == "mine":
        cases = cases.filter(handler=user, status__in=OPEN_STATUSES)
    elif f.view == "unit":
        cases = cases.filter(unit_id=user.unit_id, status__in=OPEN_STATUSES)
    elif f.view == "due_today":
        cases = cases.filter(status__in=UNDECIDED_STATUSES).filter(
            Q(due_date=today) | Q(response_due_date=today, responded_at=None)
        )
    elif f.view == "overdue":
        cases = cases.filter(_desk_overdue_q(today))
    elif f.view == "urgent":
        cases = cases.filter(urgent=True, status__in=OPEN_STATUSES)
    if f.status:
        cases = cases.filter(status=f.status)
    if f.kind:
        cases = cases.filter(kind=f.kind)
    if f.channel:
        cases = cases.filter(channel=f.channel)
    if f.category:
        cases = cases.filter(category=f.category)
    if f.unit:
        cases = cases.filter(unit__path__contains=f"/{f.unit}/")
    if f.handler:
        cases = cases.filter(handler_id=int(f.handler))
    if f.date_from:
        cases = cases.filter(received_at__gte=_start_of(f.date_from))
    if f.date_to:
        cases = cases.filter(received_at__lt=_start_of(f.date_to + dt.timedelta(days=1)))
    if f.overdue:
        cases = cases.filter(_desk_overdue_q(today))
    if f.urgent:
        cases = cases.filter(urgent=True)
    if f.claims:
        cases = cases.filter(claims_related=True)
    if f.q:
        cases = cases.filter(search_q(f.q, counting=counting, many=many, memo=f.fts))
    return cases.order_by(SORTS[f.sort], "-pk")


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def case_repeats(case: Case) -> QuerySet[Case]:
    """重复投诉: other cases of the same person (customer token) or the same policy within 90 days."""
    window = dt.timedelta(days=REPEAT_WINDOW_DAYS)
    match = Q()
    if case.customer_id:
        match |= Q(customer_id=case.customer_id)
    if case.policy_no:
        match |= Q(policy_no=case.policy_no)
    if not match:
        return Case.objects.none()
    return (
        Case.objects.filter(
            match, received_at__gte=case.received_at - window, received_at__lte=case.received_at + window
        )
        .exclude(pk=case.pk)
        .select_related("unit")
        .order_by("received_at")
    )


def desk_counts(*, user, today: dt.date | None = None) -> dict[str, int]:
    """The numbers on the desk's tabs, in one query.

    Every tab counts open cases only, so the scope is restricted to open statuses first (the
    (status, due_date) index, or the covering desk index, then skips the closed bulk of the table),
    and each tab's FILTER tests only what the WHERE has not: an undecided case is an open one
    that is not paused. The numbers are those of the tabs' lists (test_desk_counts_*)."""
    from django.db.models import Count

    today = today or timezone.localdate()
    scope = case_scope(user).filter(status__in=OPEN_STATUSES)
    undecided = ~Q(status__in=[s for s in OPEN_STATUSES if s not in UNDECIDED_STATUSES])
    return scope.aggregate(
        mine=Count("pk", filter=Q(handler=user)),
        unit=Count("pk", filter=Q(unit_id=user.unit_id)),
        due_today=Count(
            "pk", filter=undecided & (Q(due_date=today) | Q(response_due_date=today, responded_at=None))
        ),
        overdue=Count("pk", filter=undecided & Q(due_date__lt=today)),
        urgent=Count("pk", filter=Q(urgent=True)),
    )
