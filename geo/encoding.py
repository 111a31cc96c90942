"""Text encoding of Shapefile attribute tables (``.dbf``).

Bureau deliveries are often GBK with no ``.cpg``; GDAL then assumes
ISO-8859-1 and hands back mojibake (巴州区 reads as ``°ÍÖÝÇø``). The
encoding is therefore decided from the bytes: the ``.cpg`` if there is one,
else UTF-8 if every text value decodes as UTF-8, else GB18030 (a superset of
GBK and GB2312) if every value decodes as that. Big5 and Shift-JIS bytes
decode as GB18030 too, into rare and private-use characters; text read with
a GB codec is therefore checked for plausibility and warned about
(:func:`garbled_text_warnings`).
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import struct
import zipfile
from pathlib import Path

from geoplan.geo.errors import EncodingError, LayerReadError
from geoplan.geo.shapefile import sidecar, zip_members, zip_sidecar

# Enough records to see non-ASCII text in any real attribute table.
_SAMPLE_BYTES = 8 * 1024 * 1024

_CODEPAGE_ALIASES = {
    "65001": "utf-8",
    "UTF8": "utf-8",
    "ANSI 936": "gbk",
    "936": "gbk",
    "CP936": "gbk",
    "GB2312": "gbk",
    "54936": "gb18030",
    "88591": "latin-1",
    "ANSI 1252": "cp1252",
    "1252": "cp1252",
}


def codec_from_cpg(text: str) -> str | None:
    """Python codec name for the content of a ``.cpg`` file, or None if unknown."""
    value = text.strip().strip("\x00").upper()
    if not value:
        return None
    name = _CODEPAGE_ALIASES.get(value, value)
    if name.isdigit():
        name = f"cp{name}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _dbf_text_values(data: bytes) -> list[bytes]:
    """Raw non-ASCII bytes of a DBF's field names and of its first records' text."""
    if len(data) < 32:
        return []
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields = []  # (offset in record, length)
    values = []
    offset = 1  # deletion flag
    pos = 32
    while pos + 32 <= header_len and data[pos] != 0x0D:
        name = data[pos : pos + 11].split(b"\x00", 1)[0]
        if not name.isascii():
            values.append(name)
        ftype = chr(data[pos + 11])
        flen = data[pos + 16]
        if ftype in "CM":
            fields.append((offset, flen))
        offset += flen
        pos += 32
    for i in range(n_records):
        start = header_len + i * record_len
        if start + record_len > len(data):
            break
        record = data[start : start + record_len]
        for foff, flen in fields:
            value = record[foff : foff + flen].rstrip(b" \x00")
            if value and not value.isascii():
                values.append(value)
    return values


def detect_dbf_encoding(dbf: bytes, cpg: str | None, *, source: str) -> tuple[str, str]:
    """Decide the text encoding of a DBF from its ``.cpg`` and its bytes.

    Parameters
    ----------
    dbf : bytes
        The start of the ``.dbf`` file.
    cpg : str or None
        Content of the ``.cpg`` file, if there is one.
    source : str
        The file's name, for messages.

    Returns
    -------
    codec : str
        Python codec name (``"utf-8"``, ``"gb18030"`` …).
    how : str
        How it was decided: ``"cpg"``, ``"ascii"``, ``"utf-8 bytes"`` or
        ``"gb18030 bytes"``.

    Raises
    ------
    EncodingError
        The text decodes as neither UTF-8 nor GB18030 and there is no usable
        ``.cpg``.
    """
    if cpg is not None:
        codec = codec_from_cpg(cpg)
        if codec is not None:
            return codec, "cpg"
    values = _dbf_text_values(dbf)
    if not values:
        return "utf-8", "ascii"
    for codec in ("utf-8", "gb18030"):
        try:
            for value in values:
                value.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec, f"{codec} bytes"
    bad = values[0][:24]
    raise EncodingError(
        f"{source}: text is neither UTF-8 nor GBK/GB18030 (first non-ASCII value "
        f"{bad!r}) and there is no .cpg; give the layer's encoding in the project file"
    )


def shapefile_encoding(path: Path, layer: str | None = None) -> tuple[str, str]:
    """Detect the encoding of a Shapefile, plain or inside a ``.zip``.

    Parameters
    ----------
    path : pathlib.Path
        ``.shp``, ``.dbf`` or ``.zip`` file.
    layer : str, optional
        In a zip holding several shapefiles, the one to look at (its stem).

    Returns
    -------
    codec, how : str
        See :func:`detect_dbf_encoding`.
    """
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            dbfs = zip_members(archive, ".dbf", layer)
            if not dbfs:
                return "utf-8", "ascii"
            dbf_name = dbfs[0]
            cpg_name = zip_sidecar(archive, dbf_name, ".cpg")
            with archive.open(dbf_name) as fh:
                dbf = fh.read(_SAMPLE_BYTES)
            cpg = archive.read(cpg_name).decode("ascii", "replace") if cpg_name else None
        return detect_dbf_encoding(dbf, cpg, source=f"{path}!{dbf_name}")
    dbf_path = sidecar(path, ".dbf")
    if dbf_path is None:
        raise LayerReadError(f"{path}: the shapefile has no .dbf attribute table beside it")
    cpg_path = sidecar(path, ".cpg")
    with open(dbf_path, "rb") as fh:
        dbf = fh.read(_SAMPLE_BYTES)
    cpg = cpg_path.read_text("ascii", "replace") if cpg_path else None
    return detect_dbf_encoding(dbf, cpg, source=str(dbf_path))


#: Codecs of the GB family, which decode Big5 and Shift-JIS bytes without error.
_GB_CODECS = frozenset({"gb18030", "gbk", "gb2312"})
#: A text field read with a GB codec is taken to be garbled when at least this
#: share of its non-ASCII characters is implausible …
GARBLED_SHARE = 0.25
#: … and at least this many are (so that one rare character in a name is not).
GARBLED_MIN_CHARS = 3
# Blocks GB2312 holds but that Chinese planning text does not use, where Big5
# lead bytes A4–A9 land when read as GBK: kana, Greek, Cyrillic, bopomofo,
# box drawing.
_IMPLAUSIBLE_BLOCKS = (
    (0x0370, 0x04FF),
    (0x2500, 0x257F),
    (0x3040, 0x30FF),
    (0x3100, 0x312F),
)
# Punctuation and symbols used in Chinese text that GB2312 lacks or maps elsewhere.
_PLAUSIBLE_BLOCKS = (
    (0x00A0, 0x00FF),  # Latin-1: · × °
    (0x2000, 0x206F),  # general punctuation: — • …
    (0x3000, 0x303F),  # CJK punctuation
    (0x3380, 0x33FF),  # squared units: ㎡ ㎞
    (0xFF01, 0xFF60),  # fullwidth forms (not the halfwidth katakana after them)
    (0xFFE0, 0xFFEF),
)
_CANDIDATES = ("big5", "shift_jis")
_SAMPLE_VALUES = 2000


def _in_blocks(code: int, blocks: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in blocks)


@functools.lru_cache(maxsize=65536)
def _plausible_char(char: str) -> bool:
    """Whether a character is likely in simplified-Chinese planning text.

    The common characters of mainland text are those of GB2312; a Big5 or
    Shift-JIS table read as GBK comes out as characters outside it (GBK's
    extension areas, private-use code points) or in its kana and Greek rows.
    """
    code = ord(char)
    if code < 0x80 or _in_blocks(code, _PLAUSIBLE_BLOCKS):
        return True
    if _in_blocks(code, _IMPLAUSIBLE_BLOCKS):
        return False
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _implausible_share(values: list[str]) -> tuple[int, float]:
    chars = [c for value in values for c in value if ord(c) >= 0x80]
    bad = sum(not _plausible_char(c) for c in chars)
    return bad, bad / len(chars) if chars else 0.0


def _looks_cjk(char: str) -> bool:
    code = ord(char)
    return (
        code < 0x80
        or 0x3000 <= code <= 0x30FF
        or 0x4E00 <= code <= 0x9FFF
        or 0xFF01 <= code <= 0xFF5E
    )


def _codecs_that_fit(values: list[str], read_as: str) -> list[str]:
    """The candidate codecs that turn the original bytes of ``values`` back into CJK text.

    Each candidate is scored by the share of values it decodes times the
    share of CJK characters in what it decodes (GDAL's and Python's GB18030
    tables differ on a few code points, so not every value round-trips); the
    candidates scoring at least one half are returned, best first, or all of
    them when none does.
    """
    scores = {}
    for codec in _CANDIDATES:
        decoded = []
        for value in values:
            with contextlib.suppress(UnicodeError):
                decoded.append(value.encode(read_as).decode(codec))
        text = "".join(decoded)
        if text:
            cjk = sum(map(_looks_cjk, text)) / len(text)
            scores[codec] = cjk * len(decoded) / len(values)
    fits = sorted((c for c, score in scores.items() if score >= 0.5), key=scores.get, reverse=True)
    return fits or list(_CANDIDATES)


def garbled_text_warnings(
    columns: dict[str, list[str]], codec: str | None, *, source: str
) -> list[str]:
    """Warnings for text fields whose decoded text looks like mojibake.

    Big5 and Shift-JIS bytes decode as GB18030 without error, so a table in
    either, delivered without a ``.cpg``, reads as a jumble of rare and
    private-use characters. A field is flagged when at least
    :data:`GARBLED_SHARE` of its non-ASCII characters, and at least
    :data:`GARBLED_MIN_CHARS` of them, are outside the common characters of
    simplified Chinese (GB2312 without its kana, Greek, Cyrillic, bopomofo and
    box-drawing rows; common punctuation and fullwidth forms are fine).

    Parameters
    ----------
    columns : dict of str to list of str
        Text values by field name (an entry for the field names themselves
        may be included under any label).
    codec : str or None
        Codec the text was decoded with; only the GB family is checked.
    source : str
        The file (and layer), for messages.

    Returns
    -------
    list of str
        One warning per garbled field, naming the file and field and the
        ``encoding =`` to try.
    """
    if codec is None or codecs.lookup(codec).name not in _GB_CODECS:
        return []
    warnings = []
    for name, values in columns.items():
        sample = list(dict.fromkeys(v for v in values if not v.isascii()))[:_SAMPLE_VALUES]
        bad, share = _implausible_share(sample)
        if bad < GARBLED_MIN_CHARS or share < GARBLED_SHARE:
            continue
        fits = " or ".join(f'encoding = "{c}"' for c in _codecs_that_fit(sample, codec))
        warnings.append(
            f"{source}: field {name!r} read as {codec} looks garbled ({share:.0%} of its "
            f"non-ASCII characters are not common simplified Chinese, e.g. {sample[0][:20]!r}); "
            f"if the file is not GBK, give {fits} for this layer in the project file"
        )
    return warnings
