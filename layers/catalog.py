"""The layer kinds geoplan knows: names, usual table names and fields.

Each :class:`LayerKind` says what a planning layer is (Chinese and English
names, geometry family), the table names it usually has in delivered
国土空间规划 and 国土调查 databases, and the standard attribute fields it
needs, each with the aliases real deliveries use. A project file needs an
explicit ``layer`` only where a source holds several layers and none has a
usual name, and a field map only for field names not listed here.

The table names are the ones seen in delivered databases (STBHHX, YJJBNT,
CZKFBJ, ZRBHD; XZQ and YJJBNTTB of the 国土调查 database). They have not
been checked against the text of the 《市级国土空间总体规划数据库规范（试行）》
(2021), and geoplan does not check 要素代码 (YSDM) values: they differ between
specifications and provinces, so YSDM is read as an ordinary ``code`` field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from geoplan.layers.errors import ProjectError


@dataclass(frozen=True)
class FieldSpec:
    """A standard attribute of a layer kind.

    Attributes
    ----------
    name : str
        The field's name in geoplan's loaded layers.
    dtype : {"str", "float", "bool"}
        Type the values are converted to.
    aliases : tuple of str
        Source field names recognised without a field map (matched without
        regard to case).
    title : str
        Chinese name.
    required : bool
        The kind cannot be used without it.
    allowed : tuple of str, optional
        The values it may take.
    """

    name: str
    dtype: str
    aliases: tuple[str, ...]
    title: str
    required: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LayerKind:
    """One kind of planning layer.

    Attributes
    ----------
    name : str
        Fixed kind name used in project files and outputs.
    title : str
        Chinese name.
    title_en : str
        English name.
    family : {"polygon", "line"}
        Geometry family.
    layer_names : tuple of str
        Table names the kind usually has in delivered databases, used to
        pick the layer of a multi-layer source when the project names none
        (matched without regard to case).
    fields : tuple of FieldSpec
        Standard attributes beyond the common ones.
    """

    name: str
    title: str
    title_en: str
    family: str
    layer_names: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        """The common fields followed by the kind's own."""
        own = {f.name for f in self.fields}
        return tuple(f for f in COMMON_FIELDS if f.name not in own) + self.fields


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "id",
        "str",
        ("BSM", "标识码", "ID", "编号", "TBBH", "图斑编号", "红线编号", "OBJECTID_1", "FID_1"),
        "标识码",
    ),
    FieldSpec(
        "name",
        "str",
        ("MC", "NAME", "名称", "XZMC", "HXMC", "红线名称", "YQMC", "BHDMC", "HLMC", "河流名称"),
        "名称",
    ),
    FieldSpec("code", "str", ("YSDM", "DM", "CODE", "要素代码"), "要素代码"),
    FieldSpec("area", "float", ("MJ", "TBMJ", "图斑面积", "面积", "SHAPE_AREA", "AREA"), "面积"),
)

FUNCTION_TYPES = ("城镇化地区", "农产品主产区", "重点生态功能区")
PROTECTED_CATEGORIES = ("自然保护区", "自然公园", "国家公园")
#: 功能分区 of a protected area: the 核心保护区 and 一般控制区 of the 2026
#: 《自然保护区条例》 (国务院令第830号), then the 核心区, 缓冲区 and 实验区 of the 2017
#: 条例 that reserves not yet re-zoned still carry (read as zone unknown).
ZONES = ("核心保护区", "一般控制区", "核心区", "缓冲区", "实验区")

_COUNTY = FieldSpec(
    "county",
    "str",
    ("XZQMC", "XMC", "县区", "所属县区", "SSXZQMC", "所属县", "县名称", "县级行政区名称"),
    "所属县区",
)
_LAND_CLASS = FieldSpec("land_class", "str", ("DLBM", "地类编码"), "地类编码")
#: 三调 地类图斑 fields: name, area and the 田坎 deduction (``layers.deductions``).
_LAND_CLASS_NAME = FieldSpec("land_class_name", "str", ("DLMC", "地类名称"), "地类名称")
_SURVEY_AREA = FieldSpec("survey_area", "float", ("TBMJ", "图斑面积"), "图斑面积（平方米）")
_DEDUCTIONS = (
    FieldSpec(
        "deduction_coefficient",
        "float",
        ("KCXS", "扣除系数", "扣除地类系数"),
        "扣除系数（0–1）",
    ),
    FieldSpec("deduction_area", "float", ("KCMJ", "扣除地类面积"), "扣除地类面积（平方米）"),
    FieldSpec("net_land_area", "float", ("TBDLMJ", "图斑地类面积"), "图斑地类面积（平方米）"),
)

KINDS: dict[str, LayerKind] = {
    kind.name: kind
    for kind in (
        LayerKind("zone_urban", "城镇空间", "urban space", "polygon"),
        LayerKind("zone_agricultural", "农业空间", "agricultural space", "polygon"),
        LayerKind("zone_ecological", "生态空间", "ecological space", "polygon"),
        LayerKind(
            "ecological_redline",
            "生态保护红线",
            "ecological conservation redline",
            "polygon",
            layer_names=("STBHHX",),
        ),
        LayerKind(
            "permanent_farmland",
            "永久基本农田",
            "permanent basic farmland",
            "polygon",
            layer_names=("YJJBNT", "YJJBNTTB", "YJJBNTBHTB"),
            fields=(_LAND_CLASS, _LAND_CLASS_NAME, *_DEDUCTIONS),
        ),
        LayerKind(
            "cultivated_land",
            "耕地",
            "cultivated land",
            "polygon",
            fields=(_LAND_CLASS, _LAND_CLASS_NAME, *_DEDUCTIONS),
        ),
        LayerKind(
            "land_survey",
            "地类图斑（国土调查）",
            "land-survey patches (三调 地类图斑)",
            "polygon",
            layer_names=("DLTB",),
            fields=(
                replace(_LAND_CLASS, required=True),
                _LAND_CLASS_NAME,
                _SURVEY_AREA,
                *_DEDUCTIONS,
            ),
        ),
        LayerKind(
            "urban_boundary",
            "城镇开发边界",
            "urban development boundary",
            "polygon",
            layer_names=("CZKFBJ",),
        ),
        LayerKind(
            "protected_areas",
            "自然保护地",
            "protected areas",
            "polygon",
            layer_names=("ZRBHD",),
            fields=(
                FieldSpec(
                    "name",
                    "str",
                    ("MC", "BHDMC", "ZRBHDMC", "NAME", "名称", "保护地名称", "自然保护地名称"),
                    "名称",
                    required=True,
                ),
                FieldSpec(
                    "category",
                    "str",
                    ("LX", "BHDLX", "类型", "类别", "保护地类型", "CATEGORY"),
                    "类别",
                    required=True,
                    allowed=PROTECTED_CATEGORIES,
                ),
                FieldSpec("subtype", "str", ("ZLX", "BHDZLX", "子类型", "SUBTYPE"), "子类型"),
                FieldSpec("level", "str", ("JB", "BHDJB", "级别", "保护地级别", "LEVEL"), "级别"),
                FieldSpec(
                    "zone",
                    "str",
                    ("GNFQ", "GKFQ", "功能分区", "ZONING"),
                    "功能分区",
                    allowed=ZONES,
                ),
            ),
        ),
        LayerKind(
            "townships",
            "乡镇（乡镇级主体功能区）",
            "townships by main function type",
            "polygon",
            layer_names=("XZQ",),
            fields=(
                FieldSpec(
                    "name",
                    "str",
                    ("XZMC", "XZQMC_XZ", "乡镇名称", "乡镇", "NAME"),
                    "乡镇名称",
                    required=True,
                ),
                FieldSpec("code", "str", ("XZQDM", "XZDM", "乡镇代码", "行政区代码"), "行政区代码"),
                replace(_COUNTY, required=True),
                FieldSpec(
                    "function_type",
                    "str",
                    (
                        "ZTGNQ",
                        "ZTGNQLX",
                        "主体功能区",
                        "乡镇级主体功能区",
                        "主体功能区类型",
                        "功能类型",
                    ),
                    "乡镇级主体功能区",
                    required=True,
                    allowed=FUNCTION_TYPES,
                ),
                FieldSpec("energy_rich", "bool", ("NYZYFJ", "能源资源富集区"), "能源资源富集区"),
                FieldSpec(
                    "heritage_rich", "bool", ("LSWHFJ", "历史文化资源富集区"), "历史文化资源富集区"
                ),
            ),
        ),
        LayerKind(
            "counties",
            "县级行政区",
            "counties",
            "polygon",
            fields=(
                FieldSpec(
                    "name",
                    "str",
                    ("XZQMC", "NAME", "名称", "行政区名称", "县级行政区名称", "县名称"),
                    "行政区名称",
                    required=True,
                ),
                FieldSpec(
                    "code",
                    "str",
                    ("XZQDM", "CODE", "代码", "行政区代码", "行政区划代码"),
                    "行政区代码",
                ),
            ),
        ),
        LayerKind(
            "parks",
            "产业园区",
            "industrial and development parks",
            "polygon",
            fields=(
                FieldSpec(
                    "name",
                    "str",
                    ("MC", "YQMC", "KFQMC", "NAME", "名称", "园区名称", "开发区名称"),
                    "园区名称",
                    required=True,
                ),
                FieldSpec("kind", "str", ("LX", "YQLX", "类型", "园区类型", "KIND"), "园区类型"),
                FieldSpec("chemical", "bool", ("SFHG", "是否化工园区", "CHEMICAL"), "是否化工园区"),
                _COUNTY,
                FieldSpec("level", "str", ("JB", "级别", "LEVEL"), "级别"),
            ),
        ),
        LayerKind("rivers", "河流", "rivers", "line"),
        LayerKind(
            "water_source_protection",
            "饮用水水源保护区",
            "drinking-water source protection",
            "polygon",
            fields=(
                FieldSpec(
                    "grade",
                    "str",
                    ("JB", "BHQJB", "级别", "保护区级别", "GRADE"),
                    "保护区级别",
                    allowed=("一级保护区", "二级保护区", "准保护区"),
                ),
            ),
        ),
        LayerKind(
            "tailings",
            "尾矿库",
            "tailings ponds",
            "polygon",
            fields=(
                FieldSpec(
                    "name", "str", ("MC", "WKKMC", "NAME", "名称", "尾矿库名称"), "尾矿库名称"
                ),
            ),
        ),
        LayerKind(
            "construction",
            "规划建设项目",
            "planned construction (any construction layer a project names)",
            "polygon",
            fields=(
                FieldSpec("name", "str", ("XMMC", "项目名称", "MC", "NAME", "名称"), "项目名称"),
                FieldSpec("kind", "str", ("XMLX", "项目类型", "LX", "KIND"), "项目类型"),
            ),
        ),
    )
}


def get_kind(name: str, *, at: str = "") -> LayerKind:
    """Look up a layer kind by name; ``at`` says where the name was read, for the message.

    Raises
    ------
    ProjectError
        No such kind.
    """
    try:
        return KINDS[name]
    except KeyError:
        prefix = f"{at}: " if at else ""
        raise ProjectError(
            f"{prefix}unknown layer kind {name!r}; known kinds: {', '.join(KINDS)}"
        ) from None


def describe_kind(kind: LayerKind) -> dict:
    """A layer kind as plain data (for ``geoplan kinds`` and pipelines).

    Returns
    -------
    dict
        ``kind``, ``title``, ``title_en``, ``family``, ``layer_names`` and
        ``fields``: one dict per field with ``name``, ``title``, ``type``,
        ``required``, ``aliases`` and ``allowed`` (``None`` when free).
    """
    return {
        "kind": kind.name,
        "title": kind.title,
        "title_en": kind.title_en,
        "family": kind.family,
        "layer_names": list(kind.layer_names),
        "fields": [
            {
                "name": f.name,
                "title": f.title,
                "type": f.dtype,
                "required": f.required,
                "aliases": list(f.aliases),
                "allowed": None if f.allowed is None else list(f.allowed),
            }
            for f in kind.all_fields
        ],
    }
