"""Ring detection: labelled precision/recall, full-scan time and memory, and two baselines.

    .venv/bin/python bench/risk_bench.py [--surrenders 1000000] [--complaints 300000] [--seed 7]
                                         [--sample 50000] [--naive-texts 3000] [--skip-full]

1. Generates a labelled record table (the shape of xiaobao.risk.rings.RECORD_COLUMNS, tokens as
   opaque strings like the keyed hashes): background surrenders with their own phones and accounts
   (some missing), complaints with free texts built from a phrase bank and short hotline stock
   phrases, branch switchboards and pooled accounts shared by hundreds (hubs), families sharing a
   phone and agents' ordinary customers (decoys), and planted rings: 5–20 policyholders with a
   proxy's phone and/or one to three payee accounts, mostly full refunds through 委托代办, some with
   template complaint letters (varied years, amounts, products and a swapped sentence), within a
   few weeks. Addresses (drawn from a generator of their own, so every other column is what it was
   without them): most policyholders give their own, families share their home's, dormitories and
   villages are shared by 3–10 strangers (decoys), branch offices' addresses by hundreds (hubs), and
   further rings share only a proxy's mailing address.
2. Runs find_clusters on the whole table (one process, this machine) and reports wall time and
   peak resident memory; precision and recall of ring membership counted by policy: a policy is
   predicted when it is in a cluster scoring at least the alert score.
3. On a sample of --sample records: the same link step with components by scipy versus a plain
   networkx graph (records and token values as nodes, no hub cap, nx.connected_components), and
   the MinHash LSH text step versus a naive pairwise Jaccard comparison of the shingle sets,
   timed on --naive-texts texts and extrapolated quadratically to the sample's texts.
Writes bench/results/risk.md.
"""

import argparse
import datetime as dt
import itertools
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaobao.settings")

from xiaobao.risk import rings  # noqa: E402

PHRASES = [
    "业务员在销售时没有说明退保损失", "客户认为产品收益与宣传不符", "要求公司核实销售过程", "客户称从未收到保单合同",
    "回访电话中客户没有听清条款", "客户家庭经济出现困难", "要求退还部分保费", "客户对现金价值计算有疑问",
    "续期扣款前没有收到提醒", "客户称被业务员代签名", "理赔材料提交后长时间没有结果", "客户要求调取双录视频",
    "客户称分红水平低于演示", "客户对万能账户结算利率不满", "银行柜面人员推荐购买", "客户以为购买的是存款产品",
    "客户要求变更受益人", "保全业务办理时间过长", "客户对服务态度不满意", "客户称多次来电无人处理",
    "要求公司书面答复", "客户表示将向媒体反映", "客户要求更换服务人员", "客户对核保结论有异议",
    "客户称体检结果未告知", "要求恢复已失效的保单", "客户对免责条款理解不同", "客户要求解释等待期",
    "客户称营销员已离职无人服务", "客户要求补发年度报告", "客户称投保时年龄填写错误", "客户要求撤销自动垫交",
]
STOCK = ["客户来电咨询退保手续", "客户要求退保", "客户对退保金额有异议", "客户来电催办", "客户要求尽快处理理赔"]
TEMPLATE_SENTENCES = [
    "本人于{y}年经贵公司业务员推销购买{p}",
    "业务员在销售过程中夸大收益承诺保本高息",
    "隐瞒现金价值和退保损失未履行明确说明义务",
    "属于销售误导违反保险法第十七条",
    "现本人要求解除合同并全额退还已交保费{a}元",
    "请于七日内书面答复",
    "否则本人将向国家金融监督管理总局投诉并保留追究法律责任的权利",
    "投保时业务员未进行双录且代替本人签字",
]
PRODUCTS = ["福享终身寿险", "鑫享年金保险", "金账户两全保险", "少儿成长年金"]


def generate(n_surrenders: int, n_complaints: int, seed: int):
    """The labelled records and the set of ring policy numbers."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01")
    n = n_surrenders
    holder = rng.integers(0, int(n * 0.9), n)
    phone = np.char.add("ph", holder.astype(str)).astype(object)
    phone[rng.random(n) < 0.15] = None
    account = np.char.add("ac", holder.astype(str)).astype(object)
    account[rng.random(n) < 0.10] = None
    applicant_phone = phone.copy()
    payee_differs = rng.random(n) < 0.03
    payee = np.where(payee_differs, np.char.add("pn", rng.integers(0, n, n).astype(str)), None).astype(object)
    full = rng.random(n) < 0.02
    proxy = rng.random(n) < 0.05
    agent = np.char.add("ag", rng.integers(0, max(n // 50, 1), n).astype(str)).astype(object)
    day = start + rng.integers(0, 1000, n).astype("timedelta64[D]")
    # Hubs: switchboards (phones) and pooled accounts shared by hundreds.
    for k in range(20):
        at = rng.choice(n, rng.integers(200, 2000), replace=False)
        phone[at] = f"switchboard{k}"
    for k in range(5):
        at = rng.choice(n, 500, replace=False)
        account[at] = f"pool{k}"
    # Families: 2–5 policyholders sharing a home phone.
    for k in range(n // 200):
        at = rng.choice(n, rng.integers(2, 6), replace=False)
        applicant_phone[at] = f"home{k}"
        phone[at] = f"home{k}"
    policy = np.char.add("P", np.arange(n).astype(str)).astype(object)
    # Addresses, from their own generator: a policyholder's home (60 % give one), a family's shared
    # home, branch offices given by hundreds.
    place = np.random.default_rng(seed + 1000)
    address = np.char.add("addr", holder.astype(str)).astype(object)
    address[place.random(n) >= 0.6] = None
    homes = pd.Series(applicant_phone, dtype=object).fillna("").astype(str)
    is_home = homes.str.startswith("home").to_numpy()
    address[is_home] = ("addr-" + homes[is_home]).to_numpy()
    for k in range(5):
        at = place.choice(n, int(place.integers(200, 1000)), replace=False)
        address[at] = f"office{k}"
    # Dormitories and villages: 3–10 unrelated policyholders at one address, ordinary surrenders.
    for k in range(n // 1000):
        at = place.choice(n, int(place.integers(3, 11)), replace=False)
        address[at] = f"dorm{k}"
    # Planted rings.
    ring_policies = set()
    ring_rows = []
    n_rings = max(n // 5000, 3)
    free = rng.permutation(n)
    cursor = 0
    ring_of = np.full(n, -1)
    for r in range(n_rings):
        size = int(rng.integers(5, 21))
        at = free[cursor : cursor + size]
        cursor += size
        ring_of[at] = r
        ring_policies.update(policy[at])
        style = r % 3  # 0: proxy phone + accounts, 1: accounts only, 2: proxy phone only
        if style in (0, 2):
            phone[at] = f"ringphone{r}"
            proxy[at] = rng.random(size) < 0.9
        if style in (0, 1):
            accounts = [f"ringacct{r}-{j}" for j in range(int(rng.integers(1, 4)))]
            account[at] = np.array(accounts, dtype=object)[rng.integers(0, len(accounts), size)]
            payee_differs[at] = True
            payee[at] = f"ringpayee{r}"
        full[at] = rng.random(size) < 0.85
        day[at] = start + int(rng.integers(0, 950)) + rng.integers(0, 45, size).astype("timedelta64[D]")
        ring_rows.append(at)
    # Rings linked by a proxy's mailing address alone (their own phones, accounts and payees).
    for r in range(max(n // 20000, 2)):
        size = int(place.integers(5, 21))
        at = free[cursor : cursor + size]
        cursor += size
        ring_policies.update(policy[at])
        address[at] = f"ringaddr{r}"
        proxy[at] = place.random(size) < 0.9
        full[at] = place.random(size) < 0.85
        day[at] = start + int(place.integers(0, 950)) + place.integers(0, 45, size).astype("timedelta64[D]")
    surrenders = pd.DataFrame(
        {
            "source": "S",
            "policy_no": policy,
            "case_no": None,
            "holder": np.char.add("h", holder.astype(str)).astype(object),
            "day": day,
            "unit": "C1",
            "regulator": None,
            "full_refund": full,
            "proxy": proxy,
            "payee_differs": payee_differs,
            "phone": phone,
            "phone_m": "",
            "applicant_phone": applicant_phone,
            "applicant_phone_m": "",
            "account": account,
            "account_m": "",
            "payee_name": payee,
            "payee_name_m": "",
            "agent": agent,
            "agent_m": "",
            "address": address,
            "address_m": "",
            "text": None,
        }
    )
    # Complaints: most about a background policy; rings send template letters.
    m = n_complaints
    about = rng.integers(0, n, m)
    texts = []
    picks = rng.integers(0, len(PHRASES), (m, 6))
    stock = rng.random(m) < 0.3
    for i in range(m):
        if stock[i]:
            texts.append(STOCK[i % len(STOCK)])
        else:
            texts.append(", ".join(PHRASES[j] for j in picks[i]) + "。")
    regulator = rng.random(m) < 0.03
    complaint_phone = phone[about].copy()
    complaint_day = day[about] - rng.integers(5, 30, m).astype("timedelta64[D]")
    # Ring complaints: about half the members of two rings in three write a template letter.
    for r, at in enumerate(ring_rows):
        if r % 3 == 1:
            continue
        writers = at[: max(len(at) // 2, 3)]
        slots = rng.choice(m, len(writers), replace=False)
        for slot, member in zip(slots, writers, strict=True):
            sentences = list(TEMPLATE_SENTENCES)
            if rng.random() < 0.5:
                sentences[7], sentences[5] = sentences[5], sentences[7]
            texts[slot] = (
                ",".join(sentences[:7])
                .replace("{y}", str(2015 + int(rng.integers(0, 6))))
                .replace("{p}", PRODUCTS[int(rng.integers(0, 4))])
                .replace("{a}", str(int(rng.integers(5000, 90000))))
            )
            about[slot] = member
            complaint_phone[slot] = phone[member]
            complaint_day[slot] = day[member] - int(rng.integers(5, 15))
            regulator[slot] = rng.random() < 0.3
    complaints = pd.DataFrame(
        {
            "source": "C",
            "policy_no": policy[about],
            "case_no": np.char.add("TS", np.arange(m).astype(str)).astype(object),
            "holder": surrenders["holder"].to_numpy()[about],
            "day": complaint_day,
            "unit": "C1",
            "regulator": regulator,
            "full_refund": None,
            "proxy": None,
            "payee_differs": None,
            "phone": complaint_phone,
            "phone_m": "",
            "applicant_phone": None,
            "applicant_phone_m": "",
            "account": None,
            "account_m": "",
            "payee_name": None,
            "payee_name_m": "",
            "agent": None,
            "agent_m": "",
            "address": None,
            "address_m": "",
            "text": texts,
        }
    )
    records = pd.concat([surrenders, complaints], ignore_index=True)
    return records, ring_policies


def precision_recall(clusters, ring_policies, alert_score):
    predicted = set()
    for c in clusters:
        if c.score >= alert_score:
            predicted.update(c.policy_nos)
    tp = len(predicted & ring_policies)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(ring_policies) if ring_policies else 0.0
    return precision, recall, len(predicted), tp


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def networkx_components(records: pd.DataFrame) -> int:
    """The plain approach: a graph of records and token values, components by networkx, no hub cap."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(len(records)))
    for column in ("phone", "applicant_phone", "account", "payee_name", "address", "policy_no"):
        values = records[column].to_numpy()
        for rid, value in enumerate(values):
            if value is not None and value == value and value != "":
                graph.add_edge(rid, f"{column}:{value}")
    return sum(1 for c in nx.connected_components(graph) if len(c) > 2)


def naive_text_pairs(texts: list[str], threshold: float, ngram: int) -> int:
    shingles = []
    for text in texts:
        norm = rings.normalize_text(text)
        if len(norm) >= rings.RingConfig().min_text_chars:
            shingles.append({norm[i : i + ngram] for i in range(len(norm) - ngram + 1)})
    found = 0
    for a, b in itertools.combinations(shingles, 2):
        if len(a & b) / len(a | b) >= threshold:
            found += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--surrenders", type=int, default=1_000_000)
    parser.add_argument("--complaints", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=50_000)
    parser.add_argument("--naive-texts", type=int, default=3000)
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()
    config = rings.RingConfig()
    lines = [
        "# Ring detection benchmark (bench/risk_bench.py)",
        "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; one process. Config: hub cap {config.hub_cap}, text threshold "
        f"{config.text_threshold}, {config.ngram}-grams, {config.num_perm} permutations, texts ≥ "
        f"{config.min_text_chars} characters, alert score ≥ {config.alert_score}.",
        "",
    ]

    # Labelled quality on a mid-size set (and on the full one below).
    t0 = time.perf_counter()
    records, labels = generate(100_000, 30_000, args.seed)
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    clusters = rings.find_clusters(records, config)
    scan = time.perf_counter() - t0
    p, r, predicted, tp = precision_recall(clusters, labels, config.alert_score)
    lines += [
        "## Labelled set: ring membership by policy",
        "",
        "| surrenders | complaints | ring policies | predicted | true positives | precision | recall | scan s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| 100,000 | 30,000 | {len(labels)} | {predicted} | {tp} | {p:.3f} | {r:.3f} | {scan:.1f} |",
    ]
    print(lines[-1], f"(generated in {gen:.1f} s)", flush=True)

    if not args.skip_full:
        del records, clusters
        t0 = time.perf_counter()
        records, labels = generate(args.surrenders, args.complaints, args.seed)
        gen = time.perf_counter() - t0
        print(f"generated {len(records)} records in {gen:.1f} s, peak {peak_mb():.0f} MB", flush=True)
        before = peak_mb()
        t0 = time.perf_counter()
        clusters = rings.find_clusters(records, config)
        scan = time.perf_counter() - t0
        p, r, predicted, tp = precision_recall(clusters, labels, config.alert_score)
        row = (
            f"| {args.surrenders:,} | {args.complaints:,} | {len(labels)} | {predicted} | {tp} | {p:.3f} | "
            f"{r:.3f} | {scan:.1f} |"
        )
        lines.append(row)
        print(row, flush=True)
        lines += [
            "",
            "## Full scan",
            "",
            "| records | scan wall s | peak RSS of the process (MB) | peak RSS before the scan (MB) | clusters reported |",
            "|---:|---:|---:|---:|---:|",
            f"| {len(records):,} | {scan:.1f} | {peak_mb():.0f} | {before:.0f} | {len(clusters)} |",
        ]
        print(lines[-1], flush=True)
        del records, clusters

    # Baselines on a sample.
    records, labels = generate(int(args.sample * 0.77), int(args.sample * 0.23), args.seed + 1)
    # The identifier links alone (no texts), as the networkx baseline has none.
    no_text = records.reset_index(drop=True).assign(text=None)
    t0 = time.perf_counter()
    links = rings.build_links(no_text, config)
    left = np.concatenate(links.left)
    right = np.concatenate(links.right)
    rings._components(len(records), left, right)
    ours_links = time.perf_counter() - t0
    t0 = time.perf_counter()
    networkx_components(records)
    nx_time = time.perf_counter() - t0
    texts = [t for t in records["text"].dropna()]
    t0 = time.perf_counter()
    rings._text_links(records.reset_index(drop=True), config, rings.Links())
    ours_text = time.perf_counter() - t0
    subset = texts[: args.naive_texts]
    t0 = time.perf_counter()
    naive_text_pairs(subset, config.text_threshold, config.ngram)
    naive_small = time.perf_counter() - t0
    naive_full = naive_small * (len(texts) / len(subset)) ** 2
    lines += [
        "",
        f"## Baselines on a {len(records):,}-record sample ({len(texts):,} complaint texts)",
        "",
        "| step | ours (s) | baseline (s) | speed-up |",
        "|---|---:|---:|---:|",
        f"| identifier links + components (pandas groupby + scipy csgraph, hub cap) vs a networkx graph of "
        f"records and token values with nx.connected_components | {ours_links:.2f} | {nx_time:.2f} | "
        f"{nx_time / ours_links:.1f}× |",
        f"| template texts: MinHash LSH vs naive pairwise Jaccard (timed on {len(subset):,} texts "
        f"= {naive_small:.1f} s, extrapolated ×(n/{len(subset):,})²) | {ours_text:.2f} | {naive_full:.0f} | "
        f"{naive_full / ours_text:.0f}× |",
        "",
        "The networkx baseline has no hub cap, so its components are not the same answer (the switchboards",
        "glue thousands of records); it is the plain way to get components, timed for the same input.",
    ]
    print("\n".join(lines[-8:]), flush=True)
    out = BENCH / "results" / "risk.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
