"""The layer kinds geoplan knows: names, national-standard codes and fields.

Each :class:`LayerKind` says what a planning layer is (Chinese and English
names, geometry family), the layer name and 要素代码 (YSDM) it has in the
national 国土空间规划 database conventions where there is one, and the
standard attribute fields it needs, each with the aliases real deliveries
use. A project file needs an explicit field map only for names not listed
here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from geo.errors import ProjectError


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
    standard_layer : str or None
        Layer (table) name in the national database conventions.
    ysdm : str or None
        要素代码 in the national database conventions.
    fields : tuple of FieldSpec
        Standard attributes beyond the common ones.
    """

    name: str
    title: str
    title_en: str
    family: str
    standard_layer: str | None = None
    ysdm: str | None = None
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        """The common fields followed by the kind's own."""
        own = {f.name for f in self.fields}
        return tuple(f for f in COMMON_FIELDS if f.name not in own) + self.fields


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "str", ("BSM", "ID", "OBJECTID_1", "FID_1"), "标识码"),
    FieldSpec(
        "name", "str", ("MC", "NAME", "名称", "XZMC", "HXMC", "YQMC", "BHDMC", "HLMC"), "名称"
    ),
    FieldSpec("code", "str", ("YSDM", "DM", "CODE", "要素代码"), "要素代码"),
    FieldSpec("area", "float", ("MJ", "TBMJ", "面积", "SHAPE_AREA", "AREA"), "面积"),
)

FUNCTION_TYPES = ("城镇化地区", "农产品主产区", "重点生态功能区")
PROTECTED_CATEGORIES = ("自然保护区", "自然公园", "国家公园")
ZONINGS = ("核心保护区", "一般控制区", "核心区", "缓冲区", "实验区")

_COUNTY = FieldSpec("county", "str", ("XZQMC", "XMC", "县区", "所属县区", "SSXZQMC"), "所属县区")
_LAND_CLASS = FieldSpec("land_class", "str", ("DLBM", "地类编码"), "地类编码")

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
            standard_layer="STBHHX",
        ),
        LayerKind(
            "permanent_farmland",
            "永久基本农田",
            "permanent basic farmland",
            "polygon",
            standard_layer="YJJBNT",
            fields=(_LAND_CLASS,),
        ),
        LayerKind(
            "cultivated_land",
            "耕地",
            "cultivated land",
            "polygon",
            standard_layer="DLTB",
            fields=(_LAND_CLASS,),
        ),
        LayerKind(
            "urban_boundary",
            "城镇开发边界",
            "urban development boundary",
            "polygon",
            standard_layer="CZKFBJ",
        ),
        LayerKind(
            "protected_areas",
            "自然保护地",
            "protected areas",
            "polygon",
            standard_layer="ZRBHD",
            fields=(
                FieldSpec(
                    "name", "str", ("MC", "BHDMC", "ZRBHDMC", "NAME", "名称"), "名称", required=True
                ),
                FieldSpec(
                    "category",
                    "str",
                    ("LX", "BHDLX", "类型", "CATEGORY"),
                    "类别",
                    required=True,
                    allowed=PROTECTED_CATEGORIES,
                ),
                FieldSpec("subtype", "str", ("ZLX", "BHDZLX", "子类型", "SUBTYPE"), "子类型"),
                FieldSpec("level", "str", ("JB", "BHDJB", "级别", "LEVEL"), "级别"),
                FieldSpec(
                    "zoning",
                    "str",
                    ("GNFQ", "GKFQ", "功能分区", "ZONING"),
                    "功能分区",
                    allowed=ZONINGS,
                ),
            ),
        ),
        LayerKind(
            "townships",
            "乡镇（乡镇级主体功能区）",
            "townships by main function type",
            "polygon",
            standard_layer="XZQ",
            fields=(
                FieldSpec(
                    "name",
                    "str",
                    ("XZMC", "XZQMC_XZ", "乡镇名称", "NAME"),
                    "乡镇名称",
                    required=True,
                ),
                FieldSpec("code", "str", ("XZQDM", "XZDM", "乡镇代码"), "行政区代码"),
                replace(_COUNTY, required=True),
                FieldSpec(
                    "function_type",
                    "str",
                    ("ZTGNQ", "ZTGNQLX", "主体功能区", "功能类型"),
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
            standard_layer="XZQ",
            fields=(
                FieldSpec("name", "str", ("XZQMC", "NAME", "名称"), "行政区名称", required=True),
                FieldSpec("code", "str", ("XZQDM", "CODE", "代码"), "行政区代码"),
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
                    ("MC", "YQMC", "KFQMC", "NAME", "名称"),
                    "园区名称",
                    required=True,
                ),
                FieldSpec("kind", "str", ("LX", "YQLX", "类型", "KIND"), "园区类型"),
                FieldSpec("chemical", "bool", ("SFHG", "是否化工园区", "CHEMICAL"), "是否化工园区"),
                _COUNTY,
                FieldSpec("level", "str", ("JB", "级别", "LEVEL"), "级别"),
            ),
        ),
        LayerKind("rivers", "河流", "rivers", "line", standard_layer="HL"),
        LayerKind(
            "water_source_protection",
            "饮用水水源保护区",
            "drinking-water source protection",
            "polygon",
            fields=(
                FieldSpec(
                    "grade",
                    "str",
                    ("JB", "BHQJB", "级别", "GRADE"),
                    "保护区级别",
                    allowed=("一级保护区", "二级保护区", "准保护区"),
                ),
            ),
        ),
    )
}


def get_kind(name: str, *, where: str = "") -> LayerKind:
    """Look up a layer kind by name.

    Raises
    ------
    ProjectError
        No such kind.
    """
    try:
        return KINDS[name]
    except KeyError:
        prefix = f"{where}: " if where else ""
        raise ProjectError(
            f"{prefix}unknown layer kind {name!r}; known kinds: {', '.join(KINDS)}"
        ) from None
