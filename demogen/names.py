"""Vocabulary of the demo data set: community names, roads, streets, and the ways clerks
rewrite them (name variants, address variants, one-character slips).

Everything here is pure and driven by a ``random.Random`` passed in, so that one seed gives
one data set.
"""

from __future__ import annotations

import functools
import random

# Work units whose staff estates (单位大院 / 家属院 / 住宅楼) make up most of the old stock.
UNITS = (
    "水利局", "交通局", "粮食局", "供销社", "农机公司", "运输公司", "巴州医院", "第二中学", "第一中学",
    "电力公司", "邮电局", "农业银行", "工商银行", "人民银行", "税务局", "公安局", "法院", "检察院",
    "气象局", "林业局", "畜牧局", "棉麻公司", "糖厂", "化肥厂", "纺织厂", "酒厂", "自来水公司",
    "供电局", "广电局", "财政局", "物资局", "商业局", "一建公司", "二建公司", "地质大队", "石化厂",
    "武装部", "师范学校", "卫生学校", "农科所", "水泥厂", "棉纺厂", "食品公司", "百货公司", "外贸公司",
    "烟草公司", "环卫处", "房管所", "文化馆", "印刷厂", "面粉厂", "汽车站", "建设银行",
    "中国银行", "保险公司", "热电厂", "水文站", "种子公司", "兽医站", "民政局", "统计局", "第一小学",
    "中医医院", "塔里木石油勘探开发指挥部", "第三中学",
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


# How clerks shorten or spell out work units (input-formats.md: 工行 / 工商银行, 二中 / 第二中学, the
# prefecture's own such as 塔指). The generator's own list, written from the offices' usage.
UNIT_FORMS = {
    "工商银行": ("工行", "中国工商银行"), "农业银行": ("农行", "中国农业银行"), "建设银行": ("建行", "中国建设银行"),
    "中国银行": ("中行",), "人民银行": ("人行", "中国人民银行"), "第二中学": ("二中", "2中", "贰中"),
    "第一中学": ("一中", "1中"), "第三中学": ("三中",), "第一小学": ("一小",), "中医医院": ("中医院",),
    "塔里木石油勘探开发指挥部": ("塔指",), "广电局": ("广播电视局",), "一建公司": ("第一建筑工程公司", "一建"),
    "二建公司": ("第二建筑工程公司", "二建"), "巴州医院": ("巴音郭楞蒙古自治州医院",), "供销社": ("供销合作社",),
    "农机公司": ("农业机械公司",), "外贸公司": ("对外贸易公司",), "房管所": ("房产管理所",),
    "武装部": ("人民武装部",), "师范学校": ("师范",), "卫生学校": ("卫校",), "农科所": ("农业科学研究所",),
}
_CN_DIGITS = "〇一二三四五六七八九"
_CAPITAL = dict(zip("一二三四五六七八九", "壹贰叁肆伍陆柒捌玖"))
_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@functools.cache
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


def _traditional(name: str) -> str | None:
    """The name as pasted from a traditional-character source (OpenCC s2t), when it reads back."""
    t = _opencc("s2t").convert(name)
    return t if t != name and _opencc("t2s").convert(t) == name else None


def _full_width(name: str) -> str | None:
    """Arabic digits, Latin letters and brackets in their full-width forms (２号楼, （一期）)."""
    text = "".join(str(_CN_DIGITS.index(ch)) if ch in _CN_DIGITS else ch for ch in name)
    if not any(ch.isascii() and not ch.isspace() for ch in text):
        return None
    return "".join(_FULL_WIDTH.get(ch, ch) for ch in text)


def clerk_forms(name: str, county: str = "", town: str = "") -> list[str]:
    """The ways of input-formats.md a clerk may write ``name`` (none of them another community):
    bracket width and spaces, (原), 一期, 住宅 inserted or dropped, the county's or town's or the
    prefecture's name in front, a work unit's abbreviation, traditional characters, full-width
    digits and letters, and Chinese numerals as Arabic or capital ones."""
    out: list[str] = []
    if "(" in name or "（" in name:
        out.append(name.translate(str.maketrans("()（）", "（）()")))
    for suffix in ("住宅小区", "小区", "花园", "家属院", "住宅楼", "大院", "生活区", "家属楼", "新村", "公寓"):
        if name.endswith(suffix) and len(name) > len(suffix):
            out.append(name[: -len(suffix)] + " " + suffix)
            break
    out += ["（原）" + name, "(原)" + name]
    if not name.endswith("期") and "(" not in name:
        out += [name + "(一期)", name + "（一期）"]
    if name.endswith("小区") and not name.endswith("住宅小区"):
        out.append(name[:-2] + "住宅小区")
    elif name.endswith("住宅小区"):
        out.append(name[:-4] + "小区")
    if name.endswith(("大院", "家属院", "住宅楼", "家属楼", "生活区")):
        out.append(name + "小区")
    for place in (county, county[:-1] if county.endswith(("县", "市")) and len(county) == 3 else "", town, "巴州"):
        if place and not name.startswith(place) and not (place == "巴州" and name.startswith("巴")):
            out.append(place + name)
    for full, shorts in UNIT_FORMS.items():
        if full in name and not any(short in name for short in shorts):
            out += [name.replace(full, short, 1) for short in shorts]
            break
    for form in (_traditional(name), _full_width(name)):
        if form:
            out.append(form)
    if any(ch in _CAPITAL for ch in name):
        out.append("".join(str(_CN_DIGITS.index(ch)) if ch in _CN_DIGITS else ch for ch in name))
        out.append("".join(_CAPITAL.get(ch, ch) for ch in name))
    return [o for o in dict.fromkeys(out) if o != name]


def name_variant(name: str, rng: random.Random, avoid: set[str], county: str = "", town: str = "") -> str:
    """How a clerk writes a ledger name again in a plan or report: any form of :func:`clerk_forms`,
    sometimes two of them, or a slip.

    Never returns a name in ``avoid`` (the other ledger names of the county) and never turns one
    phase of an estate into another."""
    options = clerk_forms(name, county, town)
    s = slip(name, rng, avoid)
    if s:
        options += [s, s]
    options = [o for o in options if o not in avoid and o != name]
    if not options:
        return name
    out = rng.choice(options)
    if rng.random() < 0.25:  # a second form on top: a county prefix pasted in traditional characters …
        more = [o for o in clerk_forms(out, county, town) if o not in avoid and "原" not in o.replace(out, "")]
        if more:
            out = rng.choice(more)
    return out


def ledger_form(name: str, rng: random.Random, county: str, town: str) -> str:
    """How a county's own ledger may write one of its estates: its name with the county's or town's
    name in front, a work unit abbreviated, in traditional or full-width characters."""
    options = [o for o in clerk_forms(name, county, town)
               if "原" not in o and "期" not in o and "住宅" not in o.replace(name, "")]
    return rng.choice(options) if options else name


def address_variant(addr: str, road: str, number: int, street: str, landmark: str, rng: random.Random) -> str:
    """The same address written another way (街道 prefix, 号院, a number range, a landmark, blank,
    traditional or full-width characters)."""
    kind = rng.choice(("prefix", "yard", "range", "landmark", "blank", "yard", "copied"))
    if kind == "copied":
        return rng.choice([f for f in (_traditional(addr), _full_width(addr)) if f] or [addr])
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
