"""退保黑产 ring detection: link surrenders and complaints that share a phone, an account, a payee, a
proxy, an agent, an address or a template text, build clusters, score them and explain each score in
Chinese.

The input is one table of *records* (a pandas DataFrame, one row per surrender or complaint; see
RECORD_COLUMNS), built from the Parquet book and the cases by xiaobao.risk.sources, or by a benchmark.

1. Identifier links. Every record gives (kind, token, masked) pairs:
   - phone: the surrender's contact phone, the policy's applicant phone, the complainant's phone;
   - proxy: the contact phone of a surrender applied for through 委托代办 (a third party);
   - account: the payee account of a surrender, the complainant's bank account;
   - name: the payee's name, only where the payee is not the policyholder (a policyholder's own name
     links nothing new, and common names would glue strangers together);
   - agent: the policy's agent, only on surrenders that were both full refunds and applied for
     through 委托代办: an agent's ordinary customers are not a ring (nor the odd proxy surrender
     among them), while a ring working through one insider agent is;
   - address: the contact address of a surrender (the optional 联系地址 column: a proxy's mailing
     address), the complainant's address; normalised before hashing (xiaobao.lib.address), so
     one address typed two ways is one token. An address links only when at least
     `min_link_holders` of its policyholders' surrenders went through a third party (委托代办, or
     paid to someone else): a building or village where one ring member lives is not the ring's;
   - policy: a complaint and a surrender of the same policy, or a surrender and the complaint its
     complaint_ref names, are one story.
   Empty and missing tokens never link, nor does a token of fewer than `min_link_holders` (3)
   policyholders (their own phone on two policies, a couple's shared phone). A token shared by more than `hub_cap` distinct policyholders
   (a branch switchboard, a bank's pooled account, a very busy agent) is a *hub* and links nothing.
2. Text links. Complaint texts are normalised (whitespace, punctuation, digits and the hotline's
   boilerplate phrases removed); texts shorter than `min_text_chars` after that are too short to
   judge and are skipped. Character `ngram`-shingles are MinHashed (vectorised in numpy, one
   signature per distinct normalised text); LSH banding with the bands × rows datasketch's MinHashLSH
   picks for `text_threshold` proposes pairs, and each pair is checked on the signatures (estimated
   Jaccard similarity ≥ `text_threshold`). A group of
   similar texts used by more than `hub_cap` policyholders is the hotline's stock phrasing, not a ring's
   template, and links nothing either.
3. Clusters are the connected components of those links (scipy.sparse.csgraph over an edge list: no
   Python loop over records). Only clusters with at least `min_holders` distinct policyholders are kept.
4. Each cluster is scored 0–100 (weights in WEIGHTS) from: distinct policyholders, the most
   policyholders sharing one identifier, the full-refund
   share of its surrenders, the share of surrenders paid to someone other than the policyholder, the
   share of its complaints that are template texts, the share of complaints forwarded by the regulator
   (监管转办), the share of 委托代办 surrenders, and the burst: the largest share of its records inside
   any `burst_days` window. Every term that contributes comes with a Chinese sentence.
"""

import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# One row per surrender ("S") or complaint ("C"). Token columns hold keyed-hash tokens ("" or None when
# missing) with a `_m` twin holding the masked display.
RECORD_COLUMNS = [
    "source",  # "S" surrender, "C" complaint
    "policy_no",
    "case_no",
    "holder",  # the policyholder's token (id number, else name); falls back to the policy number
    "day",  # datetime64[D]: apply date of a surrender, received date of a complaint
    "unit",  # org code
    "regulator",  # complaint forwarded by the regulator (监管转办)
    "full_refund",  # surrender paid as a full refund
    "proxy",  # surrender applied for through 委托代办
    "payee_differs",  # surrender paid to someone other than the policyholder
    "phone",
    "applicant_phone",
    "account",
    "payee_name",
    "agent",
    "address",  # contact address of a surrender, the complainant's address (optional column)
    "text",  # complaint text
]


@dataclass(frozen=True)
class RingConfig:
    hub_cap: int = 50  # a token shared by more distinct policyholders than this links nothing
    text_threshold: float = 0.8  # MinHash Jaccard similarity of two template texts
    ngram: int = 3
    num_perm: int = 64
    # After normalisation. Hotline summaries (20–45 characters) are too short to tell a ring's template
    # from the stock phrasing of the staff who type them; 格式化信函 run to a hundred and more.
    min_text_chars: int = 50
    # A phone or account shared by two policyholders is a couple or a parent and child far more often
    # than a ring; a token links only when at least this many policyholders share it.
    min_link_holders: int = 3
    min_holders: int = 3  # clusters with fewer distinct policyholders are not reported
    burst_days: int = 30
    alert_score: float = 40.0  # clusters scoring at least this become alerts


# Points of each feature. All features are in [0, 1]: holders (distinct policyholders) and shared (the
# most policyholders on one shared phone, account, payee, proxy or address, weighted by LINK_WEIGHTS)
# are scaled to reach 1 at 10.
WEIGHTS = {
    "holders": 20,
    "shared": 10,
    "full_refund": 20,
    "payee_differs": 15,
    "template": 15,
    "regulator": 10,
    "burst": 5,
    "proxy": 5,
}

# Phrases every hotline record carries; they say nothing about who wrote the text.
BOILERPLATE = [
    "客户来电反映",
    "客户来电称",
    "客户来电",
    "来电人称",
    "客户反映",
    "客户称",
    "客户表示",
    "经核实",
    "请尽快处理",
    "请尽快核实处理",
    "请相关部门处理",
    "请协助处理",
    "烦请处理",
    "谢谢",
    "您好",
    "无",
    "同上",
    "详见附件",
]
_BOILERPLATE_RE = re.compile("|".join(sorted(map(re.escape, BOILERPLATE), key=len, reverse=True)))
_NOISE_RE = re.compile(r"[\s\d\W_a-zA-Z]+", re.UNICODE)


def normalize_text(text: str | None) -> str:
    """Drop boilerplate phrases, then whitespace, punctuation, digits and Latin letters (dates, policy
    numbers, amounts and names of products differ between copies of one template)."""
    if not text:
        return ""
    return _NOISE_RE.sub("", _BOILERPLATE_RE.sub("", text))


# ------------------------------------------------------------------------------------------- MinHash

_SHIFT = np.uint64(32)


def _permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The hash family h ↦ ((a·h + b) mod 2^64) >> 32 with odd a (multiply-shift, Dietzfelbinger):
    2-universal, and one multiply-add per value in uint64 with its natural wrap-around, several times
    faster in numpy than datasketch's (a·h + b) mod (2^61 − 1)."""
    gen = np.random.default_rng(seed)
    a = gen.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = gen.integers(0, 1 << 63, size=num_perm, dtype=np.uint64)
    return a, b


def minhash_signatures(texts: list[str], *, ngram: int, num_perm: int, chunk: int = 2000) -> np.ndarray:
    """One MinHash signature (num_perm values < 2^32) per text, computed over character n-gram
    shingles with numpy, a chunk of texts at a time; numpy releases the GIL, so chunks run on every
    core in threads. Texts must hold at least `ngram` characters."""
    from concurrent.futures import ThreadPoolExecutor

    a, b = _permutations(num_perm)
    out = np.empty((len(texts), num_perm), dtype=np.uint32)

    def work(start: int) -> None:
        part = texts[start : start + chunk]
        cp = np.frombuffer("".join(part).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter((len(t) for t in part), dtype=np.int64, count=len(part))
        ends = np.cumsum(lengths)
        # Shingle i starts at character i; it is valid when it ends inside its own text.
        owner = np.repeat(np.arange(len(part)), lengths)
        pos = np.arange(len(cp))
        idx = pos[pos + ngram <= ends[owner]]
        h = np.zeros(len(idx), dtype=np.uint64)
        for k in range(ngram):
            h = (h * np.uint64(1000003)) ^ cp[idx + k]
        # One row per hash function, so the minimum over each text's shingles is a contiguous reduce.
        with np.errstate(over="ignore"):
            hashed = np.multiply.outer(a, h)
            hashed += b[:, None]
            hashed >>= _SHIFT
        counts = lengths - ngram + 1
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        out[start : start + len(part)] = np.minimum.reduceat(hashed.astype(np.uint32), offsets, axis=1).T

    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 4)) as pool:
        list(pool.map(work, range(0, len(texts), chunk)))
    return out


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """The (bands, rows) datasketch's MinHashLSH chooses for a threshold: it weighs the false
    positive and false negative probabilities of the S-curve."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def text_pairs(signatures: np.ndarray, threshold: float) -> np.ndarray:
    """Pairs (i, j) of signatures whose estimated Jaccard similarity is ≥ threshold.

    MinHash LSH banding with datasketch's (bands, rows) for the threshold, done over all signatures at
    once: per band, rows with the same band key share a bucket; each bucket member is paired with the
    bucket's first member and the pair is checked on the full signatures. (datasketch's own index
    inserts and queries one Python object per text, which costs about a minute at 300,000 texts.)"""
    n, num_perm = signatures.shape
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    bands, rows = lsh_bands(threshold, num_perm)
    found = []
    index = np.arange(n)
    for band in range(bands):
        block = signatures[:, band * rows : (band + 1) * rows]
        key = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for col in range(block.shape[1]):
                key = key * np.uint64(0x100000001B3) ^ block[:, col].astype(np.uint64)
        first = pd.Series(index).groupby(key).transform("first").to_numpy()
        moved = first != index
        if moved.any():
            found.append(np.column_stack([first[moved], index[moved]]))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.unique(np.concatenate(found), axis=0)
    similar = np.empty(len(pairs), dtype=bool)
    for start in range(0, len(pairs), 100_000):
        part = pairs[start : start + 100_000]
        similar[start : start + len(part)] = (signatures[part[:, 0]] == signatures[part[:, 1]]).mean(
            axis=1
        ) >= threshold
    return pairs[similar]


# -------------------------------------------------------------------------------------------- links


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix  # here, not at the top: scipy costs every start-up
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    return labels


@dataclass
class Links:
    """Edges between record positions, and the (kind, token) groups behind them (for the reasons)."""

    left: list = field(default_factory=list)
    right: list = field(default_factory=list)
    groups: list = field(default_factory=list)  # DataFrames: rid, kind, token, masked, holders
    text_member: np.ndarray | None = None  # records whose text matched another's
    text_group: np.ndarray | None = None  # id of the text group per record, -1 for none
    hubs: int = 0


def _token_frame(records: pd.DataFrame) -> pd.DataFrame:
    """Long format (rid, kind, token, masked) of every link-worthy token; empty tokens dropped."""
    rid = np.arange(len(records))
    parts = []

    def add(kind, column, where=None):
        tokens = records[column]
        masked = records.get(f"{column}_m", pd.Series([""] * len(records), index=records.index))
        keep = tokens.notna().to_numpy() & (tokens.fillna("").astype(str).str.len() > 0).to_numpy()
        if where is not None:
            keep &= np.asarray(where, dtype=bool)
        parts.append(
            pd.DataFrame(
                {
                    "rid": rid[keep],
                    "kind": kind,
                    "token": tokens.to_numpy()[keep],
                    "masked": masked.fillna("").to_numpy()[keep],
                }
            )
        )

    proxy = records["proxy"].fillna(False).to_numpy(dtype=bool)
    full = records["full_refund"].fillna(False).to_numpy(dtype=bool)
    add("proxy", "phone", proxy)
    add("phone", "phone", ~proxy)
    add("phone", "applicant_phone")
    add("account", "account")
    add("name", "payee_name", records["payee_differs"].fillna(False).to_numpy(dtype=bool))
    add("agent", "agent", proxy & full)
    if "address" in records:  # record tables built before the column (benchmarks) have none
        add("address", "address")
    add("policy", "policy_no")
    add("policy", "case_no")
    if "complaint_ref" in records:
        add("policy", "complaint_ref")  # the surrender names the complaint that led to it
    frame = pd.concat(parts, ignore_index=True)
    # A proxy phone is also a phone: the same number as a complainant's phone must meet it.
    frame["space"] = frame["kind"].replace({"proxy": "phone"})
    return frame


def build_links(records: pd.DataFrame, config: RingConfig) -> Links:
    links = Links()
    holders = records["holder"].to_numpy()
    tokens = _token_frame(records)
    if len(tokens):
        tokens["holder"] = holders[tokens["rid"].to_numpy()]
        keys = ["space", "token"]
        grouped = tokens.groupby(keys, sort=False)
        tokens["n_holders"] = grouped["holder"].transform("nunique")
        tokens["n_records"] = grouped["rid"].transform("nunique")
        if (tokens["space"] == "address").any():
            # Policyholders whose surrender at the address went through a third party.
            third = records["proxy"].fillna(False).to_numpy(dtype=bool) | records["payee_differs"].fillna(
                False
            ).to_numpy(dtype=bool)
            through = tokens["holder"].where(third[tokens["rid"].to_numpy()])
            tokens["n_third"] = through.groupby([tokens["space"], tokens["token"]], sort=False).transform(
                "nunique"
            )
        # Policy links join one policy's own records: never a hub.
        hub = (tokens["n_holders"] > config.hub_cap) & (tokens["space"] != "policy")
        links.hubs = int(tokens.loc[hub, ["space", "token"]].drop_duplicates().shape[0])
        # One policyholder's own records sharing their own phone, or a couple's, say nothing about a
        # ring (and would pull a member's unrelated policies into it): see min_link_holders.
        weak = (tokens["n_holders"] < config.min_link_holders) & (tokens["space"] != "policy")
        if "n_third" in tokens:
            # An address links only when it is a third party's: at least min_link_holders policyholders
            # applied from it through 委托代办 or were paid through someone else. A block of flats or a
            # village where a ring member lives would otherwise pull the neighbours into the ring.
            weak |= (tokens["space"] == "address") & (tokens["n_third"] < config.min_link_holders)
        kept = tokens[~hub & ~weak & (tokens["n_records"] > 1)].copy()
        kept["first"] = kept.groupby(keys, sort=False)["rid"].transform("first")
        edge = kept["rid"] != kept["first"]
        links.left.append(kept.loc[edge, "first"].to_numpy())
        links.right.append(kept.loc[edge, "rid"].to_numpy())
        links.groups.append(kept[kept["space"] != "policy"])
    _text_links(records, config, links)
    return links


def _text_links(records: pd.DataFrame, config: RingConfig, links: Links) -> None:
    n = len(records)
    links.text_member = np.zeros(n, dtype=bool)
    links.text_group = np.full(n, -1, dtype=np.int64)
    texts = records["text"].to_numpy()
    has_text = np.flatnonzero(pd.notna(texts))
    if len(has_text) < 2:
        return
    normalised = pd.Series([normalize_text(t) for t in texts[has_text]], index=has_text)
    normalised = normalised[normalised.str.len() >= config.min_text_chars]
    if len(normalised) < 2:
        return
    # One signature per distinct normalised text: copies of a template are exact duplicates.
    codes, uniques = pd.factorize(normalised)
    signatures = minhash_signatures(list(uniques), ngram=config.ngram, num_perm=config.num_perm)
    pairs = text_pairs(signatures, config.text_threshold)
    groups = _components(len(uniques), pairs[:, 0], pairs[:, 1]) if len(uniques) else np.array([])
    rids = normalised.index.to_numpy()
    group = groups[codes]
    frame = pd.DataFrame({"rid": rids, "group": group, "holder": records["holder"].to_numpy()[rids]})
    by_group = frame.groupby("group")
    frame["n_holders"] = by_group["holder"].transform("nunique")
    frame["n_records"] = by_group["rid"].transform("count")
    frame = frame[(frame["n_records"] > 1) & (frame["n_holders"] <= config.hub_cap)]
    if frame.empty:
        return
    frame["first"] = frame.groupby("group")["rid"].transform("first")
    edge = frame["rid"] != frame["first"]
    links.left.append(frame.loc[edge, "first"].to_numpy())
    links.right.append(frame.loc[edge, "rid"].to_numpy())
    links.text_member[frame["rid"].to_numpy()] = True
    links.text_group[frame["rid"].to_numpy()] = frame["group"].to_numpy()


# ----------------------------------------------------------------------------------------- clusters


@dataclass
class Cluster:
    id: str
    score: float
    reasons: list[str]
    policy_nos: list[str]
    case_nos: list[str]
    size: int
    holders: int
    unit: str
    features: dict
    links: list[dict]

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "score": round(self.score, 1),
            "reasons": self.reasons,
            "policy_nos": self.policy_nos,
            "case_nos": self.case_nos,
            "size": self.size,
            "holders": self.holders,
            "unit": self.unit,
        }


def find_clusters(records: pd.DataFrame, config: RingConfig | None = None) -> list[Cluster]:
    """The scored clusters of `records` (see the module docstring), highest score first.

    Features and link summaries are computed for all clusters at once (one groupby each); the loop
    over clusters only writes their sentences."""
    config = config or RingConfig()
    records = records.reset_index(drop=True)
    n = len(records)
    if n == 0:
        return []
    links = build_links(records, config)
    left = np.concatenate(links.left) if links.left else np.empty(0, dtype=np.int64)
    right = np.concatenate(links.right) if links.right else np.empty(0, dtype=np.int64)
    labels = _components(n, left.astype(np.int64), right.astype(np.int64))
    # Only components of two records or more can reach min_holders; skip the singletons cheaply.
    sizes = np.bincount(labels)
    multi = sizes[labels] > 1
    holders = records.loc[multi, "holder"].groupby(labels[multi]).nunique()
    candidates = holders[holders >= config.min_holders].index.to_numpy()
    if len(candidates) == 0:
        return []
    keep = np.isin(labels, candidates)
    frame = records.loc[keep, ["source", "policy_no", "case_no", "holder", "day", "unit"]].copy()
    frame["label"] = labels[keep]
    surrender = (frame["source"] == "S").to_numpy()
    complaint = ~surrender

    def flag(column):
        return records.loc[keep, column].fillna(False).astype(bool).to_numpy()

    frame["s"] = surrender
    frame["c"] = complaint
    frame["full"] = flag("full_refund") & surrender
    frame["payee"] = flag("payee_differs") & surrender
    frame["proxy"] = flag("proxy") & surrender
    frame["regulator"] = flag("regulator") & complaint
    frame["template"] = links.text_member[keep] & complaint
    by = frame.groupby("label")
    stats = by[["s", "c", "full", "payee", "proxy", "regulator", "template"]].sum()
    stats["size"] = by.size()
    stats["holders"] = by["holder"].nunique()
    stats["burst"] = _bursts(frame, config.burst_days)
    summary = pd.DataFrame(columns=["label", "kind", "token", "masked", "holders"])
    groups = pd.concat(links.groups, ignore_index=True) if links.groups else pd.DataFrame()
    if len(groups):
        groups = groups[keep[groups["rid"].to_numpy()]]
        groups = groups.assign(label=labels[groups["rid"].to_numpy()])
        summary = (
            groups.groupby(["label", "kind", "token"], sort=False)
            .agg(masked=("masked", "first"), holders=("holder", "nunique"))
            .reset_index()
        )
        summary = summary[summary["holders"] >= 2]
    if len(summary):
        weighted = summary["holders"] * summary["kind"].map(LINK_WEIGHTS).fillna(1.0)
        stats["shared"] = weighted.groupby(summary["label"]).max()
    else:
        stats["shared"] = 0
    stats["shared"] = stats["shared"].fillna(0)
    features = pd.DataFrame(index=stats.index)
    features["holders"] = np.clip((stats["holders"] - 1) / 9, 0, 1)
    features["shared"] = np.clip((stats["shared"] - 1) / 9, 0, 1)
    s_count = stats["s"].replace(0, np.nan)
    c_count = stats["c"].replace(0, np.nan)
    features["full_refund"] = (stats["full"] / s_count).fillna(0)
    features["payee_differs"] = (stats["payee"] / s_count).fillna(0)
    features["template"] = (stats["template"] / c_count).fillna(0)
    features["regulator"] = (stats["regulator"] / c_count).fillna(0)
    features["burst"] = np.where(stats["size"] > 2, stats["burst"] / stats["size"], 0.0)
    features["proxy"] = (stats["proxy"] / s_count).fillna(0)
    score = sum(features[k] * w for k, w in WEIGHTS.items())
    order = {k: i for i, k in enumerate(LINK_ORDER)}
    if len(summary):
        summary = summary.assign(order=summary["kind"].map(order))
        summary = summary.sort_values(["label", "order", "holders"], ascending=[True, True, False])
    shared_by_label: dict = {}
    if len(summary):
        columns = [summary[c].tolist() for c in ("label", "kind", "token", "masked", "holders")]
        for label, *rest in zip(*columns, strict=True):
            shared_by_label.setdefault(label, []).append(rest)
    members: dict = {}
    columns = [frame[c].tolist() for c in ("label", "policy_no", "case_no", "unit")]
    for label, policy_no, case_no, unit in zip(*columns, strict=True):
        entry = members.setdefault(label, (set(), set(), []))
        if isinstance(policy_no, str) and policy_no:
            entry[0].add(policy_no)
        if isinstance(case_no, str) and case_no:
            entry[1].add(case_no)
        if isinstance(unit, str) and unit:
            entry[2].append(unit)
    stats_rows, feature_rows, scores = stats.to_dict("index"), features.to_dict("index"), score.to_dict()
    clusters = [
        _cluster(
            stats_rows[label],
            feature_rows[label],
            float(scores[label]),
            shared_by_label.get(label, []),
            *members[label],
            config,
        )
        for label in stats.index
    ]
    clusters.sort(key=lambda c: (-c.score, c.id))
    return clusters


def _bursts(frame: pd.DataFrame, window: int) -> pd.Series:
    """Per label, the largest number of records inside any `window`-day window (vectorised: sort by
    label and day, then a searchsorted within each label's run)."""
    days = frame["day"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    labels = frame["label"].to_numpy()
    valid = days != np.datetime64("NaT").astype(np.int64)
    order = np.lexsort((days, labels))
    order = order[valid[order]]
    lab, day = labels[order], days[order]
    # Combine label and day into one increasing key, so one searchsorted serves every label.
    key = lab.astype(np.float64) * 1e7 + day
    ends = np.searchsorted(key, key + window, side="left")
    counts = ends - np.arange(len(key))
    return pd.Series(counts, index=lab).groupby(level=0).max() if len(key) else pd.Series(dtype=int)


LINK_SENTENCES = {
    "account": "{n} 位投保人的退保金进入同一账号 {masked}",
    "proxy": "{n} 位投保人的退保由同一代办人电话 {masked} 委托办理",
    "phone": "{n} 位投保人的记录留有同一电话 {masked}",
    "name": "{n} 位投保人的退保金由同一领款人 {masked} 领取",
    "agent": "{n} 位投保人的全额代办退保出自同一业务员 {masked}",
    "address": "{n} 位投保人的退保使用同一联系地址 {masked}",
}
LINK_ORDER = ["account", "proxy", "name", "phone", "address", "agent"]
# How much one shared identifier of a kind says, in the `shared` feature (1 when not listed). An
# address says less than a phone or an account: it is typed less exactly, and an office building
# may house more than one agency; so it counts three quarters. (Neighbours are kept out by the
# third-party rule of build_links, branch offices by the hub cap. On bench/risk_bench.py's labelled
# set precision is the same at 0.5, 0.75 and 1; at 0.5 address rings of 5–8 policyholders fell
# just under the alert score.)
LINK_WEIGHTS = {"address": 0.75}


def _cluster(st, ft, score, shared, policy_nos, case_nos, units, config: RingConfig) -> "Cluster":
    reasons, links = [], []
    seen_tokens = set()
    for kind, token, masked, holders in shared:
        links.append({"kind": kind, "token": token, "masked": masked, "holders": int(holders)})
        if token in seen_tokens:  # a proxy's phone is not reported again as a phone
            continue
        seen_tokens.add(token)
        reasons.append(LINK_SENTENCES[kind].format(n=holders, masked=masked or "—"))
    n_surr, n_comp = int(st["s"]), int(st["c"])
    full, payee, proxy = int(st["full"]), int(st["payee"]), int(st["proxy"])
    template, regulator, burst = int(st["template"]), int(st["regulator"]), int(st["burst"])
    if template >= 2:
        reasons.append(f"{template} 件投诉文本高度雷同, 疑为模板投诉 (相似度 ≥ {config.text_threshold:.0%})")
    if n_surr and full:
        reasons.append(f"{full}/{n_surr} 件退保为全额退保 ({full / n_surr:.0%})")
    if n_surr and payee:
        reasons.append(f"{payee}/{n_surr} 件退保的领款人不是投保人")
    if n_surr and proxy:
        reasons.append(f"{proxy}/{n_surr} 件退保通过委托代办申请")
    if n_comp and regulator:
        reasons.append(f"{regulator}/{n_comp} 件投诉经监管转办")
    if ft["burst"] >= 0.5 and burst >= 3:
        reasons.append(f"{burst} 件记录集中在 {config.burst_days} 天内")
    policy_nos = sorted(p for p in policy_nos if p)
    case_nos = sorted(c for c in case_nos if c)
    digest = hashlib.sha1("|".join(policy_nos + ["#"] + case_nos).encode()).hexdigest()[:12]
    return Cluster(
        id=digest,
        score=round(score, 1),
        reasons=reasons,
        policy_nos=policy_nos,
        case_nos=case_nos,
        size=int(st["size"]),
        holders=int(st["holders"]),
        unit=Counter(units).most_common(1)[0][0] if units else "",
        features={k: round(float(ft[k]), 3) for k in WEIGHTS},
        links=links,
    )


def empty_records() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})
