"""The encoding of a text file (CSV, TSV, JSONL, JSON, an ids file): its byte-order mark, or a likely guess.

Files are UTF-8 unless they start with a byte-order mark (BOM): UTF-8-SIG, UTF-16 LE/BE and UTF-32 LE/BE are
read as such (the BOM is not part of the first header name). A file without a BOM whose bytes are a quarter or
more zeros is not UTF-8 text: it is named as the UTF-16 or UTF-32 it most likely is, with the ``iconv`` line
that converts it.
"""

from __future__ import annotations

from ..errors import InputError

# longest first: the UTF-32 LE mark starts with the UTF-16 LE one
BOMS: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32 BE"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16 LE"),
    (b"\xfe\xff", "utf-16-be", "UTF-16 BE"),
)
#: Bytes looked at to guess the encoding of a file without a BOM.
SNIFF_BYTES = 4096


def sniff_bom(head: bytes) -> tuple[str, int, str]:
    """The codec a file's first bytes announce: ``(python codec, BOM length, name)``; UTF-8 without a BOM
    is ``("utf-8", 0, "UTF-8")``."""
    for bom, codec, label in BOMS:
        if head.startswith(bom):
            return codec, len(bom), label
    return "utf-8", 0, "UTF-8"


def guess_wide(head: bytes) -> tuple[str, str] | None:
    """For a file without a BOM: ``(iconv name, label)`` of the UTF-16/UTF-32 its zero bytes suggest, else
    ``None``. ASCII text in UTF-16 has a zero in every other byte, in UTF-32 three zeros in every four."""
    sample = head[:SNIFF_BYTES]
    n = len(sample) - len(sample) % 4
    if n < 4 or sample[:n].count(0) < n // 4:
        return None
    at = [sum(1 for i in range(r, n, 4) if sample[i] == 0) for r in range(4)]
    quarter = n // 4
    if at[1] + at[2] + at[3] >= 2.4 * quarter and at[0] < quarter / 2:
        return "UTF-32LE", "UTF-32 LE"
    if at[0] + at[1] + at[2] >= 2.4 * quarter and at[3] < quarter / 2:
        return "UTF-32BE", "UTF-32 BE"
    odd, even = at[1] + at[3], at[0] + at[2]
    if odd >= 0.8 * 2 * quarter and even < odd / 4:
        return "UTF-16LE", "UTF-16 LE"
    if even >= 0.8 * 2 * quarter and odd < even / 4:
        return "UTF-16BE", "UTF-16 BE"
    return "UTF-16", "UTF-16"


def refuse_wide(head: bytes, name: str) -> None:
    """Raise an :class:`InputError` naming the likely encoding if a file without a BOM looks like UTF-16/32."""
    if sniff_bom(head)[1]:
        return
    guess = guess_wide(head)
    if guess is not None:
        iconv, label = guess
        raise InputError(f"not UTF-8: many zero bytes, so probably {label} without a byte-order mark; re-save "
                         f"the file as UTF-8 (iconv -f {iconv} -t UTF-8 IN > OUT)", file=name)


def decode_bytes(raw: bytes, name: str) -> str:
    """A whole file's text: decoded by its BOM (which is dropped), else as UTF-8.

    Raises
    ------
    InputError
        A file that looks like UTF-16/32 without a BOM (the likely encoding named), or bytes that are not
        valid in the BOM's encoding.
    UnicodeDecodeError
        Not UTF-8 (no BOM): the caller locates the row and column.
    """
    codec, skip, label = sniff_bom(raw[:4])
    if codec == "utf-8":
        refuse_wide(raw[:SNIFF_BYTES], name)
        return raw.decode("utf-8-sig")
    try:
        return raw[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(f"the file starts with a {label} byte-order mark but byte {exc.start + skip} is not "
                         f"valid {label}; re-save the file as UTF-8", file=name) from None
