"""Entries' Markdown as the PDF's plain nodes: what each construct becomes."""

from __future__ import annotations

from journal.export.pdf.nodes import markdown_nodes


def test_each_construct_becomes_its_node_and_text_stays_text() -> None:
    nodes = markdown_nodes(
        "# Head\n\nA *b* **c** `d <e>` [site](https://example.org) ~~f~~  \nnext\nsame line\n\n"
        "> quoted\n\n3. three\n4. four\n\n- x\n\n  y\n- z\n\n"
        '```\ncode #read("/etc/passwd")\n```\n\n'
        '|a|b|\n|-|-|\n|1|2|\n\n---\n\n<b>raw html</b> &amp; #eval("1") $x$ @ref\n\nمرحبا بالعالم'
    )
    assert nodes[0] == {"k": "h", "l": 1, "c": ["Head"]}
    assert nodes[1] == {
        "k": "p",
        "c": [
            "A ",
            {"k": "em", "c": ["b"]},
            " ",
            {"k": "strong", "c": ["c"]},
            " ",
            {"k": "code", "x": "d <e>"},
            " ",
            {"k": "a", "u": "https://example.org", "c": ["site"]},
            " ",
            {"k": "del", "c": ["f"]},
            {"k": "br"},
            "next same line",
        ],
    }
    assert nodes[2] == {"k": "quote", "c": [{"k": "p", "c": ["quoted"]}]}
    assert nodes[3] == {
        "k": "ol",
        "c": [{"k": "li", "c": ["three"]}, {"k": "li", "c": ["four"]}],
        "s": 3,
    }
    assert nodes[4]["k"] == "ul" and nodes[4]["c"][0]["c"] == [
        {"k": "p", "c": ["x"]},
        {"k": "p", "c": ["y"]},
    ]
    assert nodes[5] == {"k": "pre", "x": 'code #read("/etc/passwd")'}
    assert nodes[6]["k"] == "table" and [c["k"] for c in nodes[6]["c"][0]["c"]] == ["th", "th"]
    assert nodes[7] == {"k": "hr"}
    # Raw HTML is left out (as on the pages); Typst's syntax is only text.
    assert nodes[8] == {"k": "p", "c": ['raw html & #eval("1") $x$ @ref']}
    assert nodes[9] == {"k": "p", "c": ["مرحبا بالعالم"], "d": "rtl"}
    assert markdown_nodes("  \n") == []
