"""退保黑产 ring detection: link surrenders and complaints that share a phone, an account, a payee, a
proxy, an agent or a template text, build clusters, score them and explain each score in Chinese.

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
   - policy: a complaint and a surrender of the same policy, or a surrender and the complaint its
     complaint_ref names, are one story.
   Empty and missing tokens never link. A token shared by more than `hub_cap` distinct policyholders
   (a branch switchboard, a bank's pooled account, a very busy agent) is a *hub* and links nothing.
2. Text links. Complaint texts are normalised (whitespace, punctuation, digits and the hotline's
   boilerplate phrases removed); texts shorter than `min_text_chars` after that are too short to
   judge and are skipped. Character `ngram`-shingles are MinHashed (vectorised in numpy, one
   signature per distinct normalised text) and datasketch's MinHashLSH proposes pairs whose estimated
   Jaccard similarity is at least `text_threshold`; each pair is checked on the signatures. A group of
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
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

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
    min_holders: int = 3  # clusters with fewer distinct policyholders are not reported
    burst_days: int = 30
    alert_score: float = 40.0  # clusters scoring at least this become alerts


# Points of each feature. All features are in [0, 1]: holders (distinct policyholders) and shared (the
# most policyholders on one shared phone, account, payee or proxy) are scaled to reach 1 at 10.
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

_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)


def _permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.RandomState(seed)
    a = gen.randint(1, 1 << 32, size=num_perm, dtype=np.uint64)
    b = gen.randint(0, 1 << 32, size=num_perm, dtype=np.uint64)
    return a, b


def minhash_signatures(texts: list[str], *, ngram: int, num_perm: int, chunk: int = 1500) -> np.ndarray:
    """One MinHash signature (num_perm uint64 values < 2^32) per text, computed over character n-gram
    shingles with numpy, a chunk of texts at a time. Texts must hold at least `ngram` characters."""
    a, b = _permutations(num_perm)
    out = np.empty((len(texts), num_perm), dtype=np.uint64)
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        joined = "".join(part)
        cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter((len(t) for t in part), dtype=np.int64, count=len(part))
        ends = np.cumsum(lengths)
        starts = ends - lengths
        # Shingle i starts at character i; it is valid when it ends inside its own text.
        owner = np.repeat(np.arange(len(part)), lengths)
        pos = np.arange(len(cp))
        valid = pos + ngram <= ends[owner]
        idx = pos[valid]
        h = np.zeros(len(idx), dtype=np.uint64)
        for k in range(ngram):
            h = (h * np.uint64(1000003)) ^ cp[idx + k]
        h &= _MAX_HASH
        hashed = ((h[:, None] * a[None, :] + b[None, :]) % _PRIME) & _MAX_HASH
        counts = np.maximum(lengths - ngram + 1, 0)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        out[start : start + len(part)] = np.minimum.reduceat(hashed, offsets, axis=0)
        del starts
    return out


def text_pairs(signatures: np.ndarray, threshold: float) -> np.ndarray:
    """Pairs (i, j), i < j, of signatures whose estimated Jaccard similarity is ≥ threshold, proposed by
    datasketch's MinHashLSH and checked on the signatures."""
    from datasketch import LeanMinHash, MinHashLSH

    n, num_perm = signatures.shape
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    # "legacy" is the affine scheme computed above: (a·h + b mod 2^61−1) truncated to 32 bits.
    hashes = [LeanMinHash(seed=1, hashvalues=signatures[i], scheme="legacy") for i in range(n)]
    with lsh.insertion_session() as session:
        for i, mh in enumerate(hashes):
            session.insert(i, mh, check_duplication=False)
    left, right = [], []
    for i, mh in enumerate(hashes):
        for j in lsh.query(mh):
            if j > i:
                left.append(i)
                right.append(j)
    if not left:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.column_stack([left, right]).astype(np.int64)
    similar = (signatures[pairs[:, 0]] == signatures[pairs[:, 1]]).mean(axis=1) >= threshold
    return pairs[similar]


# -------------------------------------------------------------------------------------------- links


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
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
        # Policy links join one policy's own records: never a hub.
        hub = (tokens["n_holders"] > config.hub_cap) & (tokens["space"] != "policy")
        links.hubs = int(tokens.loc[hub, ["space", "token"]].drop_duplicates().shape[0])
        kept = tokens[~hub & (tokens["n_records"] > 1)].copy()
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
    """The scored clusters of `records` (see the module docstring), highest score first."""
    config = config or RingConfig()
    records = records.reset_index(drop=True)
    n = len(records)
    if n == 0:
        return []
    links = build_links(records, config)
    left = np.concatenate(links.left) if links.left else np.empty(0, dtype=np.int64)
    right = np.concatenate(links.right) if links.right else np.empty(0, dtype=np.int64)
    labels = _components(n, left.astype(np.int64), right.astype(np.int64))
    holders = records.groupby(labels)["holder"].nunique()
    candidates = holders[holders >= config.min_holders].index
    if len(candidates) == 0:
        return []
    keep = np.isin(labels, candidates)
    frame = records[keep].copy()
    frame["label"] = labels[keep]
    frame["template"] = links.text_member[keep]
    groups = pd.concat(links.groups, ignore_index=True) if links.groups else pd.DataFrame()
    if len(groups):
        groups = groups[np.isin(labels[groups["rid"].to_numpy()], candidates)].copy()
        groups["label"] = labels[groups["rid"].to_numpy()]
    clusters = [
        _score(label, part, groups[groups["label"] == label] if len(groups) else groups, config)
        for label, part in frame.groupby("label", sort=False)
    ]
    clusters.sort(key=lambda c: (-c.score, c.id))
    return clusters


def _share(values: pd.Series) -> tuple[int, int]:
    known = values.dropna()
    return int(known.astype(bool).sum()), int(len(known))


def _burst(days: np.ndarray, window: int) -> int:
    """The largest number of records inside any `window`-day window."""
    days = np.sort(days[~np.isnat(days)].astype("datetime64[D]").astype(np.int64))
    if len(days) == 0:
        return 0
    ends = np.searchsorted(days, days + window, side="left")
    return int((ends - np.arange(len(days))).max())


LINK_SENTENCES = {
    "account": "{n} 位投保人的退保金进入同一账号 {masked}",
    "proxy": "{n} 位投保人的退保由同一代办人电话 {masked} 委托办理",
    "phone": "{n} 位投保人的记录留有同一电话 {masked}",
    "name": "{n} 位投保人的退保金由同一领款人 {masked} 领取",
    "agent": "{n} 位投保人的全额代办退保出自同一业务员 {masked}",
}
LINK_ORDER = ["account", "proxy", "name", "phone", "agent"]


def _score(label, part: pd.DataFrame, groups: pd.DataFrame, config: RingConfig) -> Cluster:
    surrenders = part[part["source"] == "S"]
    complaints = part[part["source"] == "C"]
    n_holders = int(part["holder"].nunique())
    full, n_surr = _share(surrenders["full_refund"])
    payee, _ = _share(surrenders["payee_differs"])
    proxy, _ = _share(surrenders["proxy"])
    n_comp = len(complaints)
    regulator = int(complaints["regulator"].fillna(False).astype(bool).sum())
    template = int(complaints["template"].sum())
    burst = _burst(part["day"].to_numpy(dtype="datetime64[D]"), config.burst_days)
    shared_holders = 0
    if len(groups):
        shared_holders = int(groups.groupby(["kind", "token"])["holder"].nunique().max())
    features = {
        "holders": min(max(n_holders - 1, 0) / 9, 1.0),
        "shared": min(max(shared_holders - 1, 0) / 9, 1.0),
        "full_refund": full / n_surr if n_surr else 0.0,
        "payee_differs": payee / n_surr if n_surr else 0.0,
        "template": template / n_comp if n_comp else 0.0,
        "regulator": regulator / n_comp if n_comp else 0.0,
        "burst": burst / len(part) if len(part) > 2 else 0.0,
        "proxy": proxy / n_surr if n_surr else 0.0,
    }
    score = sum(WEIGHTS[k] * v for k, v in features.items())
    reasons, shared = [], []
    if len(groups):
        summary = (
            groups.groupby(["kind", "token"], sort=False)
            .agg(masked=("masked", "first"), holders=("holder", "nunique"))
            .reset_index()
        )
        summary = summary[summary["holders"] >= 2]
        summary["order"] = summary["kind"].map({k: i for i, k in enumerate(LINK_ORDER)})
        summary = summary.sort_values(["order", "holders"], ascending=[True, False])
        seen_tokens = set()
        for row in summary.itertuples():
            shared.append(
                {"kind": row.kind, "token": row.token, "masked": row.masked, "holders": int(row.holders)}
            )
            if row.token in seen_tokens:  # a proxy's phone is not reported again as a phone
                continue
            seen_tokens.add(row.token)
            reasons.append(LINK_SENTENCES[row.kind].format(n=row.holders, masked=row.masked or "—"))
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
    if features["burst"] >= 0.5 and burst >= 3:
        reasons.append(f"{burst} 件记录集中在 {config.burst_days} 天内")
    policy_nos = sorted({p for p in part["policy_no"].dropna() if p})
    case_nos = sorted({c for c in part["case_no"].dropna() if c})
    digest = hashlib.sha1("|".join(policy_nos + ["#"] + case_nos).encode()).hexdigest()[:12]
    unit = part["unit"].dropna()
    return Cluster(
        id=digest,
        score=round(float(score), 1),
        reasons=reasons,
        policy_nos=policy_nos,
        case_nos=case_nos,
        size=len(part),
        holders=n_holders,
        unit=str(unit.mode().iloc[0]) if len(unit) else "",
        features={k: round(v, 3) for k, v in features.items()},
        links=shared,
    )


def empty_records() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})
