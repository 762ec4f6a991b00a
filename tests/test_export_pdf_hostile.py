"""Hostile content in the PDF: Typst's markup and code, written by people, stay text.

Names, titles, intentions, comments, quotes, notes and entries full of Typst's
special characters and code (`#import`, `#read("/etc/passwd")`, `#eval`, `$`,
`@`, `<label>`, backslashes, unbalanced brackets, 10,000 nested list markers)
export to a PDF that shows them as written (read back with pdftotext), and the
typesetting process, watched with strace, opens no file outside what it is
allowed (the template's folder, the fonts, Python and the typst package) and
none for writing.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from journal import typeset
from journal.export import render_pdf
from journal.export.model import CommentRecord, NoteRecord, NotesDisclosure, Person
from journal.export.pdf import data
from journal.export.pdf.nodes import MAX_DEPTH, markdown_nodes
from journal.models import Role, Visibility
from tests.test_export_pdf import pdftotext
from tests.test_export_snapshots import CLINICIAN, at, document, uid

MARKERS = "- " * 10_000


def hostile(decoy: Path) -> list[str]:
    return [
        '#import "@preview/cetz:0.2.2": *',
        '#read("/etc/passwd")',
        f'#read("{decoy}") #read("../../../{decoy.name}")',
        '#eval("1 + 1") #include "summary.typ" #image("/etc/passwd")',
        '#plugin("x.wasm") #json("/etc/hostname") #let x = 1 #set page(paper: "a0")',
        '#{ panic("boom") } #(1 / 0) #sys.inputs',
        "$x^2$ and $ an unbalanced dollar",
        "@ref-to-nothing and <label> and <another-label>",
        "back\\slash \\u{1F600} \\ \\\\ \\#",
        "[unbalanced [brackets ] ]] {{ } ( )) ] [",
        "* stars * _under_ = heading == more / term: x + enum ~ -- --- ... 'q' \"q\"",
        "// a comment /* a block",
        '`raw` ```typ #read("x")```',
    ]


def flat(text: str) -> str:
    return "".join(text.split())


def test_markdown_nesting_is_capped_and_its_text_kept() -> None:
    nodes = markdown_nodes(MARKERS + "deepest")
    depth, node = 0, nodes[0]
    while isinstance(node, dict) and node.get("c"):
        depth += 1
        node = node["c"][-1]
    assert depth <= MAX_DEPTH + 1
    assert isinstance(node, str) and node.endswith("- - deepest")


def test_hostile_content_is_shown_as_text_and_nothing_outside_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("strace") is None:
        pytest.fail("strace not found: apt-get install -y strace (.ci/system installs it)")
    decoy = tmp_path / "decoy.typ"
    decoy.write_text("SECRET-DECOY-MARKER-7731")
    strings = hostile(decoy)
    line = " | ".join(strings)
    name = Person(uid(1), 'Mira #read("/etc/passwd") $Quell$ <x> (fictional)', Role.PATIENT)
    doc = document(with_notes=True)
    session = doc.sessions[0]
    first = session.entries[0]
    comment = CommentRecord(
        uid(901),
        CLINICIAN,
        Visibility.CARE_TEAM,
        line,  # a quoted passage is plain text
        "\n\n".join(f"```\n{s}\n```" for s in strings),  # as code: shown as written
        at(3, 12),
    )
    entry = replace(
        first,
        author=name,
        title=line + " " + MARKERS + "deepest",
        body=MARKERS + "deepest\n\n" + "\n\n".join(f"    {s}" for s in strings),
        intentions=tuple(strings),
        comments=(comment,),
    )
    note = NoteRecord(uid(902), line, "```\n" + "\n".join(strings) + "\n```", at(4), at(4))
    doc = replace(
        doc,
        patient=name,
        clinic_name=strings[1],
        course=replace(doc.course, indication=strings[6]),
        scope=replace(doc.scope, psychotherapy_notes=NotesDisclosure(CLINICIAN, strings[9])),
        sessions=(
            replace(session, entries=(entry, *session.entries[1:]), psychotherapy_notes=(note,)),
            *doc.sessions[1:],
        ),
    )
    trace = tmp_path / "trace"
    monkeypatch.setattr(
        render_pdf,
        "COMMAND",
        ["strace", "-f", "-qq", "-e", "trace=%file", "-o", str(trace), *render_pdf.COMMAND],
    )
    pdf, warnings = render_pdf.typeset(data.course_summary(doc, "a4"))
    # -raw: in the order drawn, and without joining a "-" at a line's end to the next line;
    # the pages' heads and feet are taken out, as a long title runs across pages.
    text = flat(pdftotext(pdf, "-raw"))
    text = re.sub(r"Confidential:mental-healthrecordPage\d+of\d+", "", text)
    text = text.replace(
        flat(f"{name.name} · course started 01 Mar 2031 Treatment-course summary"), ""
    )
    for s in [*strings, line, name.name, MARKERS + "deepest"]:
        assert flat(s) in text, s[:80]
    assert "deepest" in text
    assert "SECRET-DECOY-MARKER" not in text and "root:x:0" not in text
    assert warnings == []

    # Every file call of the process and what it returned; failed probes (Python looking
    # for its modules, -1 ENOENT) read nothing.
    calls = re.findall(
        r'^\d+\s+\w+\((?:AT_FDCWD, |\d+, )?"([^"]*)"(.*)\) = (-?\d+)', trace.read_text(), re.M
    )
    assert calls, "strace saw no file calls"
    project = Path(typeset.__file__).parent
    allowed = (
        str(typeset.TEMPLATE_DIR),
        *(str(f) for f in typeset.FONT_FOLDERS),
        str(project / "__init__.py"),
        str(project / "typeset.py"),
        # Their compiled bytecode, where Python was left to write it (no -B earlier).
        str(project / "__pycache__" / "__init__."),
        str(project / "__pycache__" / "typeset."),
        sys.prefix,
        sys.base_prefix,
        str(Path(sys.executable).resolve().parent.parent),
        "/usr/lib/",
        "/lib/",
        "/etc/ld.so.cache",
        "/etc/localtime",
        "/usr/share/locale/",
        "/proc/",
        "/sys/",
        "/dev/",
    )
    read = {path for path, _, result in calls if not result.startswith("-")}
    outside = sorted(
        p
        for p in read
        # The project's folder and those above it are looked at on the way to its module.
        if p.startswith("/")
        and not p.startswith(allowed)
        and Path(p) not in (project, *project.parents)
    )
    assert outside == [], outside
    for path, flags, _ in calls:
        assert str(decoy) not in path and "passwd" not in path and "hostname" not in path
        if any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT")):
            assert path.startswith("/dev/"), f"opened for writing: {path}"
