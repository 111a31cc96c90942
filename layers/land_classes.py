"""Land-class names: the 地类编码 of GB/T 21010-2017 and the 三调 working classification.

:data:`LAND_CLASS_NAMES` holds the second-level classes of 《土地利用现状分类》
(GB/T 21010-2017, 表1; 0101 水田 … 1207 裸岩石砾地) and the codes the
《第三次全国国土调查技术规程》 (TD/T 1055-2019) 附录A 表A.2 adds in its working
classification: the merged classes 05H1 商业服务业设施用地, 0508 物流仓储用地,
08H1 机关团体新闻出版用地 and 08H2 科教文卫用地, and the ``K`` codes of 园地,
林地 and 人工牧草地 turned from 耕地 whose plough layer is intact (可调整…),
1104A 养殖坑塘, 1104K 可调整养殖坑塘, 1107A 干渠 and 0810A 广场用地.

Sources read (2026-12): the 2017 table as reproduced at
http://montevarchicalcio.com/xunyiweb/news/2019-7-24/388.html and
http://m.35331.cn/mlhdl_7os0p12dcy6o2vt5lzj67d82u9zjet00ij4.html, and the
structure of TD/T 1055-2019 附录A (表A.1 = GB/T 21010-2017, 表A.2 = 工作分类)
at http://m.r1worldwide.com/p-7735570.html. The 工作分类 codes were checked
against that outline, not against the text of 表A.2 itself; provincial
extensions (three-letter suffixes and the like) are not listed and keep the
name the delivery gives them (:func:`land_class_name`).

Examples
--------
>>> land_class_name("0103")
'旱地'
>>> land_class_name("1203")
'田坎'
>>> land_class_name("0103X", "旱地（省级细分）")
'旱地（省级细分）'
"""

from __future__ import annotations

#: 地类编码 → 地类名称 (GB/T 21010-2017 second-level classes, then the 三调 工作分类 codes).
LAND_CLASS_NAMES: dict[str, str] = {
    "0101": "水田",
    "0102": "水浇地",
    "0103": "旱地",
    "0201": "果园",
    "0202": "茶园",
    "0203": "橡胶园",
    "0204": "其他园地",
    "0301": "乔木林地",
    "0302": "竹林地",
    "0303": "红树林地",
    "0304": "森林沼泽",
    "0305": "灌木林地",
    "0306": "灌丛沼泽",
    "0307": "其他林地",
    "0401": "天然牧草地",
    "0402": "沼泽草地",
    "0403": "人工牧草地",
    "0404": "其他草地",
    "0501": "零售商业用地",
    "0502": "批发市场用地",
    "0503": "餐饮用地",
    "0504": "旅馆用地",
    "0505": "商务金融用地",
    "0506": "娱乐用地",
    "0507": "其他商服用地",
    "0601": "工业用地",
    "0602": "采矿用地",
    "0603": "盐田",
    "0604": "仓储用地",
    "0701": "城镇住宅用地",
    "0702": "农村宅基地",
    "0801": "机关团体用地",
    "0802": "新闻出版用地",
    "0803": "教育用地",
    "0804": "科研用地",
    "0805": "医疗卫生用地",
    "0806": "社会福利用地",
    "0807": "文化设施用地",
    "0808": "体育用地",
    "0809": "公用设施用地",
    "0810": "公园与绿地",
    "0901": "军事设施用地",
    "0902": "使领馆用地",
    "0903": "监教场所用地",
    "0904": "宗教用地",
    "0905": "殡葬用地",
    "0906": "风景名胜设施用地",
    "1001": "铁路用地",
    "1002": "轨道交通用地",
    "1003": "公路用地",
    "1004": "城镇村道路用地",
    "1005": "交通服务场站用地",
    "1006": "农村道路",
    "1007": "机场用地",
    "1008": "港口码头用地",
    "1009": "管道运输用地",
    "1101": "河流水面",
    "1102": "湖泊水面",
    "1103": "水库水面",
    "1104": "坑塘水面",
    "1105": "沿海滩涂",
    "1106": "内陆滩涂",
    "1107": "沟渠",
    "1108": "沼泽地",
    "1109": "水工建筑用地",
    "1110": "冰川及永久积雪",
    "1201": "空闲地",
    "1202": "设施农用地",
    "1203": "田坎",
    "1204": "盐碱地",
    "1205": "沙地",
    "1206": "裸土地",
    "1207": "裸岩石砾地",
    # 三调 工作分类 (TD/T 1055-2019 附录A 表A.2)
    "05H1": "商业服务业设施用地",
    "0508": "物流仓储用地",
    "08H1": "机关团体新闻出版用地",
    "08H2": "科教文卫用地",
    "0810A": "广场用地",
    "0201K": "可调整果园",
    "0202K": "可调整茶园",
    "0203K": "可调整橡胶园",
    "0204K": "可调整其他园地",
    "0301K": "可调整乔木林地",
    "0302K": "可调整竹林地",
    "0307K": "可调整其他林地",
    "0403K": "可调整人工牧草地",
    "1104A": "养殖坑塘",
    "1104K": "可调整养殖坑塘",
    "1107A": "干渠",
}


def land_class_name(code: str | None, delivered: str | None = None) -> str:
    """The name of a 地类编码: the standard's, else the delivery's 地类名称, else empty.

    Parameters
    ----------
    code : str or None
        The 地类编码 (DLBM) as delivered.
    delivered : str, optional
        The delivery's 地类名称 (DLMC), used for codes the standard lacks.
    """
    if code and code.strip() in LAND_CLASS_NAMES:
        return LAND_CLASS_NAMES[code.strip()]
    return delivered or ""
