"""A small English-Chinese word list of chip-industry news, for cross-lingual sentence scoring.

The glossary (``rag.glossary``) names vendors, products and the terms a query is expanded
with for retrieval. This list is wider and softer: the everyday words of the news itself
(said, plans, market, size, founder, regulator ...) and the people in it, so the offline
answerer can tell which sentence of a Chinese article answers an English question, and
the reverse, when the two share hardly any token. Each line is ``english = 中文|中文``;
English words are matched by their stem (``summoned`` -> ``summon``).
"""

from __future__ import annotations

from functools import lru_cache

_PAIRS = """
accelerator accelerators = 加速器|加速卡|算力卡
acquire acquired acquisition = 收购|并购
added add adds = 新增|增加
advanced = 先进
after = 之后|此后
agreement deal = 协议|交易|合作
alliance partner partners partnership = 合作|伙伴|合作伙伴
analyst analysts = 分析师|分析人士
announce announced announcement = 宣布|公告|发布
annual yearly = 年度|每年|一年一代
application applications = 应用
approve approved approval = 批准|获批|审批
arrangement = 安排
assemble assembled = 组装
ban banned = 禁令|禁止|禁售
bandwidth = 带宽
big size scale = 规模|大小
board = 主板|板卡
bought buy buying purchase purchases purchasing = 采购|购买|买
business = 业务
cadence pace rhythm = 节奏|频率|一年一代
capital = 资本|资金
chief executive ceo = 首席执行官|CEO|总裁
chipmaker chipmakers = 芯片公司|芯片企业|芯片厂商|芯片制造商
claim claimed = 声称|宣称|称
close closed closing = 收盘
commercialise commercialize commercialisation = 商业化|商用
company companies firm = 公司|企业
compare compared comparison = 相比|对比|比较
competitor competitors rival rivals = 竞争对手|对手|竞争
complete completed = 完成
cost costs = 成本|费用
cover covers covered apply applies = 适用|覆盖|包括
cumulative = 累计
customer customers client clients = 客户
cut cuts = 削减|降低
data = 数据
debut = 首日|上市首日
decline declined fall fell drop dropped = 下降|下滑|减少
deliver delivered delivery = 交付|提供
demand = 需求
deploy deployed deployment = 部署
design designed = 设计
develop developed development = 研发|开发
die dies = 裸片|die
difference different differ = 差异|不同|区别
domestic = 国产|国内
double doubled = 翻倍|翻一番|两倍
earlier = 此前|早前
earnings results = 财报|业绩
efficiency efficient = 能效|效率
engineer engineers = 工程师
equal equivalent = 相当|持平
estimate estimated = 估计|预计|预估
expand expanded expansion = 扩大|扩产|扩张
expect expected = 预计|预期
export exports = 出口
facility facilities factory plant = 工厂|厂
fast faster speed = 速度|快
first = 首款|首个|第一|首次|首
forecast guidance outlook = 指引|预测|展望
founded founder founders = 创始人|创立|成立|创办
gain gains rise rose = 上涨|涨幅|增长
generation = 代
government = 政府
grant granted = 授予|发放|批准
growth grew grow = 增长
half = 一半|半
headquarters based = 总部
high-end = 高端
hire hired = 招聘
ideal = 理想
in-house self-developed = 自研
increase increased = 增加|提升|提高
industry = 行业|产业
insider insiders = 业内人士|知情人士|从业者
interconnect = 互联|片间互联
invest invested investment investor investors = 投资|投资者|入股
issue = 发行
keep kept = 保持|维持
large = 大
largest biggest = 最大|第一大
latest = 最新
launch launched launches = 发布|推出|上线
lead leading = 领先
license licence licences licenses licensing = 许可|许可证
line lines = 线|产品线
link links = 链路
list listed listing = 上市|挂牌
loss losses = 亏损
main major = 主要|主营
manufacture manufactured manufacturing = 制造|生产|代工
market markets = 市场
memory = 显存|内存
model models = 模型|型号
month months = 月
net = 净
new = 新|新款|新一代
next = 下一代|下一
offer offering = 发行|发售
official officially = 官方|正式
open opening = 开盘
order orders = 订单
organisation organization organisationally origin came = 前身|来源|整合|组建
own = 自有|自己
package packaging = 封装
paid pay = 支付|缴纳
peak = 峰值
people = 人士
performance = 性能
plan plans planned = 计划|拟|规划
power = 功耗|功率
previous prior = 上一代|此前|之前|前代
price prices priced = 价格|售价|定价|发行价
proceeds = 募集资金|募资
produce produced production = 生产|量产|制造
product products = 产品
profit profits = 利润|净利润|盈利
public = 公开|上市
quarter quarters quarterly = 季度
raise raised = 募资|融资|募集
ratio = 比例
rating rated = 额定
reach reached = 达到|达
receive received = 获得|收到
record = 创纪录|纪录
regulator regulators = 监管部门|监管机构|监管
report reported reports = 报道|报告|报
request requested = 要求|申请
require required requirement = 要求|需要
research = 研究|研发
restrict restricted restriction restrictions = 限制|管制|受限
revenue revenues sales = 营收|收入|销售额
sample samples sampled sampling = 样品|送样
say said says stated told = 表示|称|说|指出
second = 第二
security = 安全
sell sold selling = 销售|出售|卖
share shares = 股|份额|股份|占比
shareholder shareholders stake = 股东|持股
shipment shipments ship shipped = 出货|出货量|发货
since = 以来|自
single = 单|单颗|单个
spin = 分拆
stack stacks stacked = 堆叠|堆栈
start started begin began = 开始|启动
status = 进展|状态
stock = 股票|股价
strategy strategic = 战略|策略|逻辑
summon summoned = 约谈
supply supplier suppliers = 供应|供应商|供货
support supports = 支持
swap exchange = 换股|交换
target targets = 目标
team = 团队
test tested testing = 测试
third = 第三
throughput = 吞吐量|吞吐|性能
total = 总|合计|总计
train training = 训练
transistor transistors = 晶体管
unit units = 单元|台|颗
unveil unveiled = 发布|推出|亮相
upgrade = 升级
use used uses = 使用|采用|用于
version = 版本
volume = 量产|规模
wafer wafers = 晶圆
week = 周
world = 全球|世界
year years = 年
jensen huang = 黄仁勋
lisa su = 苏姿丰
trump = 特朗普
biden = 拜登
ren zhengfei = 任正非
robin li = 李彦宏
eddie wu = 吴泳铭
daniel zhang = 张勇
c.c. wei = 魏哲家
morris chang = 张忠谋
chen tianshi = 陈天石
zhao lidong = 赵立东
zhang jianzhong = 张建中
sam altman = 奥特曼
xi = 习近平
lutnick = 卢特尼克
commerce department = 商务部
cyberspace administration = 网信办|国家互联网信息办公室
samr = 市场监管总局|国家市场监督管理总局
wall street journal = 华尔街日报
reuters = 路透社
bloomberg = 彭博社|彭博
financial times = 金融时报
idc = IDC
tsmc = 台积电
smic = 中芯国际
"""


def _undouble(w: str) -> str:
    """shipp -> ship, plann -> plan (but call, pass, buzz stay)."""
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeiouylsz":
        return w[:-1]
    return w


def _strip_once(w: str) -> str:
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ing") and len(w) >= 6:
        return _undouble(w[:-3])
    if w.endswith("ed") and not w.endswith("eed") and len(w) >= 5:
        return _undouble(w[:-2])
    if w.endswith("es") and w[:-2].endswith(("ss", "x", "ch", "sh")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) >= 4:
        return w[:-1]
    return w


def stem(word: str) -> str:
    """A crude English stem, the same for a word's forms (``summoned`` and ``summon``
    -> ``summon``, ``prices`` and ``priced`` -> ``pric``); other text is returned lower-cased.
    Apply it once, to the word as written."""
    w = word.lower()
    if not w.isascii() or not w.isalpha():
        return w
    w = _strip_once(w)
    if w.endswith("e") and len(w) >= 4:
        w = w[:-1]
    return w


def _build() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    en_zh: dict[str, list[str]] = {}
    zh_en: dict[str, list[str]] = {}
    for line in _PAIRS.strip().splitlines():
        left, _, right = line.partition("=")
        zh = [z.strip() for z in right.split("|") if z.strip()]
        # the English side lists words of one meaning ("sell sold selling") or the words
        # of one name ("jensen huang"); each word maps to the Chinese side
        words = left.split()
        for k in words:
            en_zh.setdefault(stem(k), []).extend(zh)
        for z in zh:
            zh_en.setdefault(z.lower(), []).extend(words)
    return (
        {k: tuple(dict.fromkeys(v)) for k, v in en_zh.items()},
        {k: tuple(dict.fromkeys(v)) for k, v in zh_en.items()},
    )


_EN_ZH, _ZH_EN = _build()


@lru_cache(maxsize=8192)
def translations(token: str) -> tuple[str, ...]:
    """Words of the other language for one token: an English word as written or already
    stemmed, a Chinese word as written."""
    t = token.lower()
    if t.isascii():
        return _EN_ZH.get(t) or _EN_ZH.get(stem(t), ())
    return _ZH_EN.get(t, ())


__all__ = ["stem", "translations"]
