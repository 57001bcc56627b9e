"""Ring detection on hand-made record tables: what links, what does not, and how clusters are scored."""

import numpy as np
import pandas as pd

from xiaobao.risk.rings import RingConfig, find_clusters, normalize_text

TEMPLATE = (
    "本人于{y}年购买贵公司产品, 业务员销售时存在误导, 夸大收益, 未告知退保损失, 违反保险法第十七条, "
    "要求全额退还已交保费{a}元, 否则将向监管部门投诉并保留诉讼权利"
)


def record(**values):
    row = {
        "source": "S",
        "policy_no": None,
        "case_no": None,
        "holder": None,
        "day": np.datetime64("2025-03-01"),
        "unit": "C1",
        "regulator": None,
        "full_refund": False,
        "proxy": False,
        "payee_differs": False,
        "phone": None,
        "applicant_phone": None,
        "account": None,
        "payee_name": None,
        "agent": None,
        "text": None,
    }
    row.update(values)
    return row


def frame(rows):
    return pd.DataFrame(rows)


def people(n, **values):
    return [record(policy_no=f"P{i}", holder=f"h{i}", **values) for i in range(n)]


def test_empty_and_missing_tokens_do_not_link():
    rows = people(5, phone="") + [record(policy_no=f"Q{i}", holder=f"q{i}", account=None) for i in range(5)]
    rows += [record(policy_no=f"R{i}", holder=f"r{i}", phone=float("nan")) for i in range(5)]
    assert find_clusters(frame(rows), RingConfig(min_holders=2)) == []


def test_a_shared_account_links_and_is_explained_with_its_mask():
    rows = people(5, account="acc", account_m="****6789", full_refund=True)
    [cluster] = find_clusters(frame(rows))
    assert cluster.size == 5 and cluster.holders == 5
    assert "5 位投保人的退保金进入同一账号 ****6789" in cluster.reasons
    assert "5/5 件退保为全额退保 (100%)" in cluster.reasons
    assert cluster.policy_nos == [f"P{i}" for i in range(5)]


def test_a_token_shared_by_more_policyholders_than_the_cap_is_a_hub_and_links_nothing():
    rows = people(60, phone="switchboard", phone_m="0531****8888")
    assert find_clusters(frame(rows), RingConfig(hub_cap=50)) == []
    [cluster] = find_clusters(frame(rows), RingConfig(hub_cap=100))
    assert cluster.holders == 60


def test_a_hub_does_not_glue_two_rings_together():
    ring_a = [record(policy_no=f"A{i}", holder=f"a{i}", account="acc-a", phone="hub") for i in range(4)]
    ring_b = [record(policy_no=f"B{i}", holder=f"b{i}", account="acc-b", phone="hub") for i in range(4)]
    crowd = [record(policy_no=f"X{i}", holder=f"x{i}", phone="hub") for i in range(50)]
    clusters = find_clusters(frame(ring_a + ring_b + crowd), RingConfig(hub_cap=50))
    assert sorted(c.size for c in clusters) == [4, 4]


def test_one_policyholder_on_several_records_is_one_holder():
    rows = [record(policy_no=f"P{i}", holder="same", account="acc") for i in range(6)]
    assert find_clusters(frame(rows)) == []  # 1 distinct policyholder < min_holders


def test_an_agent_links_only_full_refunds_applied_for_by_a_proxy():
    ordinary = people(20, agent="A900")
    ordinary += [
        record(policy_no=f"O{i}", holder=f"o{i}", agent="A900", proxy=i % 2 == 0, full_refund=i % 2 == 1)
        for i in range(6)
    ]
    assert find_clusters(frame(ordinary)) == []
    suspicious = [
        record(policy_no=f"S{i}", holder=f"s{i}", agent="A901", agent_m="A901", proxy=True, full_refund=True)
        for i in range(4)
    ]
    [cluster] = find_clusters(frame(ordinary + suspicious))
    assert cluster.size == 4
    assert "4 位投保人的全额代办退保出自同一业务员 A901" in cluster.reasons


def test_template_complaints_link_and_are_scored():
    rows = [
        record(source="C", case_no=f"C{i}", holder=f"h{i}", text=TEMPLATE.format(y=2018 + i % 3, a=1000 + i))
        for i in range(6)
    ]
    [cluster] = find_clusters(frame(rows))
    assert cluster.case_nos == [f"C{i}" for i in range(6)]
    assert cluster.features["template"] == 1.0
    assert any("6 件投诉文本高度雷同" in r for r in cluster.reasons)


def test_blank_short_and_boilerplate_texts_do_not_match():
    texts = [
        "",
        "   ",
        "\n\t\u3000",
        "无",
        "同上",
        "客户来电反映, 请尽快处理, 谢谢",
        "客户来电, 请尽快处理。谢谢!",
        "您好, 客户来电反映 2025-03-01 请尽快处理 谢谢",
        "要求退保",
        "要求退保。",
    ]
    rows = [record(source="C", case_no=f"C{i}", holder=f"h{i}", text=t) for i, t in enumerate(texts)]
    assert find_clusters(frame(rows), RingConfig(min_holders=2)) == []
    assert normalize_text("客户来电反映, 请尽快处理, 谢谢") == ""


def test_different_complaints_do_not_match():
    texts = [
        "客户反映理赔款迟迟未到账, 已提交全部材料超过三十天, 要求公司尽快赔付并说明延误原因, 客户情绪激动, "
        "表示如果本周内仍无结果将向监管部门投诉并联系媒体曝光此事",
        "客户对续期扣款时间有异议, 称未收到缴费提醒短信, 导致保单进入宽限期, 要求恢复保单效力, 并要求公司"
        "核查短信发送记录, 对未提醒的原因作出书面说明并道歉",
        "客户称业务员承诺的分红收益与实际到账金额相差很大, 要求公司给出书面解释和补偿方案, 同时要求调取投保"
        "时的双录视频, 核实业务员当时的销售话术是否存在误导",
    ]
    rows = [record(source="C", case_no=f"C{i}", holder=f"h{i}", text=t) for i, t in enumerate(texts)]
    assert find_clusters(frame(rows), RingConfig(min_holders=2)) == []


def test_stock_phrasing_used_by_more_policyholders_than_the_cap_links_nothing():
    rows = [
        record(source="C", case_no=f"C{i}", holder=f"h{i}", text=TEMPLATE.format(y=2018, a=1000 + i))
        for i in range(12)
    ]
    assert find_clusters(frame(rows), RingConfig(hub_cap=10)) == []


def test_a_ring_scores_above_a_family_sharing_a_phone():
    ring = [
        record(
            policy_no=f"R{i}",
            holder=f"r{i}",
            phone="proxy",
            phone_m="137****1234",
            proxy=True,
            full_refund=True,
            payee_differs=True,
            payee_name="payee",
            payee_name_m="赵*办",
            account="acc1" if i % 2 else "acc2",
            account_m="****6789" if i % 2 else "****4321",
        )
        for i in range(12)
    ]
    family = [
        record(policy_no=f"F{i}", holder=f"f{i}", applicant_phone="home", applicant_phone_m="139****2222")
        for i in range(4)
    ]
    config = RingConfig()
    clusters = find_clusters(frame(ring + family), config)
    assert [c.holders for c in clusters] == [12, 4]
    ring_cluster, family_cluster = clusters
    assert ring_cluster.score >= config.alert_score > family_cluster.score
    assert "12 位投保人的退保由同一代办人电话 137****1234 委托办理" in ring_cluster.reasons
    assert "6 位投保人的退保金进入同一账号 ****6789" in ring_cluster.reasons
    assert "12/12 件退保的领款人不是投保人" in ring_cluster.reasons
    assert "4 位投保人的记录留有同一电话 139****2222" in family_cluster.reasons


def test_cluster_ids_are_stable():
    rows = people(4, account="acc")
    assert find_clusters(frame(rows))[0].id == find_clusters(frame(list(reversed(rows))))[0].id
