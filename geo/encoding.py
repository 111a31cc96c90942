"""Text encoding of Shapefile attribute tables (``.dbf``).

Bureau deliveries are often GBK with no ``.cpg``; GDAL then assumes
ISO-8859-1 and hands back mojibake (巴州区 reads as ``°ÍÖÝÇø``). The
encoding is therefore decided from the bytes: the ``.cpg`` if there is one,
else UTF-8 if every text value decodes as UTF-8, else GB18030 (a superset of
GBK and GB2312) if every value decodes as that.
"""

from __future__ import annotations

import codecs
import struct
import zipfile
from pathlib import Path, PurePosixPath

from geo.errors import EncodingError, LayerReadError

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
            names = archive.namelist()
            dbfs = [n for n in names if n.lower().endswith(".dbf")]
            if layer is not None:
                dbfs = [n for n in dbfs if PurePosixPath(n).stem == layer] or dbfs
            if not dbfs:
                return "utf-8", "ascii"
            dbf_name = dbfs[0]
            stem = dbf_name[:-4]
            cpg_name = next((n for n in names if n.lower() == f"{stem}.cpg".lower()), None)
            with archive.open(dbf_name) as fh:
                dbf = fh.read(_SAMPLE_BYTES)
            cpg = archive.read(cpg_name).decode("ascii", "replace") if cpg_name else None
        return detect_dbf_encoding(dbf, cpg, source=f"{path}!{dbf_name}")
    dbf_path = _sidecar(path, ".dbf")
    if dbf_path is None:
        raise LayerReadError(f"{path}: the shapefile has no .dbf attribute table beside it")
    cpg_path = _sidecar(path, ".cpg")
    with open(dbf_path, "rb") as fh:
        dbf = fh.read(_SAMPLE_BYTES)
    cpg = cpg_path.read_text("ascii", "replace") if cpg_path else None
    return detect_dbf_encoding(dbf, cpg, source=str(dbf_path))


def _sidecar(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None
