"""The intake check against the 疑似退保黑产信息库: which watchlist entries a record's tokens touch.

Cases, surrenders and import rows carry keyed-hash tokens (xiaobao.privacy.personal_token), so the
check is an equality lookup on tokens: no personal value is decrypted to run it.
"""

from collections.abc import Iterable

from xiaobao.risk.models import WatchEntry, WatchKind

# The token fields of a case's customer, by watchlist kind.
CUSTOMER_FIELDS = {
    WatchKind.PHONE: "phone_token",
    WatchKind.ACCOUNT: "account_token",
    WatchKind.NAME: "name_token",
    WatchKind.ADDRESS: "address_token",
}


def flags_for(tokens: Iterable[tuple[str, str]] | dict[str, Iterable[str]]) -> list[WatchEntry]:
    """The active entries matching any (kind, token) given; empty tokens match nothing.

    `tokens` is either pairs [("phone", t1), ("account", t2)] or {"phone": [t1, ...], ...}.
    """
    if isinstance(tokens, dict):
        pairs = [(kind, token) for kind, values in tokens.items() for token in values]
    else:
        pairs = list(tokens)
    wanted = {(kind, token) for kind, token in pairs if token and kind in WatchKind.values}
    if not wanted:
        return []
    candidates = WatchEntry.objects.filter(active=True, token__in={t for _k, t in wanted}).order_by("pk")
    return [entry for entry in candidates if (entry.kind, entry.token) in wanted]


def case_tokens(case) -> list[tuple[str, str]]:
    customer = case.customer
    if customer is None:
        return []
    return [(kind, getattr(customer, field)) for kind, field in CUSTOMER_FIELDS.items()]


def flags_for_case(case) -> list[WatchEntry]:
    return flags_for(case_tokens(case))


# Token columns of the scan's records, by watchlist kind.
RECORD_COLUMNS = {
    WatchKind.PHONE: ("phone", "applicant_phone"),
    WatchKind.ACCOUNT: ("account",),
    WatchKind.NAME: ("payee_name",),
    WatchKind.ADDRESS: ("address",),
}


def record_hits(records) -> list[dict]:
    """The surrenders and complaints of a scan that touch an active watchlist entry (one isin per
    column, no loop over records): [{"source", "policy_no", "case_no", "kind", "masked"}]."""
    entries = list(WatchEntry.objects.filter(active=True).values_list("kind", "token", "masked"))
    hits = []
    for kind, columns in RECORD_COLUMNS.items():
        masked = {token: m for k, token, m in entries if k == kind}
        if not masked:
            continue
        for column in columns:
            if column not in records:
                continue
            matched = records[records[column].isin(list(masked))]
            for source, policy_no, case_no, token in zip(
                matched["source"], matched["policy_no"], matched["case_no"], matched[column], strict=True
            ):
                hits.append(
                    {
                        "source": source,
                        "policy_no": policy_no or "",
                        "case_no": case_no or "",
                        "kind": str(kind),
                        "masked": masked[token],
                    }
                )
    return hits
