"""Chip glossary: vendor, product and term aliases across Chinese, English and pinyin.

Used to expand queries so English questions find Chinese text and the reverse, to tag
documents with vendors, and to tell which attribute (memory, bandwidth, price ...) a
question asks for. Pure data plus small lookups; no retrieval logic here.
"""

from __future__ import annotations

import re
from functools import lru_cache

# canonical vendor -> aliases (matched case-insensitively; Chinese as substrings)
VENDORS: dict[str, list[str]] = {
    "NVIDIA": [
        "NVIDIA",
        "Nvidia",
        "英伟达",
        "輝達",
        "辉达",
        "H20",
        "H100",
        "H200",
        "H800",
        "A800",
        "A100",
        "B200",
        "B300",
        "GB200",
        "GB300",
        "Blackwell",
        "Hopper",
        "Rubin",
    ],
    "AMD": ["AMD", "超威", "MI300X", "MI325X", "MI350", "MI355X", "MI400", "Instinct"],
    "Intel": ["Intel", "英特尔", "Gaudi", "高迪"],
    "Huawei": ["Huawei", "华为", "昇腾", "Ascend", "Shengteng", "CloudMatrix", "910B", "910C"],
    "Cambricon": ["Cambricon", "寒武纪", "Hanwuji", "思元", "MLU"],
    "Kunlunxin": ["Kunlunxin", "Kunlun", "昆仑芯", "昆仑", "P800", "天池"],
    "Baidu": ["Baidu", "百度"],
    "T-Head": [
        "T-Head",
        "THead",
        "Pingtouge",
        "平头哥",
        "真武",
        "Zhenwu",
        "含光",
        "Hanguang",
        "倚天",
        "Yitian",
        "玄铁",
        "Xuantie",
    ],
    "Alibaba": ["Alibaba", "阿里巴巴", "阿里", "阿里云", "Alibaba Cloud", "Aliyun"],
    "Hygon": ["Hygon", "海光", "深算"],
    "Moore Threads": ["Moore Threads", "摩尔线程", "MTT"],
    "Biren": ["Biren", "壁仞"],
    "MetaX": ["MetaX", "沐曦"],
    "Enflame": ["Enflame", "燧原", "Suiyuan", "邃思", "云燧"],
    "Tencent": ["Tencent", "腾讯"],
    "Google": ["Google", "谷歌", "TPU", "Trillium", "Ironwood"],
    "AWS": ["AWS", "Amazon", "亚马逊", "Trainium", "Inferentia"],
    "Microsoft": ["Microsoft", "微软", "Maia"],
    "Meta": ["Meta", "MTIA"],
    "TSMC": ["TSMC", "台积电", "台積電", "CoWoS"],
    "SMIC": ["SMIC", "中芯国际", "中芯"],
    "SK hynix": ["SK hynix", "SK Hynix", "海力士", "SK海力士"],
    "Samsung": ["Samsung", "三星"],
    "Micron": ["Micron", "美光"],
    "Sugon": ["Sugon", "曙光", "中科曙光"],
    "Qualcomm": ["Qualcomm", "高通"],
    "Apple": ["Apple", "苹果"],
    "OpenAI": ["OpenAI"],
    "Broadcom": ["Broadcom", "博通"],
    "Meituan": ["Meituan", "美团"],
}

# product lines (more specific than vendors): canonical -> aliases in every language
PRODUCTS: dict[str, list[str]] = {
    "Zhenwu": ["Zhenwu", "真武"],
    "Hanguang": ["Hanguang", "含光"],
    "Yitian": ["Yitian", "倚天"],
    "XuanTie": ["XuanTie", "Xuantie", "玄铁"],
    "Ascend": ["Ascend", "昇腾", "Shengteng"],
    "CloudMatrix": ["CloudMatrix"],
    "Atlas": ["Atlas"],
    "Kunpeng": ["Kunpeng", "鲲鹏"],
    "Tianchi": ["Tianchi", "天池"],
    "Siyuan": ["Siyuan", "思元", "MLU"],
    "Shensuan": ["深算", "DCU"],
    "Xiyun": ["曦云", "Xiyun"],
    "Suisi": ["邃思", "云燧"],
    "TPU": ["TPU"],
    "Trillium": ["Trillium"],
    "Ironwood": ["Ironwood"],
    "Trainium": ["Trainium"],
    "Inferentia": ["Inferentia"],
    "Gaudi": ["Gaudi", "高迪"],
    "Maia": ["Maia"],
    "MTIA": ["MTIA"],
    "Instinct": ["Instinct"],
    "Blackwell": ["Blackwell"],
    "Hopper": ["Hopper"],
    "Rubin": ["Rubin"],
    "Kirin": ["Kirin", "麒麟"],
    "RTX": ["RTX"],
}

# groups of terms that mean the same thing; any member expands to the others
TERMS: list[list[str]] = [
    ["memory", "显存", "内存", "HBM", "capacity", "容量"],
    ["bandwidth", "带宽", "显存带宽"],
    ["interconnect", "互联", "片间互联", "NVLink", "ICN"],
    ["shipments", "出货量", "出货", "shipped"],
    ["funding", "融资", "募资", "募集资金", "raise", "raised", "proceeds", "投向"],
    ["IPO", "上市", "listing", "listed", "科创板", "STAR Market", "港股", "分拆"],
    ["process", "制程", "工艺", "nm", "node", "纳米"],
    ["power", "功耗", "TDP", "watts", "W"],
    ["compute", "算力", "TFLOPS", "PFLOPS", "performance", "性能"],
    ["price", "售价", "价格", "定价", "priced"],
    ["customers", "客户", "customer"],
    ["revenue", "营收", "收入", "sales", "销售额"],
    ["profit", "净利润", "利润", "盈利", "net income"],
    ["export controls", "出口管制", "export", "出口", "禁令", "ban", "licence", "license", "许可"],
    ["roadmap", "路线图", "规划", "下一代", "next-generation"],
    ["launch", "发布", "上线", "推出", "unveiled", "launched", "released"],
    ["chip", "芯片"],
    ["accelerator", "加速卡", "算力卡", "card"],
    ["cluster", "集群"],
    ["supernode", "超节点", "SuperPoD", "rack"],
    ["training", "训练"],
    ["inference", "推理"],
    ["market share", "市场份额", "份额", "share"],
    ["capacity expansion", "产能", "扩产", "capacity"],
    ["valuation", "估值", "市值", "market value"],
    ["GPU", "图形处理器", "显卡"],
    ["self-developed", "自研", "in-house", "custom"],
    ["China", "中国", "国产", "domestic"],
    ["when", "何时", "什么时候", "哪年", "日期", "date"],
    ["founder", "founded", "创始人", "创立", "成立", "创办"],
    ["transistors", "晶体管"],
    ["interface", "接口", "PCIe"],
    ["links", "链路", "link"],
    ["racks", "机柜", "rack", "cabinets"],
    ["optical modules", "光模块", "optics"],
    ["clock", "主频", "频率", "GHz"],
    ["cores", "核心", "核"],
    ["architecture", "架构"],
    ["foundry", "代工", "晶圆厂", "fab", "manufactured", "manufacturing", "生产", "制造"],
    ["entity list", "实体清单", "实体名单", "blacklist"],
    ["charge", "计提", "费用", "write-down", "减值"],
    ["licence requirement", "许可证", "licence", "license", "许可"],
    ["quarter", "季度", "季"],
    ["first half", "上半年", "H1"],
    ["full year", "全年", "年度"],
    ["net loss", "亏损", "净亏损", "loss"],
    ["growth", "增长", "同比", "year on year", "year-on-year"],
    ["employees", "员工", "staff"],
    ["stake", "股东", "持股", "shareholder", "investor", "投资"],
    ["largest customer", "第一大客户", "最大客户", "biggest customer"],
    ["tender", "中标", "招标", "采购", "procurement", "集中采购"],
    ["merger", "合并", "吸收合并", "换股", "merge", "acquisition", "收购"],
    ["summoned", "约谈", "regulator", "监管"],
    ["Cyberspace Administration", "网信办", "国家互联网信息办公室", "CAC"],
    ["Commerce Department", "商务部", "BIS"],
    ["Hong Kong", "香港", "港股", "港交所", "联交所"],
    ["CCTV", "央视", "新闻联播", "China Central Television"],
    ["Shanghai", "上海", "上交所"],
    ["first-day", "首日", "上市首日", "第一天", "first day", "debut"],
    ["opening", "开盘"],
    ["closing", "收盘", "closed"],
    ["share price", "股价", "发行价", "issue price"],
    ["prospectus", "招股书", "招股说明书"],
    ["software ecosystem", "生态", "软件栈", "CUDA", "ecosystem", "software stack"],
    ["compatible", "兼容"],
    ["supply", "供应", "断供", "supplier", "供应商"],
    ["investment", "投资", "投入", "capex", "资本开支", "资本支出"],
    ["yuan", "元", "人民币", "RMB"],
    ["billion", "亿", "billion yuan", "亿元"],
    ["dollars", "美元", "USD", "$"],
    ["data center", "数据中心", "智算中心", "datacenter"],
    ["cloud", "云", "云计算"],
    ["large model", "大模型", "LLM", "foundation model"],
    ["parameters", "参数"],
    ["autonomous driving", "自动驾驶"],
    ["stacked", "堆叠", "12-high", "12层", "high"],
    ["mass production", "量产", "volume production"],
    ["samples", "样品", "送样", "sampling", "sample"],
    ["teardown", "拆解"],
    ["smartphone", "手机", "phone"],
    ["CPU", "处理器", "processor"],
    ["NPU", "神经网络处理器"],
    ["server", "服务器", "整机"],
    ["liquid cooling", "液冷"],
    ["US", "美国", "Washington", "华盛顿", "American"],
    ["rumour", "传闻", "传言", "reportedly", "据报道"],
    ["official", "官方", "官网", "officially"],
    ["latest", "最新", "最近", "recent"],
]

# attributes a question can ask for: question cues, and evidence cues that must be present
ATTRIBUTES: dict[str, tuple[list[str], list[str]]] = {
    "price": (
        [
            "售价",
            "价格",
            "定价",
            "单价",
            "发行价",
            "多少钱",
            "卖多少",
            "price",
            "priced",
            "cost",
            "how much does",
            "offer price",
            "IPO price",
        ],
        [
            "售价",
            "价格",
            "定价",
            "报价",
            "发行价",
            "price",
            "priced",
            "$",
            "美元",
            "港元",
            "HK$",
            "元/",
            "每张",
            "per unit",
            "per card",
            "per chip",
        ],
    ),
    "power": (
        ["功耗", "TDP", "power", "watt", "瓦", "能耗", "热设计"],
        [
            "功耗",
            "TDP",
            "W ",
            "W,",
            "W。",
            "W,",
            "W)",
            "watts",
            "瓦",
            "power draw",
            "power consumption",
            "kW",
        ],
    ),
    "process": (
        [
            "制程",
            "工艺",
            "process node",
            "nm",
            "纳米",
            "node",
            "fabbed",
            "manufactured on",
            "which process",
            "foundry",
            "代工",
        ],
        [
            "nm",
            "纳米",
            "制程",
            "工艺",
            "N3",
            "N2",
            "N5",
            "N7",
            "N4",
            "N+2",
            "N+3",
            "process",
            "node",
        ],
    ),
    "bandwidth": (
        ["带宽", "bandwidth", "速度", "speed", "数据传输速率"],
        ["带宽", "bandwidth", "TB/s", "GB/s", "Tbps"],
    ),
    "memory": (
        ["显存", "内存容量", "memory", "HBM容量", "多大显存", "capacity of hbm", "how much hbm"],
        ["GB", "HBM", "显存", "内存", "memory", "GiB", "TB"],
    ),
    "compute": (
        [
            "算力",
            "TFLOPS",
            "FLOPS",
            "compute performance",
            "峰值性能",
            "peak performance",
            "多少算力",
        ],
        [
            "TFLOPS",
            "PFLOPS",
            "FLOPS",
            "算力",
            "compute",
            "computing power",
            "性能",
            "TOPS",
            "IPS",
            "PetaFLOPS",
            "EFLOPS",
            "P",
            "exaflops",
            "petaflops",
        ],
    ),
    "shipments": (
        ["出货量", "出货", "shipments", "shipped", "how many units"],
        ["出货", "shipment", "shipped", "万片", "万张", "units", "万颗", "million"],
    ),
    "funding": (
        ["融资", "募资", "funding", "raise", "raised", "募集"],
        [
            "融资",
            "募资",
            "募集",
            "raise",
            "raised",
            "funding",
            "亿元",
            "亿美元",
            "billion",
            "million",
        ],
    ),
    "date": (
        ["什么时候", "何时", "哪一年", "哪年", "哪天", "when", "what date", "which year"],
        [
            "年",
            "月",
            "日",
            "20",
            "Q1",
            "Q2",
            "Q3",
            "Q4",
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
            "quarter",
        ],
    ),
    "customers": (
        ["客户", "customers", "customer", "who uses", "who buys"],
        [
            "客户",
            "customer",
            "customers",
            "服务了",
            "采用",
            "adopt",
            "deploy",
            "使用",
            "buy",
            "order",
            "订单",
            "中标",
        ],
    ),
    "revenue": (
        ["营收", "收入", "revenue", "sales"],
        ["营收", "收入", "revenue", "sales", "销售额", "亿元", "billion", "million"],
    ),
    "profit": (
        ["净利润", "利润", "盈利", "亏损", "profit", "net income", "loss"],
        [
            "净利润",
            "利润",
            "盈利",
            "亏损",
            "profit",
            "net income",
            "loss",
            "亿元",
            "billion",
            "million",
        ],
    ),
    "transistors": (
        ["晶体管", "transistor"],
        ["晶体管", "transistor", "transistors"],
    ),
    "yield": (
        ["良率", "yield"],
        ["良率", "yield", "yields"],
    ),
    "valuation": (
        ["估值", "市值", "valuation", "market cap", "market value"],
        ["估值", "市值", "valuation", "valued", "market cap", "market value"],
    ),
}

_CJK = re.compile(r"[\u4e00-\u9fff]")


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _contains(text_low: str, alias: str) -> bool:
    a = alias.lower()
    if _CJK.search(a) or not a.isascii():
        return a in text_low
    # ASCII aliases match whole tokens, so "AMD" is not found in "LAMDA" (a plain scan: a
    # regex per alias cost a cold 'rag ask' 0.2 s of compiling)
    i = text_low.find(a)
    while i >= 0:
        j = i + len(a)
        if (i == 0 or text_low[i - 1] not in _WORD_CHARS) and (
            j >= len(text_low) or text_low[j] not in _WORD_CHARS
        ):
            return True
        i = text_low.find(a, i + 1)
    return False


@lru_cache(maxsize=4096)
def detect_vendors(text: str) -> tuple[str, ...]:
    """Canonical vendor names mentioned in ``text``, in glossary order."""
    low = text.lower()
    return tuple(v for v, aliases in VENDORS.items() if any(_contains(low, a) for a in aliases))


def canonical_vendor(name: str) -> str | None:
    """The canonical name for a vendor alias (``平头哥`` -> ``T-Head``), or None."""
    low = name.strip().lower()
    for v, aliases in VENDORS.items():
        if low == v.lower() or any(low == a.lower() for a in aliases):
            return v
    return None


@lru_cache(maxsize=4096)
def expand_query(query: str) -> tuple[str, ...]:
    """Aliases of every vendor and term the query mentions, excluding what it already says."""
    seen: set[str] = set()
    out = []
    for group in expansion_groups(query):
        for t in group:
            if t.lower() not in seen:
                seen.add(t.lower())
                out.append(t)
    return tuple(out)


def expansion_groups(query: str) -> tuple[tuple[str, ...], ...]:
    """``expand_query`` kept by vendor or term group: the aliases of one thing together."""
    return tuple(kept for _, kept in matched_groups(query))


@lru_cache(maxsize=4096)
def matched_groups(query: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """Each vendor or term group the query mentions: (every alias of the group, the aliases
    it expands the query with, i.e. the first ones the query does not already say)."""
    low = query.lower()
    groups: list[tuple[list[str], list[str]]] = []
    for aliases in VENDORS.values():
        if any(_contains(low, a) for a in aliases):
            groups.append((aliases, aliases[:4]))
    for group in TERMS:
        if any(_contains(low, t) for t in group if len(t) > 1):
            groups.append((group, group))
    out = []
    for members, expansion in groups:
        kept = tuple(t for t in expansion if t.lower() not in low)
        if kept:
            out.append((tuple(members), kept))
    return tuple(out)


def _cue_in(cue: str, low: str) -> bool:
    """Chinese or symbol cues match as substrings; Latin words only as whole words."""
    c = cue.lower()
    if not re.search(r"[a-z]", c):
        return c in low
    return re.search(rf"(?<![a-z]){re.escape(c)}(?![a-z])", low) is not None


def asked_attributes(question: str) -> list[str]:
    """Attributes (``price``, ``power`` ...) the question asks for, by cue words."""
    # a clock speed is not a transfer speed
    low = re.sub(r"clock\s+speeds?|时钟速度", "clock", question.lower())
    return [a for a, (cues, _) in ATTRIBUTES.items() if any(_cue_in(c, low) for c in cues)]


def evidence_has_attribute(attribute: str, text: str) -> bool:
    """True when ``text`` carries a cue for ``attribute`` (a price, a power figure ...)."""
    low = text.lower()
    return any(_cue_in(c, low) for c in ATTRIBUTES[attribute][1])
