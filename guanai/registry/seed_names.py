"""Frequency tables for the synthetic data generator (``guanai seed``): names, places, workplaces, schools.

The surname weights approximate Chongqing's distribution (per mille of the population, rounded): the national
top surnames, plus those markedly more frequent in Chongqing and its Tujia and Miao counties (谭 向 冉 牟
蒲 秦 龚 覃 况 隆 税 鲜). Given-name characters differ by sex and by generation: parents born 1970–2000 carry
the names of their time (军 勇 华 芳 燕 …), children born after 2008 those of theirs (浩 宇 轩 欣 怡 涵 …).
Characters that ``guanai.lib.pinyin`` reads wrongly in given names are left out, so the pinyin keys are right.
"""

from __future__ import annotations

# (surname, weight per mille). Order does not matter; weights need not sum to 1000.
SURNAMES: list[tuple[str, float]] = [
    ("陈", 75), ("李", 68), ("刘", 65), ("张", 55), ("王", 52), ("杨", 43), ("黄", 28), ("周", 26),
    ("何", 25), ("罗", 24), ("唐", 20), ("谭", 18), ("吴", 18), ("邓", 16), ("向", 15), ("赵", 15),
    ("胡", 15), ("曾", 15), ("徐", 14), ("谢", 14), ("彭", 13), ("余", 13), ("冉", 12), ("蒋", 12),
    ("熊", 11), ("冯", 11), ("袁", 10), ("田", 10), ("马", 9), ("郑", 9), ("杜", 9), ("秦", 8),
    ("高", 8), ("朱", 8), ("廖", 8), ("任", 8), ("肖", 8), ("文", 7), ("付", 7), ("郭", 7), ("魏", 6),
    ("程", 6), ("姚", 6), ("许", 6), ("钟", 6), ("汪", 6), ("孙", 6), ("梁", 6), ("江", 6), ("林", 6),
    ("石", 6), ("宋", 6), ("蒲", 5), ("万", 5), ("龚", 5), ("牟", 5), ("苏", 5), ("卢", 5), ("夏", 5),
    ("邹", 5), ("雷", 5), ("叶", 4), ("黎", 4), ("吕", 4), ("贺", 4), ("韩", 4), ("方", 4), ("邱", 4),
    ("陶", 4), ("董", 4), ("范", 4), ("汤", 3), ("潘", 3), ("丁", 3), ("覃", 3), ("代", 3), ("沈", 3),
    ("傅", 3), ("游", 3), ("喻", 3), ("颜", 3), ("况", 2), ("甘", 2), ("庞", 2), ("金", 2), ("饶", 2),
    ("隆", 1), ("税", 1), ("鲜", 1), ("母", 1), ("简", 1), ("屈", 1), ("明", 1), ("池", 1),
]  # fmt: skip

# pypinyin reads these characters with their common, not their surname, pronunciation.

CHILD_MALE = (
    "浩宇轩子俊杰涛明磊鑫博文然晨阳睿泽航诚豪鹏凯强伟毅峰林波辉健龙天一梓铭宸皓逸锦瑞嘉佳思奕宏志新成"
    "家国华建平洋楠煜哲彬昊祥鸿江川永亮栋瀚锐旭坤翰钰"
)
CHILD_FEMALE = (
    "欣怡雨涵梓萱诗琪佳悦思婷雪丽娜颖晴妍可馨彤嘉雅语艺菲静玲芳敏慧洁琳倩月瑶若梦舒蕊露璐霏妤婧茜"
    "晓紫灵依诺心安一甜蓉秋兰芸沁"
)
ADULT_MALE = "军勇强华平伟建明国林波辉刚斌杰峰超涛成兵春海东红志文龙永德福中祥贵云松清江山全生才胜忠宏毅荣川洪富"
ADULT_FEMALE = "芳燕霞梅丽琴秀英兰红玲娟敏静萍琼莉艳华春桂凤群容翠莲玉珍素琳慧娜丹蓉秋云菊美香利"
# Share of two-character given names (the rest have one character), by generation.
TWO_CHAR_SHARE_CHILD = 0.86
TWO_CHAR_SHARE_ADULT = 0.62

# Village and community names: first × second character, e.g. 石板村 龙井村 双河村 / 滨江社区 新华社区.
VILLAGE_FIRST = "石龙双新大小高长黄白青红金银凤桂松柏竹梨桃花三五七九马牛鹿鱼水河溪岩云天太永兴福安和平光明胜丰"
VILLAGE_SECOND = "板井河坪坝湾桥沟岭山林溪口田塘垭槽坡堡庙场园峰寨湖池堰冲台岗"
COMMUNITY_FIRST = "新文和幸建人朝南北东西滨桂金龙凤华平兴安康民丰繁锦翠"
COMMUNITY_SECOND = "城华平福阳门江苑园湖山康兴安都桥街场湾"
ROADS = [
    "人民路", "滨江路", "新华路", "建设路", "解放路", "文化路", "中山路", "学府路", "商业街", "胜利路",
    "北滨路", "南环路", "东风路", "和平路", "平安路", "幸福街",
]  # fmt: skip

# Where parents work away (外出务工地点), weighted; Guangdong, Zhejiang and the main city dominate.
WORK_PLACES: list[tuple[str, float]] = [
    ("广东省东莞市", 12), ("广东省深圳市", 10), ("广东省广州市", 8), ("广东省佛山市", 5),
    ("广东省中山市", 3), ("浙江省宁波市", 6), ("浙江省杭州市", 4), ("浙江省温州市", 3), ("浙江省义乌市", 2),
    ("福建省厦门市", 4), ("福建省泉州市", 3), ("江苏省苏州市", 5), ("上海市", 5), ("北京市", 3),
    ("四川省成都市", 6), ("新疆维吾尔自治区乌鲁木齐市", 1), ("贵州省贵阳市", 1),
    ("重庆市渝中区", 4), ("重庆市江北区", 3), ("重庆市渝北区", 4), ("重庆市沙坪坝区", 3),
    ("重庆市九龙坡区", 3), ("重庆市南岸区", 2), ("重庆市巴南区", 1), ("重庆市万州区", 2), ("重庆市涪陵区", 2),
]  # fmt: skip

DISABILITY_TYPES: list[tuple[str, float]] = [
    ("肢体", 30), ("智力", 22), ("精神", 10), ("视力", 9), ("听力", 10), ("言语", 5), ("多重", 14),
]  # fmt: skip
SERIOUS_ILLNESSES = [
    "白血病", "先天性心脏病", "血友病", "肾病综合征", "脑性瘫痪", "癫痫", "重型地中海贫血", "恶性肿瘤",
    "尿毒症", "1型糖尿病", "苯丙酮尿症", "再生障碍性贫血",
]  # fmt: skip
EXIT_REASONS = ["父母返乡照料", "户籍迁出", "随父母外出就读", "不再符合条件"]

# Mobile number prefixes in use (中国移动/联通/电信).
PHONE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183", "184", "185",
    "186", "187", "188", "189", "191", "198", "199",
]  # fmt: skip
