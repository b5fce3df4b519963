"""Vocabulary of the demo data set: community names, roads, streets, and the ways clerks
rewrite them (name variants, address variants, one-character slips).

Everything here is pure and driven by a ``random.Random`` passed in, so that one seed gives
one data set.
"""

from __future__ import annotations

import random

# Work units whose staff estates (单位大院 / 家属院 / 住宅楼) make up most of the old stock.
UNITS = (
    "水利局", "交通局", "粮食局", "供销社", "农机公司", "运输公司", "巴州医院", "第二中学", "第一中学",
    "电力公司", "邮电局", "农业银行", "工商银行", "人民银行", "税务局", "公安局", "法院", "检察院",
    "气象局", "林业局", "畜牧局", "棉麻公司", "糖厂", "化肥厂", "纺织厂", "酒厂", "自来水公司",
    "供电局", "广电局", "财政局", "物资局", "商业局", "一建公司", "二建公司", "地质大队", "石化厂",
    "武装部", "师范学校", "卫生学校", "农科所", "水泥厂", "棉纺厂", "食品公司", "百货公司", "外贸公司",
    "烟草公司", "环卫处", "房管所", "文化馆", "印刷厂", "面粉厂", "汽车站", "农行",
    "建行", "保险公司", "热电厂", "水文站", "种子公司", "兽医站", "民政局", "统计局",
)
UNIT_SUFFIXES = ("大院", "家属院", "住宅楼", "家属楼", "生活区")

# Stems of named estates (X小区 / X花园 / X新村 / X小区).
STEMS = (
    "团结", "幸福", "友谊", "和平", "胜利", "光明", "天山", "孔雀", "梨香", "塔河", "开都", "朝阳",
    "红星", "东风", "民主", "向阳", "育才", "康乐", "金桥", "丝路", "绿洲", "银河", "华山", "文化",
    "兴盛", "安居", "富民", "振兴", "长青", "迎宾", "铁门", "博斯腾", "杏花", "石榴", "丰收", "新华",
    "永安", "宏远", "春晖", "惠民", "祥和", "瑞丰", "鸿福", "紫荆", "白杨", "香梨", "金穗", "龙山",
    "北山", "南湖", "西苑", "东苑", "馨苑", "阳光", "宝石", "红旗", "前进", "建国", "众和", "同心",
)
# Stems for communities that exist only on paper (NOT_IN_LEDGER): never used by a ledger.
FAKE_STEMS = (
    "锦绣", "明珠", "恒昌", "嘉禾", "景泰", "佳和", "鑫源", "泰和", "德馨", "翠微", "金色", "锦华",
    "盛世", "御景", "凯旋", "龙腾", "华府", "君悦", "丽都", "金地",
)
NAMED_SUFFIXES = ("小区", "小区", "小区", "花园", "新村", "住宅小区", "公寓", "苑")

ROADS = (
    "人民东路", "人民西路", "团结南路", "团结北路", "萨依巴格路", "石化大道", "建设路", "交通西路",
    "新华路", "天山东路", "天山西路", "梨香路", "孔雀路", "滨河路", "迎宾路", "北山路", "文化路",
    "解放路", "建国路", "友好路", "南市区路", "朝阳路", "民主路", "光明路", "和平路", "东环路",
    "西环路", "育才路", "兴盛路", "汽车站路",
)

# Streets (街道 / 镇) and their residents' committees (社区) per reporting unit.
STREETS = {
    "库尔勒市": ("萨依巴格街道", "团结街道", "新城街道", "建设街道", "天山街道", "朝阳街道", "兰干街道", "梨香街道"),
    "轮台县": ("轮台镇", "阳霞镇"),
    "尉犁县": ("尉犁镇",),
    "若羌县": ("若羌镇",),
    "且末县": ("且末镇",),
    "焉耆回族自治县": ("焉耆镇", "永宁镇"),
    "和静县": ("和静镇", "巴润哈尔莫敦镇"),
    "和硕县": ("特吾里克镇",),
    "博湖县": ("博湖镇",),
    "库尔勒经济技术开发区": ("开发区街道", "上库园区"),
}
COMMUNITY_STEMS = (
    "团结", "新华", "建设", "光明", "育才", "幸福", "文化", "友谊", "朝阳", "兴盛", "和平", "东风",
    "康乐", "天山", "民主", "向阳", "梨乡", "南苑", "北苑", "红星",
)

# Homophone / look-alike slips clerks make when they retype a name.
SLIPS = {
    "结": "洁", "福": "富", "华": "化", "园": "圆", "明": "名", "新": "心", "利": "力", "泰": "太",
    "河": "和", "光": "广", "胜": "圣", "红": "宏", "阳": "杨", "家": "佳", "安": "按", "城": "成",
    "丰": "风", "平": "萍", "康": "慷", "民": "明", "友": "有", "兴": "星", "文": "闻", "山": "珊",
    "银": "金", "绿": "录", "杏": "幸", "馨": "新", "宝": "保", "紫": "子", "惠": "慧", "瑞": "锐",
    "鸿": "宏", "春": "椿", "水": "永", "局": "居", "粮": "良", "电": "店", "供": "共", "运": "云",
    "糖": "塘", "校": "效", "院": "苑", "楼": "搂",
}

CONTENT = {
    "基础类": ("供水管网改造", "排水管网改造", "供电线路改造", "燃气管道改造", "供热管网改造", "道路硬化",
             "屋面防水", "外墙保温", "楼道粉刷", "消防设施", "安防监控", "垃圾分类设施", "光纤入户"),
    "完善类": ("拆除违建", "绿化提升", "路灯照明", "围墙大门", "适老化改造", "无障碍设施", "停车位",
             "电动汽车充电桩", "电动自行车充电棚", "智能快递柜", "健身器材", "加装电梯"),
    "提升类": ("社区服务站", "卫生服务站", "托育点", "老年食堂", "便民市场", "智慧安防感知"),
}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤艾买热"
GIVEN = "建国军华明平丽娟英梅芳勇强伟敏静霞红燕刚磊涛斌超辉鹏飞玲洁新疆江山海东"


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def phone(rng: random.Random) -> str:
    return f"0996-{rng.randint(2000000, 8999999)}"


def address(road: str, number: int) -> str:
    return f"{road}{number}号"


def slip(name: str, rng: random.Random, avoid: set[str]) -> str | None:
    """A one-character slip in the stem of a name (never in its last two characters)."""
    positions = [i for i, ch in enumerate(name[:-2]) if ch in SLIPS]
    rng.shuffle(positions)
    for i in positions:
        out = name[:i] + SLIPS[name[i]] + name[i + 1 :]
        if out not in avoid:
            return out
    return None


def name_variant(name: str, rng: random.Random, avoid: set[str]) -> str:
    """How a clerk writes a ledger name again in a plan: suffix, inserted word, (原), or a slip.

    Never returns a name in ``avoid`` (the other ledger names of the county) and never turns one
    phase of an estate into another."""
    options = []
    if not name.endswith("期") and "(" not in name:
        options += [name + "(一期)", name + "（一期）"]
    if name.endswith("小区") and not name.endswith("住宅小区"):
        options.append(name[:-2] + "住宅小区")
    if name.endswith(("大院", "家属院", "住宅楼", "家属楼", "生活区")):
        options.append(name + "小区")
    options += ["（原）" + name, "(原)" + name]
    s = slip(name, rng, avoid)
    if s:
        options += [s, s]
    options = [o for o in options if o not in avoid and o != name]
    return rng.choice(options) if options else name


def address_variant(addr: str, road: str, number: int, street: str, landmark: str, rng: random.Random) -> str:
    """The same address written another way (街道 prefix, 号院, a number range, a landmark, blank)."""
    kind = rng.choice(("prefix", "yard", "range", "landmark", "blank", "yard"))
    if kind == "prefix":
        return street + addr
    if kind == "yard":
        return addr + "院" if addr.endswith("号") else addr
    if kind == "range":
        lo = max(1, number - rng.choice((1, 2)))
        return f"{road}{lo}-{number + rng.choice((1, 2))}号"
    if kind == "landmark" and landmark:
        return road + landmark
    return ""


def content_for(categories: tuple[str, ...], elevators: int, rng: random.Random) -> str:
    items = []
    for cat in categories:
        pool = [c for c in CONTENT[cat] if c != "加装电梯"]
        items += rng.sample(pool, k=min(len(pool), rng.randint(2, 4) if cat == "基础类" else rng.randint(1, 3)))
    if elevators:
        items.append(f"加装电梯{elevators}部")
    return "、".join(items)
