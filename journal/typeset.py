"""Typeset the export's PDF with Typst, in a process of its own.

`python -m journal.typeset` reads one request from its standard input: a JSON
header line ({"timestamp"}) and then the document's data, the JSON value the
template reads from `sys.inputs` (journal/export/pdf/data.py). It writes a JSON
header line ({"warnings", "peak_mb"}, or {"error"} with exit status 3 when Typst
refuses the document) and then the PDF to its standard output. The document
travels through pipes only, never through a file.

Why a process per PDF: Typst keeps every result it memoised for the life of the
process, and its Python bindings offer no way to let go of them, so a web
worker that typeset in its own memory would grow by some 300 MB with each long
export. A process that exits gives it all back.

This module imports Typst and nothing of the app, so the process starts in a
tenth of a second.

Typst's root is the template's folder: a Typst file may read nothing outside it,
and the template reads nothing at all (its data comes from `sys.inputs`). Its
fonts are the folders below, never the host's others: the template names its
families (Latin, Greek and Cyrillic, Arabic, Hebrew, CJK, emoji), and a
character none of them has falls back to another Noto font of these folders
(Devanagari, Thai, ...). Code is set in DejaVu Sans Mono, which comes inside
the typst package. The fonts come from Debian packages rather than files in the
repository: the CJK fonts alone are 40 MB, and Debian keeps them (and their
licences) up to date.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import sys
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "export" / "pdf" / "template"
TEMPLATE = TEMPLATE_DIR / "summary.typ"
FONT_FOLDERS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
# The files of the families the template names, and the Debian package of each.
FONT_FILES = {
    "truetype/noto/NotoSans-Regular.ttf": "fonts-noto-core",
    "truetype/noto/NotoSans-Bold.ttf": "fonts-noto-core",
    "truetype/noto/NotoSans-Italic.ttf": "fonts-noto-core",
    "truetype/noto/NotoSansArabic-Regular.ttf": "fonts-noto-core",
    "truetype/noto/NotoSansHebrew-Regular.ttf": "fonts-noto-core",
    "opentype/noto/NotoSansCJK-Regular.ttc": "fonts-noto-cjk",
    "opentype/noto/NotoSansCJK-Bold.ttc": "fonts-noto-cjk",
    "truetype/noto/NotoColorEmoji.ttf": "fonts-noto-color-emoji",
}
FONT_ROOT = Path("/usr/share/fonts")
FAMILIES = (
    "Noto Sans",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans CJK SC",
    "Noto Color Emoji",
    "DejaVu Sans Mono",
)
PACKAGES = tuple(dict.fromkeys(FONT_FILES.values()))
INSTALL_HINT = "PDF export needs its fonts (Debian and Ubuntu: apt-get install " + (
    " ".join(PACKAGES) + ")"
)
TYPST_FAILED = 3  # the exit status when Typst refuses the document
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def missing_fonts() -> tuple[str, ...]:
    """The font files the template needs that are not there, each with its package."""
    return tuple(
        f"{FONT_ROOT / name} ({package})"
        for name, package in FONT_FILES.items()
        if not (FONT_ROOT / name).is_file()
    )


def compile_pdf(data: str, timestamp: int | None) -> tuple[bytes, list[str]]:
    """The PDF and Typst's warnings. Raises typst.TypstError when Typst refuses."""
    import typst

    fonts = typst.Fonts(
        include_system_fonts=False,
        include_embedded_fonts=True,
        font_paths=[str(f) for f in FONT_FOLDERS if f.is_dir()],
    )
    found = set(fonts.families())
    absent = [f for f in FAMILIES if f not in found]
    if absent:
        raise LookupError(f"fonts not found: {', '.join(absent)}; {INSTALL_HINT}")
    pdf, warnings = typst.compile_with_warnings(
        str(TEMPLATE),
        root=str(TEMPLATE_DIR),
        font_paths=fonts,
        ignore_system_fonts=True,
        sys_inputs={"data": data},
        timestamp=timestamp,
    )
    return pdf, [w.message for w in warnings]


def _peak_mb() -> float | None:
    """This process's peak memory since it started this program (VmHWM: unlike getrusage,
    it does not count the parent's memory the process had before exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _fixed_mmap_threshold() -> None:
    """Keep glibc's threshold for giving large blocks their own mapping at its default
    (128 KiB) instead of letting it rise as large blocks are freed: then the large blocks
    Typst frees go back to the system at once rather than stay in the heap. It lowers the
    process's peak by some 9 MB for the 1,000-entry course, at no cost in time measured.
    (On another C library this does nothing.)"""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 128 * 1024)


def main() -> int:
    _fixed_mmap_threshold()
    import typst

    header = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read().decode("utf-8")
    out = sys.stdout.buffer
    try:
        pdf, warnings = compile_pdf(data, header.get("timestamp"))
    except typst.TypstError as exc:
        # Typst's message names the template's line; the data is never quoted in it.
        out.write(json.dumps({"error": exc.message}).encode("utf-8") + b"\n")
        out.flush()
        return TYPST_FAILED
    except LookupError as exc:
        out.write(json.dumps({"error": str(exc)}).encode("utf-8") + b"\n")
        out.flush()
        return TYPST_FAILED
    figures = {"warnings": warnings, "peak_mb": _peak_mb()}
    out.write(json.dumps(figures).encode("utf-8") + b"\n" + pdf)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
