"""Fictitious people and places for the demo branch. Any likeness to a real person is chance."""

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏辉建华丹玲飞桂兰鑫波宁斌宇浩凯健俊帆帅旭雪琳晨欣怡子涵梓萱一诺浩然宇轩"

# 中心支公司: (code suffix, city, 身份证 region code used for the city's customers)
CENTRAL_SUB_BRANCHES = [
    ("01", "济南", "370102"),
    ("02", "青岛", "370202"),
    ("03", "烟台", "370602"),
    ("04", "潍坊", "370702"),
    ("05", "临沂", "371302"),
    ("06", "济宁", "370811"),
]

BRANCH_DEPARTMENTS = [
    ("XB", "消费者权益保护部"),
    ("KF", "客户服务部"),
    ("LP", "理赔部"),
    ("GX", "个险业务部"),
    ("YB", "银保业务部"),
    ("YY", "运营管理部"),
]

CENTRAL_DEPARTMENTS = [("KF", "客户服务部"), ("ZH", "综合管理部")]
