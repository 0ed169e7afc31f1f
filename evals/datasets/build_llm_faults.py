"""Write ``llm_faults.jsonl``: scripted LLM answers with every statement labelled.

Run from the repository root: ``python evals/datasets/build_llm_faults.py [--heldout FILE]``. The answers
below are written the way capable chat models answer (Chinese and English, markdown lists,
hedges, bold lead-ins), over questions of ``dev.jsonl`` (and ``heldout.jsonl`` when present).
Each answer is a list of parts; the code before the ``|`` says what the part is:

- ``S`` a statement the cited source supports (the verifier must keep it);
- ``U`` a statement it does not support (the verifier must remove or flag it);
- ``F`` formatting only (list bullets, line breaks, a heading): not measured;
- ``R+`` / ``R-`` a refusal that is right (nothing in the sources answers) / wrong (the
  answer is in the sources).

A source is named by text it contains, ``{src:TEXT}`` (or ``{src!:TEXT}``, a source that does
not contain TEXT); the replay server turns it into that source's number in the prompt, so the
catalogue does not depend on the retrieval order. ``since`` filters retrieval (a date no
document has means nothing is retrieved).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rag.lang import HAN_CHAR

HERE = Path(__file__).resolve().parent
FAULTS = (
    "correct",
    "figure_changed",
    "wrong_source_number",
    "outside_knowledge",
    "wrong_passage",
    "unit_converted",
    "chinese_numerals",
    "paraphrased_quote",
    "nonexistent_source",
    "wrong_language",
    "refusal_present",
    "answer_nothing_retrieved",
)
NOTHING = "2100-01-01"  # no document is dated after this: retrieval returns nothing

# (b069 and b072 are not used: the held-out corpus documents answer them)
# fmt: off
ENTRIES: list[tuple[str, str, list[str], dict[str, Any]]] = [
    # ---------------------------------------------------------------- correct
    ("a001", "correct", ["S|真武810E采用HBM2e内存，容量可达96GB[{src:容量可达96GB}]。"], {}),
    ("a002", "correct", ["F|According to the sources:\n\n", "F|- ", "S|The Zhenwu 810E supports 7 independent ICN links [{src:7个独立ICN链路}].", "F|\n- ", "S|Its inter-chip bandwidth reaches 700GB/s [{src:7个独立ICN链路}]."], {}),
    ("a003", "correct", ["S|据报道，阿里云在该项目中投入了1024台设备，共搭载16384张平头哥算力卡[{src:共搭载16384张}]。", "S|提供的算力为1945P[{src:共搭载16384张}]。"], {}),
    ("a004", "correct", ["S|Alibaba said the Hanguang 800 reached a peak of 78563 IPS on ResNet-50 [{src:78563 IPS，能效}].", "S|Its efficiency was 500 IPS/W [{src:78563 IPS，能效}]."], {}),
    ("a005", "correct", ["F|**Yitian 710** at a glance:\n", "F|- ", "S|Process: 5nm [{src:它采用5nm工艺}]", "F|\n- ", "S|Transistors: 60 billion (600亿) [{src:它采用5nm工艺}]", "F|\n- ", "S|Clock: up to 3.2GHz [{src:主频最高3.2GHz}]"], {}),
    ("a006", "correct", ["S|In the CCTV footage the T-Head PPU was listed with a PCIe 5.0×16 interface and 400W of power [{src:功耗为400W}]."], {}),
    ("a007", "correct", ["S|The H20 offers 900GB/s of NVLink bandwidth [{src:NVLink互联带宽为900GB/s}]", "S| and roughly 296 TFLOPS of FP8 compute [{src:NVLink互联带宽为900GB/s}]."], {}),
    ("a009", "correct", ["S|950PR搭载华为自研的HiBL 1.0[{src:HiBL 1.0}]。", "S|其容量为128GB，带宽为1.6TB/s[{src:HiBL 1.0}]。"], {}),
    ("a011", "correct", ["F|根据资料：\n\n", "F|1. ", "S|CloudMatrix 384整套系统由16个机柜组成，其中12个为计算机柜，4个为网络机柜[{src:16个机柜}]；", "F|\n2. ", "S|全系统共配备6912个400G光模块[{src:6912个400G光模块}]。"], {}),
    ("a013", "correct", ["S|The RTX Pro 6000D uses GDDR7 memory instead of HBM [{src:GDDR7}].", "S|Reuters reported that such a chip would be priced between $6,500 and $8,000 [{src:$6,500}]."], {}),
    ("a014", "correct", ["S|Baidu's first-generation Kunlun chip (2018) used a 14nm process [{src:采用14nm工艺}],", "S| and the second generation, in 2021, moved to 7nm and reached mass production [{src:采用14nm工艺}]."], {}),
    ("a016", "correct", ["S|Huawei plans to equip the Ascend 960 with 288GB of HBM and 9.6TB/s of bandwidth [{src:288GB HBM}]."], {}),
    ("a017", "correct", ["S|这个3万卡集群可以同时承载多个千亿参数大模型的全量训练[{src:全量训练}]，", "S|也能支持1000个客户同时做百亿参数模型的精调[{src:全量训练}]。"], {}),
    ("a019", "correct", ["S|T-Head (平头哥), Alibaba's wholly owned chip unit, quietly listed the Zhenwu 810E on its website on the morning of January 29 [{src:在官网悄然上线}]."], {}),
    ("a021", "correct", ["S|腾讯从2018年起多年重仓燧原科技，是燧原科技的第一大客户和股东[{src:第一大客户和股东}]。", "S|到2025年前三季度，腾讯相关业务在燧原营收中的占比已超过70%[{src:第一大客户和股东}]。"], {}),
    ("a025", "correct", ["S|燧原科技的创始人是赵立东和张亚林，两人均有AMD工作经历[{src:创始人赵立东和张亚林}]。"], {}),
    ("a029", "correct", ["S|Hygon and Sugon were added to the US Entity List together in June 2019 [{src:2019年6月}]."], {}),
    ("a032", "correct", ["S|The Cyberspace Administration of China (国家互联网信息办公室) summoned NVIDIA on July 31, 2025 [{src:国家互联网信息办公室约谈英伟达}]."], {}),
    ("a042", "correct", ["S|Jensen Huang said China's AI accelerator market was worth about $50 billion [{src:500亿美元}]."], {}),
    ("a044", "correct", ["F|**Memory**\n\n", "S|The H200 carries 141GB of HBM3e with 4.8TB/s of bandwidth [{src:141GB HBM3e}].", "F|\n", "S|The H20 has 96GB of HBM3 at 4.0TB/s [{src:141GB HBM3e}]."], {}),
    ("a049", "correct", ["S|In April NVIDIA expected a charge of about $5.5 billion [{src:预计将在该季度计提约55亿美元}].", "S|The charge it actually booked in the quarter was $4.5 billion [{src:计提了45亿美元}],", "S| lower because some materials could be reused in other products [{src:计提了45亿美元}]."], {}),
    ("b001", "correct", ["S|The MI300X carries 192GB of HBM3 memory with a peak bandwidth of 5.3TB/s [{src:192GB of HBM3 memory}]."], {}),
    ("b010", "correct", ["S|H200是第一款采用HBM3E内存的GPU[{src:first GPU to use HBM3E}]。", "S|它配备141GB HBM3E，内存带宽为4.8TB/s[{src:The H200 carries 141GB}]。"], {}),
    ("b018", "correct", ["S|摩尔线程的股票代码为688795[{src:股票代码688795}]，", "S|发行价格为114.28元/股[{src:114.28元/股}]。"], {}),
    ("b021", "correct", ["S|Biren listed on the main board of the Hong Kong Stock Exchange on January 2, 2026, under stock code 6082 [{src:股票代码6082}].", "S|The offer price was HK$19.60 per share [{src:每股19.60港元}]."], {}),
    ("b026", "correct", ["S|Gaudi 3出自英特尔2019年收购的Habana Labs团队[{src:Habana Labs team}]，", "S|由台积电（TSMC）采用5nm工艺制造[{src:manufactured on a 5nm process by TSMC}]。"], {}),
    ("b029", "correct", ["S|SK hynix began mass-producing 8-high HBM3E in March 2024 [{src:2024年3月率先量产8层HBM3E}]", "S| and started supplying NVIDIA [{src:2024年3月率先量产8层HBM3E}]."], {}),
    ("b040", "correct", ["F|简要对比：\n", "F|- ", "S|Trainium2：每颗芯片96GB HBM[{src:96GB of HBM per Trainium2}]", "F|\n- ", "S|TPU v5p：每颗芯片95GB HBM[{src:每颗芯片配备95GB HBM}]"], {}),
    ("b049", "correct", ["S|沐曦实际募集资金总额约41.97亿元[{src:41.97亿元}]，", "S|高于招股书中计划的39.04亿元[{src:41.97亿元}]。"], {}),
    ("b052", "correct", ["S|Moore Threads raised about 8 billion yuan in total [{src:约80亿元}],", "S| selling 70 million shares at 114.28 yuan each [{src:约80亿元}]."], {}),
    ("a025", "correct", ["S|报道称，燧原科技“成立于2018年3月，总部位于上海”[{src:燧原科技成立于2018年3月}]。"], {"note": "a verbatim quote"}),
    ("a026", "correct", ["S|The report said “the chip is being manufactured by a Chinese foundry” [{src:Chinese foundry}].", "S|The earlier Hanguang 800 was produced by TSMC [{src:produced by TSMC}]."], {"note": "a verbatim quote"}),
    ("b049", "correct", ["S|沐曦实际募资约42亿元[{src:41.97亿元}]，", "S|高于原计划的约39亿元[{src:41.97亿元}]。"], {"note": "hedged roundings"}),
    # refusals that are right: nothing in the sources answers
    ("b062", "correct", ["R+|The sources do not state the MI300X's board power, so I cannot answer this from them."], {}),
    ("b065", "correct", ["R+|资料中没有提到Trainium2单颗芯片的功耗，根据资料无法回答。"], {}),
    ("b068", "correct", ["R+|I cannot answer this from the sources: none of them gives Biren's 2025 revenue."], {}),
    ("b073", "correct", ["R+|根据资料无法回答：提供的文档中没有涉及高通AI200。"], {}),
    ("b078", "correct", ["R+|The provided sources do not mention the B200's TDP."], {}),
    # ---------------------------------------------------------------- a figure changed
    ("a001", "figure_changed", ["S|真武810E采用HBM2e内存[{src:容量可达96GB}]，", "U|容量为80GB[{src:容量可达96GB}]。"], {}),
    ("a002", "figure_changed", ["S|It supports 7 independent ICN links [{src:7个独立ICN链路}],", "U| with an inter-chip bandwidth of 900GB/s [{src:7个独立ICN链路}]."], {}),
    ("a014", "figure_changed", ["U|Baidu released the first Kunlun chip in 2019 on a 14nm process [{src:采用14nm工艺}];", "S| the second generation used 7nm and went into mass production [{src:采用14nm工艺}]."], {"note": "a year off by one"}),
    ("a016", "figure_changed", ["S|The Ascend 960 is planned with 288GB of HBM [{src:288GB HBM}]", "U| and about 8.6TB/s of memory bandwidth [{src:288GB HBM}]."], {}),
    ("a022", "figure_changed", ["U|According to IDC, Kunlunxin shipped about 59,000 accelerators in 2024 [{src:6.9万片}],", "S| about 2.65 times Cambricon's [{src:6.9万片}]."], {}),
    ("a042", "figure_changed", ["U|Huang said China's AI accelerator market was worth about $70 billion [{src:500亿美元}]."], {}),
    ("a049", "figure_changed", ["U|NVIDIA's final Q1 charge was $5.4 billion [{src:计提了45亿美元}],", "S| below the roughly $5.5 billion it had estimated in April [{src:计提了45亿美元}]."], {}),
    ("b001", "figure_changed", ["S|The MI300X carries 192GB of HBM3 [{src:192GB of HBM3 memory}]", "U| with 6.3TB/s of peak bandwidth [{src:192GB of HBM3 memory}]."], {}),
    ("b018", "figure_changed", ["S|摩尔线程股票代码688795[{src:股票代码688795}]，", "U|发行价为141.28元/股[{src:114.28元/股}]。"], {}),
    ("b021", "figure_changed", ["U|Biren listed in Hong Kong on January 2, 2025 [{src:股票代码6082}],", "S| at HK$19.60 per share [{src:每股19.60港元}]."], {"note": "a year off by one"}),
    ("b040", "figure_changed", ["S|Trainium2每颗芯片配备96GB HBM[{src:96GB of HBM per Trainium2}]，", "U|TPU v5p每颗芯片为96GB[{src:每颗芯片配备95GB HBM}]。"], {}),
    ("b049", "figure_changed", ["U|沐曦最终实际募资约47.91亿元[{src:41.97亿元}]。"], {}),
    ("a044", "figure_changed", ["S|The H200 has 141GB of HBM3e [{src:141GB HBM3e}],", "U| while the H20 has 96GB of HBM3 at 3.0TB/s [{src:141GB HBM3e}]."], {}),
    ("a011", "figure_changed", ["U|CloudMatrix 384由18个机柜组成[{src:16个机柜}]，", "S|全系统配备6912个400G光模块[{src:6912个400G光模块}]。"], {}),
    # ---------------------------------------------------------------- right figure, wrong source number
    ("a001", "wrong_source_number", ["U|真武810E采用HBM2e内存，容量可达96GB[{src!:96GB}]。"], {}),
    ("a003", "wrong_source_number", ["U|阿里云共部署了16384张平头哥算力卡[{src!:16384}]，", "S|提供1945P算力[{src:1945P}]。"], {}),
    ("a007", "wrong_source_number", ["U|The H20's NVLink bandwidth is 900GB/s [{src!:900GB/s}]."], {}),
    ("a009", "wrong_source_number", ["S|950PR搭载HiBL 1.0[{src:HiBL 1.0}]，", "U|容量128GB，带宽1.6TB/s[{src!:1.6TB/s}]。"], {}),
    ("a042", "wrong_source_number", ["U|Huang put the Chinese AI accelerator market at about $50 billion [{src!:500亿美元}]."], {}),
    ("b001", "wrong_source_number", ["U|The MI300X has 192GB of HBM3 with 5.3TB/s of bandwidth [{src!:5.3TB/s}]."], {}),
    ("b049", "wrong_source_number", ["U|沐曦的实际募资额约为41.97亿元[{src!:41.97}]。"], {}),
    ("b052", "wrong_source_number", ["U|Moore Threads priced its shares at 114.28 yuan [{src!:114.28}]."], {}),
    ("a016", "wrong_source_number", ["U|The Ascend 960 is planned with 288GB of HBM and 9.6TB/s [{src!:9.6TB/s}]."], {}),
    ("b040", "wrong_source_number", ["S|TPU v5p每颗芯片配备95GB HBM[{src:每颗芯片配备95GB HBM}]，", "U|Trainium2则是每颗96GB[{src!:Trainium2}]。"], {}),
    # ---------------------------------------------------------------- outside knowledge, no citation
    ("a001", "outside_knowledge", ["S|真武810E采用HBM2e内存，容量可达96GB[{src:容量可达96GB}]。", "U|HBM2e是三星和SK海力士等厂商量产的上一代高带宽内存，目前主流旗舰GPU已转向HBM3E。"], {}),
    ("a007", "outside_knowledge", ["S|The H20 offers 900GB/s of NVLink bandwidth [{src:NVLink互联带宽为900GB/s}].", "U|By comparison, the H100 SXM offers the same NVLink bandwidth with far more compute, which is why export rules treat them differently."], {}),
    ("a013", "outside_knowledge", ["S|The RTX Pro 6000D uses GDDR7 memory rather than HBM [{src:GDDR7}].", "U|GDDR7 is the memory NVIDIA also uses on its GeForce RTX 50 gaming cards."], {}),
    ("a025", "outside_knowledge", ["S|燧原科技创始人赵立东和张亚林均有AMD工作经历[{src:创始人赵立东和张亚林}]。", "U|赵立东此前曾任紫光集团副总裁，负责芯片业务。"], {}),
    ("a029", "outside_knowledge", ["S|Hygon and Sugon were both put on the Entity List in June 2019 [{src:2019年6月}].", "U|Hygon's x86 licence originally came from a joint venture with AMD."], {}),
    ("b026", "outside_knowledge", ["S|Gaudi 3由台积电以5nm工艺制造[{src:manufactured on a 5nm process by TSMC}]。", "U|Habana Labs是一家以色列公司，英特尔当年以约20亿美元收购了它。"], {"note": "an outside figure"}),
    ("b029", "outside_knowledge", ["S|SK hynix mass-produced 8-high HBM3E first, in March 2024 [{src:2024年3月率先量产8层HBM3E}].", "U|Those stacks went into NVIDIA's H200, which was the first GPU built around HBM3E."], {}),
    ("a021", "outside_knowledge", ["S|腾讯是燧原科技的第一大客户和股东[{src:第一大客户和股东}]。", "U|腾讯还投资了多家其他国产芯片企业，以降低对英伟达的依赖。"], {}),
    ("b010", "outside_knowledge", ["S|H200配备141GB HBM3E，内存带宽为4.8TB/s[{src:The H200 carries 141GB}]。", "U|它的计算部分与H100完全相同，性能提升全部来自显存。"], {}),
    ("a032", "outside_knowledge", ["S|The Cyberspace Administration of China summoned NVIDIA on July 31, 2025 [{src:国家互联网信息办公室约谈英伟达}].", "U|The same regulator had earlier barred Micron from critical infrastructure purchases."], {}),
    ("b018", "outside_knowledge", ["S|摩尔线程的发行价为114.28元/股[{src:114.28元/股}]。", "U|这一发行价创下科创板半导体公司发行价的历史纪录。"], {}),
    ("a044", "outside_knowledge", ["S|The H200 carries 141GB of HBM3e at 4.8TB/s [{src:141GB HBM3e}].", "U|Both chips are built on TSMC's 4N process."], {"note": "an outside figure"}),
    # ---------------------------------------------------------------- true statement, wrong passage
    ("a001", "wrong_passage", ["U|真武810E是一款AI训推一体芯片，采用自研并行计算架构[{src!:训推一体}]。"], {}),
    ("a013", "wrong_passage", ["S|The RTX Pro 6000D uses GDDR7 instead of HBM [{src:GDDR7}].", "U|The Cyberspace Administration of China told ByteDance and Alibaba to stop testing and ordering it [{src!:ByteDance}]."], {}),
    ("a021", "wrong_passage", ["U|腾讯从早期融资开始就参与投资燧原，此后多轮加注[{src!:早期融资}]。"], {}),
    ("a029", "wrong_passage", ["U|Hygon plans to absorb Sugon through a share swap [{src!:海光}]."], {}),
    ("b026", "wrong_passage", ["U|Gaudi 3出自英特尔收购的Habana Labs团队[{src!:Habana}]。"], {}),
    ("a025", "wrong_passage", ["U|燧原科技的创始人赵立东和张亚林均有AMD工作经历[{src!:赵立东}]。"], {}),
    ("b010", "wrong_passage", ["U|H200是在丹佛举行的SC23超算大会上发布的[{src!:SC23}]。"], {}),
    ("a032", "wrong_passage", ["U|The regulator asked NVIDIA to explain security risks of the H20 [{src!:网信办}]."], {}),
    ("b029", "wrong_passage", ["U|SK hynix started supplying NVIDIA with 8-high HBM3E [{src!:英伟达}]."], {}),
    ("a037", "wrong_passage", ["U|据报道，新芯片兼容英伟达的软件生态，工程师无需重写即可迁移已有程序[{src!:without rewriting}]。"], {}),
    # ---------------------------------------------------------------- units converted (supported)
    ("a002", "unit_converted", ["S|It supports 7 independent ICN links [{src:7个独立ICN链路}]", "S| with 0.7TB/s of chip-to-chip bandwidth [{src:7个独立ICN链路}]."], {}),
    ("a005", "unit_converted", ["S|Yitian 710 is built on 5nm [{src:它采用5nm工艺}]", "S| and integrates 60 billion transistors [{src:它采用5nm工艺}]."], {}),
    ("a003", "unit_converted", ["S|阿里云共部署了约1.6万张平头哥算力卡[{src:共搭载16384张}]，", "S|总算力约1.9 EFLOPS[{src:共搭载16384张}]。"], {}),
    ("a009", "unit_converted", ["S|950PR的HiBL 1.0容量128GB，带宽1600GB/s[{src:HiBL 1.0}]。"], {}),
    ("a016", "unit_converted", ["S|The Ascend 960 is planned with 288GB of HBM at 9600GB/s [{src:288GB HBM}]."], {}),
    ("a038", "unit_converted", ["S|阿里表示未来三年将投入超过3800亿元用于云计算和AI基础设施[{src:380 billion yuan}]。"], {}),
    ("a042", "unit_converted", ["S|He said the market was worth roughly 50 billion dollars [{src:500亿美元}]."], {}),
    ("a049", "unit_converted", ["S|NVIDIA first estimated a charge of about 5.5 billion dollars [{src:预计将在该季度计提约55亿美元}],", "S| then booked $4.5B in the quarter [{src:计提了45亿美元}]."], {}),
    ("b001", "unit_converted", ["S|The MI300X has 192GB of HBM3 with 5,300GB/s of peak bandwidth [{src:192GB of HBM3 memory}]."], {}),
    ("a005", "unit_converted", ["S|The Yitian 710 runs at up to 3,200MHz [{src:主频最高3.2GHz}]."], {}),
    ("b052", "unit_converted", ["S|Moore Threads raised about 8 billion yuan [{src:约80亿元}],", "S| selling 70 million shares [{src:约80亿元}]."], {}),
    ("a022", "unit_converted", ["S|IDC counted about 69,000 Kunlunxin accelerators shipped in 2024 against 26,000 for Cambricon [{src:6.9万片}]."], {}),
    # ---------------------------------------------------------------- Chinese numerals (supported)
    ("a001", "chinese_numerals", ["S|真武810E采用HBM2e内存，容量可达九十六GB[{src:容量可达96GB}]。"], {}),
    ("a050", "chinese_numerals", ["S|一致：平头哥官网给出的片间互联带宽是七百GB/s[{src:片间互联带宽达到700GB/s}]，", "S|央视画面中的数据同样是七百GB/s[{src:片间互联带宽为700GB/s}]。"], {}),
    ("a003", "chinese_numerals", ["S|阿里云投入了一千零二十四台设备，共搭载一万六千三百八十四张平头哥算力卡[{src:共搭载16384张}]。"], {}),
    ("a011", "chinese_numerals", ["S|整套系统由十六个机柜组成[{src:16个机柜}]，", "S|共配备六千九百一十二个400G光模块[{src:6912个400G光模块}]。"], {}),
    ("a015", "chinese_numerals", ["S|Atlas 960 SuperPoD由一万五千四百八十八张昇腾960卡组成[{src:15488张}]。"], {}),
    ("a017", "chinese_numerals", ["S|该集群能支持一千个客户同时做百亿参数模型的精调[{src:全量训练}]。"], {}),
    ("a021", "chinese_numerals", ["S|腾讯相关业务在燧原营收中的占比已超过百分之七十[{src:第一大客户和股东}]。"], {}),
    ("a048", "chinese_numerals", ["S|寒武纪2024年全年营业收入为十一点七四亿元[{src:11.74亿元}]。"], {"note": "a decimal written in Chinese numerals"}),
    ("b040", "chinese_numerals", ["S|TPU v5p每颗芯片配备九十五GB HBM[{src:每颗芯片配备95GB HBM}]。"], {}),
    ("a008", "chinese_numerals", ["S|初代昇腾910的FP16算力为256 TFLOPS，最大功耗为三百一十瓦[{src:310W}]。"], {}),
    # ---------------------------------------------------------------- a quote that paraphrases
    ("a001", "paraphrased_quote", ["U|平头哥官网称真武810E“内存容量最高可达96GB”[{src:容量可达96GB}]。"], {}),
    ("a017", "paraphrased_quote", ["U|李彦宏表示，该集群“能够同时训练多个千亿级参数的大模型”[{src:全量训练}]。"], {}),
    ("a021", "paraphrased_quote", ["U|资料称腾讯“自2018年以来一直是燧原最大的客户兼股东”[{src:第一大客户和股东}]。"], {}),
    ("a026", "paraphrased_quote", ["U|The report said “a domestic Chinese chipmaker is producing the new part” [{src:Chinese foundry}]."], {}),
    ("a013", "paraphrased_quote", ["U|Reuters said the chip “would sell for roughly $6,500 to $8,000” [{src:$6,500}]."], {}),
    ("b030", "paraphrased_quote", ["U|Meta explained that LPDDR5 “cuts both cost and power for recommendation models” [{src:LPDDR5}]."], {}),
    ("b032", "paraphrased_quote", ["U|谷歌称Ironwood是“第一款完全为推理打造的TPU芯片”[{src:first TPU designed specifically}]。"], {"note": "a Chinese answer quoting an English source in translation"}),
    ("a034", "paraphrased_quote", ["U|The report says Alibaba wanted to avoid being “tied to any one chip vendor or cut off from supply” [{src:一云多芯}]."], {"note": "an English answer quoting a Chinese source in translation"}),
    ("b037", "paraphrased_quote", ["U|微软称Maia 100“主要用于支撑Azure上的大模型业务”[{src:Copilot}]。"], {}),
    ("a039", "paraphrased_quote", ["U|百度高管表示，昆仑芯“每年都会推出一款新芯片”[{src:yearly cadence}]。"], {}),
    # ---------------------------------------------------------------- nonexistent source numbers
    ("a001", "nonexistent_source", ["U|真武810E的显存容量为96GB[7]。"], {}),
    ("a002", "nonexistent_source", ["S|The Zhenwu 810E supports 7 ICN links [{src:7个独立ICN链路}].", "U|Its interconnect reaches 700GB/s [6]."], {}),
    ("a007", "nonexistent_source", ["U|H20 delivers about 296 TFLOPS of FP8 [8]."], {}),
    ("a013", "nonexistent_source", ["U|The RTX Pro 6000D was reported at $6,500-$8,000 [9]."], {}),
    ("b001", "nonexistent_source", ["U|The MI300X has 192GB of HBM3 [0]."], {}),
    ("b018", "nonexistent_source", ["S|摩尔线程股票代码为688795[{src:股票代码688795}]。", "U|发行价为114.28元/股[12]。"], {}),
    ("b049", "nonexistent_source", ["U|沐曦实际募资约41.97亿元[来源7]。"], {}),
    ("a025", "nonexistent_source", ["U|燧原创始人赵立东和张亚林都曾在AMD工作【6】。"], {}),
    ("b021", "nonexistent_source", ["U|Biren's shares were priced at HK$19.60 [source 8]."], {}),
    ("a042", "nonexistent_source", ["U|Huang put the market at about $50 billion [6][7]."], {}),
    # ---------------------------------------------------------------- wrong language
    ("a001", "wrong_language", ["U|The Zhenwu 810E uses HBM2e memory with a capacity of up to 96GB [{src:容量可达96GB}]."], {}),
    ("a003", "wrong_language", ["U|Alibaba Cloud deployed 16384 T-Head accelerator cards [{src:共搭载16384张}].", "U|They deliver 1945P of compute [{src:共搭载16384张}]."], {}),
    ("a009", "wrong_language", ["U|The 950PR uses Huawei's in-house HiBL 1.0 with 128GB and 1.6TB/s [{src:HiBL 1.0}]."], {}),
    ("a021", "wrong_language", ["U|Tencent has backed Enflame since 2018 and is its largest customer and shareholder [{src:第一大客户和股东}]."], {}),
    ("b018", "wrong_language", ["U|Moore Threads trades under code 688795 [{src:股票代码688795}] and was priced at 114.28 yuan per share [{src:114.28元/股}]."], {}),
    ("a002", "wrong_language", ["U|真武810E支持7个独立ICN链路，片间互联带宽达到700GB/s[{src:7个独立ICN链路}]。"], {}),
    ("a013", "wrong_language", ["U|据报道，这款芯片没有采用HBM，而是使用GDDR7显存[{src:GDDR7}]，", "U|定价区间在6500到8000美元之间[{src:$6,500}]。"], {}),
    ("b001", "wrong_language", ["U|MI300X配备192GB HBM3显存，峰值带宽5.3TB/s[{src:192GB of HBM3 memory}]。"], {}),
    ("a042", "wrong_language", ["U|黄仁勋表示中国AI加速器市场规模约为500亿美元[{src:500亿美元}]。"], {}),
    ("b052", "wrong_language", ["U|摩尔线程实际募资约80亿元[{src:约80亿元}]。"], {}),
    # ---------------------------------------------------------------- refusal although the answer is there
    ("a001", "refusal_present", ["R-|根据提供的资料，无法确定真武810E的显存类型和容量。"], {}),
    ("a002", "refusal_present", ["R-|I cannot answer this from the sources."], {}),
    ("a009", "refusal_present", ["R-|资料中没有提到950PR使用的HBM容量和带宽，根据资料无法回答。"], {}),
    ("a016", "refusal_present", ["R-|The sources do not mention the Ascend 960's memory."], {}),
    ("a025", "refusal_present", ["R-|根据资料无法回答。"], {}),
    ("b001", "refusal_present", ["R-|The provided documents do not contain information about the MI300X's memory bandwidth."], {}),
    ("b018", "refusal_present", ["R-|资料中未提及摩尔线程的股票代码和发行价。"], {}),
    ("b040", "refusal_present", ["R-|根据现有资料，无法确定Trainium2和TPU v5p每颗芯片的HBM容量。"], {}),
    ("a042", "refusal_present", ["R-|Sorry, I cannot determine the market size Jensen Huang gave from the sources."], {}),
    ("b049", "refusal_present", ["R-|资料中没有相关信息。"], {}),
    # ---------------------------------------------------------------- an answer when nothing was retrieved
    ("a001", "answer_nothing_retrieved", ["U|真武810E采用HBM2e内存，容量为96GB[1]。"], {"since": NOTHING}),
    ("a002", "answer_nothing_retrieved", ["U|The Zhenwu 810E has 7 ICN links and 700GB/s of interconnect bandwidth [1]."], {"since": NOTHING}),
    ("b001", "answer_nothing_retrieved", ["U|The MI300X carries 192GB of HBM3 [1][2]."], {"since": NOTHING}),
    ("a025", "answer_nothing_retrieved", ["U|燧原科技由赵立东和张亚林创立。"], {"since": NOTHING}),
    # unanswerable questions: the retrieved passages are about something else
    ("b062", "answer_nothing_retrieved", ["U|The MI300X has a board power of 750W [{src:192GB of HBM3 memory}]."], {}),
    ("b063", "answer_nothing_retrieved", ["U|Ironwood采用台积电3nm工艺制造[{src:Ironwood}]。"], {}),
    ("b065", "answer_nothing_retrieved", ["U|Trainium2单颗芯片的功耗约为500瓦[{src:Trainium2}]。"], {}),
    ("b075", "answer_nothing_retrieved", ["U|沐曦曦云C500配备64GB HBM2e显存[{src:曦云C500}]。"], {}),
    ("b070", "answer_nothing_retrieved", ["U|Each Rubin Ultra GPU will carry 1TB of HBM4E [{src:Rubin}]."], {}),
    ("b074", "answer_nothing_retrieved", ["U|Trainium3 packs about 150 billion transistors [{src:Trainium3}]."], {}),
    ("b073", "answer_nothing_retrieved", ["U|高通AI200每张加速卡配备768GB LPDDR内存[1]。"], {}),
    ("b076", "answer_nothing_retrieved", ["U|SMIC's N+2 yields are reported to be well below those of TSMC [{src:N+2}]."], {"note": "no figure"}),
    ("b067", "answer_nothing_retrieved", ["U|摩尔线程MTT S4000的官方售价约为3万元[{src:S4000}]。"], {}),
]
# Held-out questions (heldout.jsonl): written blind, after the verifier was tuned on the
# entries above, run once and reported separately; never used to tune it.
# fmt: off
HELDOUT: list[tuple[str, str, list[str], dict[str, Any]]] = [
    ("h003", "correct", ["S|天垓100配备32GB HBM2显存[{src:32GB HBM2显存}]，", "S|显存带宽为1.2TB/s[{src:32GB HBM2显存}]。"], {}),
    ("h063", "correct", ["S|Groq's first-generation LPU is made on a 14nm process at GlobalFoundries [{src:14nm process at GlobalFoundries}].", "S|Groq quotes 750 TOPS at INT8 for one chip [{src:750 TOPS at INT8}]."], {}),
    ("h076", "correct", ["F|In short:\n", "F|- ", "S|Tenstorrent closed a $693 million Series D round [{src:$693 million Series D}]", "F|\n- ", "S|The round valued the company at about $2.6 billion [{src:about $2.6 billion}]"], {}),
    ("h096", "correct", ["S|深算一号于2021年实现商业化，配备32GB HBM2显存，显存带宽为1TB/s[{src:深算一号于2021年}]。"], {}),
    ("h101", "correct", ["S|The XuanTie C930 scores more than 15 points per GHz on SPECint2006 [{src:15分/GHz}]."], {}),
    ("h064", "correct", ["R+|The sources do not say how much NVIDIA paid to license Groq's technology, so I cannot answer this from them."], {}),
    ("h138", "correct", ["R+|资料中没有给出曦云C500的显存带宽，根据资料无法回答。"], {}),
    ("h012", "figure_changed", ["U|载天VA1推理卡单卡功耗为95W[{src:单卡功耗为75W}]，", "S|配备32GB LPDDR4X内存[{src:单卡功耗为75W}]。"], {}),
    ("h067", "figure_changed", ["S|Cerebras完成了11亿美元的G轮融资[{src:$1.1 billion Series G}]，", "U|投后估值为91亿美元[{src:$1.1 billion Series G}]。"], {}),
    ("h084", "figure_changed", ["S|Sohu is made on TSMC's 4nm process [{src:144GB of HBM3E}]", "U| and has 141GB of HBM3E [{src:144GB of HBM3E}]."], {}),
    ("h061", "wrong_source_number", ["U|Groq第一代LPU片上有230MB SRAM，片上内存带宽为80TB/s[{src!:230MB}]。"], {}),
    ("h089", "wrong_source_number", ["U|VeriSilicon's revenue in the first half of 2025 was 9.74亿元 (about 974 million yuan) [{src!:9.74亿元}]."], {}),
    ("h075", "wrong_source_number", ["S|这款加速卡配备32GB GDDR6显存[{src:32GB of GDDR6}]，", "U|其显存带宽为512GB/s，额定功耗为300W[{src!:512GB/s}]。"], {}),
    ("h042", "outside_knowledge", ["S|Samsung says its HBM4 runs at up to 11Gbps, above the 8Gbps JEDEC defines [{src:11Gbps}].", "U|Samsung is also expected to use HBM4 in AMD's next Instinct accelerators."], {}),
    ("h067", "outside_knowledge", ["S|Cerebras于2025年9月30日完成11亿美元G轮融资[{src:$1.1 billion Series G}]。", "U|Cerebras的晶圆级芯片由台积电代工，是目前面积最大的单颗芯片。"], {}),
    ("h077", "outside_knowledge", ["S|Each Blackhole chip carries 16 general-purpose RISC-V cores [{src:16 general-purpose RISC-V cores}].", "U|Jim Keller previously led chip design teams at AMD, Apple and Tesla."], {}),
    ("h063", "wrong_passage", ["U|Groq's first-generation LPU is made at GlobalFoundries [{src!:GlobalFoundries}]."], {}),
    ("h102", "wrong_passage", ["U|T-Head announced that it had begun delivering the XuanTie C930 at its RISC-V ecosystem conference [{src!:C930}]."], {}),
    ("h083", "wrong_passage", ["U|Corsair卡还配有LPDDR5内存，用于运行更大的模型[{src!:Corsair}]。"], {}),
    ("h059", "unit_converted", ["S|Groq在最新一轮融资中筹集了7.5亿美元[{src:$750 million}]，", "S|投后估值为69亿美元[{src:$750 million}]。"], {}),
    ("h089", "unit_converted", ["S|VeriSilicon's H1 2025 revenue was 974 million yuan [{src:9.74亿元}],", "S| with a net loss of 320 million yuan [{src:9.74亿元}]."], {}),
    ("h073", "unit_converted", ["S|CS-3系统的功耗约为23000瓦[{src:23kW}]。"], {}),
    ("h114", "unit_converted", ["S|寒武纪2025年前三季度营收为46.07亿元[{src:4.607 billion yuan}]。"], {}),
    ("h046", "chinese_numerals", ["S|三星12层堆叠的HBM4容量为三十六GB[{src:36GB}]。"], {}),
    ("h052", "chinese_numerals", ["S|中芯国际第三季度产能利用率为百分之九十五点八[{src:95.8%}]。"], {}),
    ("h103", "chinese_numerals", ["S|玄铁系列处理器累计出货量已超过四十亿颗[{src:40亿颗}]。"], {}),
    ("h101", "paraphrased_quote", ["U|T-Head says the C930 “delivers well over 15 points per GHz in SPECint2006 testing” [{src:15分/GHz}]."], {}),
    ("h028", "paraphrased_quote", ["U|报道称云天励飞“已于6月30日正式向港交所提交上市材料”[{src:2025年6月30日}]。"], {}),
    ("h084", "paraphrased_quote", ["U|The article describes Sohu as “a processor that can only execute transformer-based models” [{src:144GB of HBM3E}]."], {}),
    ("h003", "nonexistent_source", ["U|天垓100配备32GB HBM2显存[6]。"], {}),
    ("h065", "nonexistent_source", ["U|沙特在2025年2月承诺向Groq投资15亿美元[8]。"], {}),
    ("h106", "nonexistent_source", ["S|The C930 integrates a 512-bit RVV1.0 vector unit [{src:512位}].", "U|Its Matrix engine delivers 8 TOPS [11]."], {}),
    ("h012", "wrong_language", ["U|The Zaitian VA1 card draws 75W and carries 32GB of LPDDR4X memory [{src:单卡功耗为75W}]."], {}),
    ("h016", "wrong_language", ["U|瀚博在2021年发布的SV100采用7nm工艺，INT8算力超过200 TOPS[{src:SV100}]。"], {}),
    ("h093", "wrong_language", ["U|芯原的NPU IP已被91家客户用于超过140款AI芯片[{src:91家客户}]。"], {}),
    ("h027", "refusal_present", ["R-|The provided sources do not mention the DeepEdge10's process node or INT8 performance."], {}),
    ("h053", "refusal_present", ["R-|根据资料无法回答中芯国际第三季度的收入。"], {}),
    ("h068", "refusal_present", ["R-|资料中没有提到WSE-3的晶体管数量、核心数和片上内存。"], {}),
    ("h047", "answer_nothing_retrieved", ["U|Samsung's HBM4 is priced at about $500 per stack [{src:11Gbps}]."], {}),
    ("h079", "answer_nothing_retrieved", ["U|Tenstorrent 2024年营收约为1亿美元[{src:Tenstorrent}]。"], {}),
    ("h105", "answer_nothing_retrieved", ["U|玄铁C930的典型功耗约为5瓦[{src:C930}]。"], {}),
    ("h140", "answer_nothing_retrieved", ["U|天数智芯的CEO是盖鲁江[{src:天数智芯}]。"], {}),
    ("h003", "answer_nothing_retrieved", ["U|天垓100配备32GB HBM2显存，带宽1.2TB/s[1]。"], {"since": NOTHING}),
]
# fmt: on


def _dataset(name: str | Path) -> dict[str, dict[str, Any]]:
    path = HERE / name
    if not path.exists():
        return {}
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return {r["id"]: r for r in rows}


def _is_zh(text: str) -> bool:
    text = re.sub(r"\{src!?:[^}]*\}|\[[^\]]*\]", "", text)
    han = len(HAN_CHAR.findall(text))
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return han > 0.3 * (han + latin)


def _known_questions(heldout: Path | None = None) -> dict[str, dict[str, Any]]:
    """Questions by id: dev, held-out (when its file is here), else as the catalogue has them."""
    known: dict[str, dict[str, Any]] = {}
    out = HERE / "llm_faults.jsonl"
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            known[r["qid"]] = {k: r[k] for k in ("question", "lang", "answerable", "key_facts")}
    return known | _dataset("dev.jsonl") | _dataset(heldout or "heldout.jsonl")


def build(heldout: Path | None = None) -> list[dict[str, Any]]:
    """The catalogue rows, checked for shape (``heldout``: another held-out question file)."""
    questions = _known_questions(heldout)
    rows = []
    entries = [(*e, "dev") for e in ENTRIES] + [(*e, "heldout") for e in HELDOUT]
    for n, (qid, fault, parts, opts, split) in enumerate(entries, 1):
        assert fault in FAULTS, fault
        q = questions[qid]
        statements = []
        response = ""
        for part in parts:
            code, text = part.split("|", 1)
            if response and response[-1] in ".!?" and text[:1].isascii() and text[:1].isalnum():
                text = " " + text  # English sentences are separated by a space
            response += text
            if code == "F":
                continue
            st: dict[str, Any] = {"text": text, "supported": code in ("S", "R+")}
            if code.startswith("R"):
                st["refusal"] = True
            statements.append(st)
        zh = _is_zh(response)
        if not opts.get("since") and (zh == (q["lang"] == "zh")) == (fault == "wrong_language"):
            raise ValueError(f"entry {n} ({qid}, {fault}): the answer's language is wrong")
        rows.append(
            {
                "id": f"f{n:03d}",
                "qid": qid,
                "question": q["question"],
                "lang": q["lang"],
                "answerable": q["answerable"],
                "key_facts": q["key_facts"],
                "fault": fault,
                "response": response,
                "statements": statements,
                "since": opts.get("since"),
                "note": opts.get("note", ""),
                "set": split,
            }
        )
    return rows


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description="write llm_faults.jsonl")
    p.add_argument("--heldout", type=Path, default=None, help="held-out questions (JSONL)")
    rows = build(p.parse_args().heldout)
    out = HERE / "llm_faults.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    from collections import Counter

    print(f"wrote {len(rows)} answers to {out}: {dict(Counter(r['fault'] for r in rows))}")


if __name__ == "__main__":
    main()
