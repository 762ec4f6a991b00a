"""Markdown output is inert (checklist 28): raw HTML off, an allow-list after it.

A corpus of script, event-handler, javascript:/data: link, SVG and entity-trick
payloads goes through the renderer directly and through the web as entry bodies,
titles and intentions; the pages that show them must hold nothing executable.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journal.core.rendering import plain_excerpt, plain_text, render_markdown
from tests.conftest import Clinic, entry_form, new_entry_id
from tests.security_helpers import Element, parse_page, url_scheme

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)//",
    '<IMG SRC="javascript:alert(1)">',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<p onclick="alert(1)">click</p>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "[x](javascript&#58;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](jav\tascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    "![tracker](https://evil.example/pixel.png)",
    "<javascript:alert(1)>",
    "<https://example.org/a?b=<script>>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105'
    '&#0000112&#0000116&#0000058alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<object data=x.swf></object>",
    "<embed src=x.swf>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<base href=javascript:alert(1)//>",
    '<meta http-equiv=refresh content="0;url=javascript:alert(1)">',
    "<link rel=stylesheet href=https://evil.example/x.css>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!-- <script>alert(1)</script> -->",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    '[a](https://ok.example "x\\" onmouseover=alert(1) \\"")',
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<textarea><script>alert(1)</script></textarea>",
    "<template><script>alert(1)</script></template>",
    "www.evil.example/javascript:alert(1)",
    "javascript:alert(1)",
]

ALLOWED_TAGS = {
    *("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del"),
    *("code", "pre", "blockquote", "ul", "ol", "li", "a"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
ALLOWED_ATTRS = {"href", "title", "rel", "start", "lang"}
DANGEROUS_TAGS = {
    *("script", "iframe", "object", "embed", "svg", "math", "style", "img", "form"),
    *("base", "meta", "link", "frame", "frameset", "template", "textarea", "input", "button"),
}
SAFE_SCHEMES = {"", "http", "https", "mailto"}
OWN_SCRIPT = re.compile(r'<script src="/static/js/[a-z_]+\.js" defer></script>')
SCRIPT_TAG = re.compile(r"<\s*script", re.IGNORECASE)


def assert_inert(elements: list[Element], where: str) -> None:
    for tag, attrs in elements:
        assert tag not in DANGEROUS_TAGS, (where, tag)
        assert tag in ALLOWED_TAGS, (where, tag)
        for name, value in attrs:
            assert not name.startswith("on"), (where, tag, name)
            assert name in ALLOWED_ATTRS, (where, tag, name)
            if name in {"href", "src", "action", "formaction", "xlink:href"}:
                assert url_scheme(value or "") in SAFE_SCHEMES, (where, tag, name, value)


def assert_page_inert(page: str, where: str, prose_divs: int = 1) -> None:
    # The app's own scripts, served from /static with the CSP's 'self', are expected;
    # anything else that runs is not.
    page = OWN_SCRIPT.sub("", page)
    assert not SCRIPT_TAG.search(page), where
    parsed = parse_page(page)
    assert parsed.prose_divs >= prose_divs, where
    assert_inert(parsed.prose, where)
    # Outside the Markdown as well: titles and intentions are escaped text.
    for tag, attrs in parsed.everywhere:
        assert tag not in {"script", "iframe", "object", "embed", "svg", "style"}, (where, tag)
        for name, value in attrs:
            assert not name.startswith("on"), (where, tag, name)
            assert url_scheme(value or "") not in {"javascript", "data", "vbscript"} or (
                tag == "img" and name == "src"
            ), (where, tag, name, value)


def render_elements(text: str) -> list[Element]:
    return parse_page(f'<div class="prose">{render_markdown(text)}</div>').prose


# -- the renderer itself -------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_inert(payload: str) -> None:
    html = render_markdown(payload)
    assert not SCRIPT_TAG.search(html)
    assert_inert(render_elements(payload), payload)
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*(javascript|data|vbscript):", html, re.I)


def test_raw_html_is_not_passed_through() -> None:
    assert "<b>" not in render_markdown("<b>bold</b> text")
    assert render_markdown("<b>bold</b> text").strip() == "<p>bold text</p>"
    assert "<div" not in render_markdown("<div>\nblock\n</div>")
    assert "<span" not in render_markdown('<span class="x">inline</span>')


def test_normal_markdown_still_renders() -> None:
    text = (
        "# A heading\n\n"
        "Some *emphasis*, **strong** and ~~gone~~ words, `code`.\n\n"
        "- one\n- two\n\n"
        "3. three\n4. four\n\n"
        "> a quote\n\n"
        'A [link](https://example.org/page?a=1&b=2 "Title") and <https://example.org/auto>'
        " and <mailto:someone@example.org>.\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "---\n\n```\npre block\n```\n"
    )
    html = render_markdown(text)
    for fragment in (
        "<h1>A heading</h1>",
        "<em>emphasis</em>",
        "<strong>strong</strong>",
        "<del>gone</del>",
        "<code>code</code>",
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
        '<ol start="3">',
        "<blockquote>",
        '<a href="https://example.org/page?a=1&amp;b=2" title="Title" '
        'rel="noopener noreferrer nofollow">link</a>',
        '<a href="https://example.org/auto" rel="noopener noreferrer nofollow">',
        '<a href="mailto:someone@example.org" rel="noopener noreferrer nofollow">',
        "<table>",
        "<td>2</td>",
        "<hr>",
        "<pre><code>pre block\n</code></pre>",
    ):
        assert fragment in html, fragment
    assert_inert(render_elements(text), "normal markdown")


def test_links_open_without_referrer_or_opener() -> None:
    links = [
        a for t, a in render_elements("[a](https://example.org) <http://x.example/b>") if t == "a"
    ]
    assert len(links) == 2
    for attrs in links:
        assert ("rel", "noopener noreferrer nofollow") in attrs


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(PAYLOADS),
            st.sampled_from(["*", "_", "[", "](", ")", "<", ">", "`", "\n", "&#", ";", '"']),
            st.text(max_size=20),
        ),
        max_size=12,
    ).map("".join)
)
def test_any_mix_of_payloads_renders_inert(text: str) -> None:
    assert not SCRIPT_TAG.search(render_markdown(text))
    assert_inert(render_elements(text), text)


# -- plain excerpts --------------------------------------------------------------------


def test_plain_excerpt_strips_markup() -> None:
    assert plain_excerpt("Some *words* with a [link](https://x.example)") == (
        "Some words with a link"
    )
    assert plain_excerpt("<b>bold</b> text") == "bold text"
    assert plain_excerpt("<script>alert(1)</script>") == ""
    assert plain_excerpt("# Title\n\n- a\n- b\n\n> quote") == "Title a b quote"
    assert plain_excerpt("Tom &amp; Jerry") == "Tom & Jerry"
    assert plain_excerpt("  many   spaces\n\nand\tlines  ") == "many spaces and lines"
    assert plain_excerpt("") == ""


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe src=javascript:alert(1)></iframe>",
        "<style>body{display:none}</style>",
        "<!-- <script>alert(1)</script> -->",
    ],
)
def test_plain_excerpt_drops_raw_html(payload: str) -> None:
    assert plain_excerpt(payload) == ""


def test_plain_excerpt_truncates_at_a_word() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    excerpt = plain_excerpt(text)
    assert excerpt.endswith("…")
    assert len(excerpt) <= 241
    assert text.startswith(excerpt[:-1])
    assert excerpt[:-1].split()[-1] in text.split()  # no word cut in half
    assert plain_excerpt(text, limit=20) == "word0 word1 word2…"
    assert plain_excerpt("short text", limit=20) == "short text"


# -- through the web -----------------------------------------------------------------------


def test_payloads_posted_as_entries_are_inert(clinic: Clinic, subtests: pytest.Subtests) -> None:
    b = clinic.world.browser(clinic.patient)
    url = f"/courses/{clinic.course.id}/entries/new"
    written = []
    for i, payload in enumerate([*PAYLOADS, "\n\n".join(PAYLOADS)]):
        with subtests.test(payload=payload[:60]):
            form = entry_form(
                clinic.upcoming,
                phase="preparation",
                title=f"#{i} {payload}"[:200],
                body=payload,
                intentions=payload.replace("\n", " ")[:400],
            )
            r = b.post(url, form)
            assert r.status_code == 302, r.get_data(as_text=True)
            entry_id = new_entry_id(r.location)
            written.append(entry_id)
            assert_page_inert(b.text(f"/entries/{entry_id}"), payload)
    assert_page_inert(b.text(f"/courses/{clinic.course.id}"), "timeline", prose_divs=0)
    # The clinician reads the same entries.
    clinician = clinic.world.browser(clinic.clinician)
    for entry_id in written[:5]:
        assert_page_inert(clinician.text(f"/entries/{entry_id}"), "clinician view")
    assert_page_inert(clinician.text(f"/courses/{clinic.course.id}"), "clinician", prose_divs=0)


def test_history_of_an_edited_entry_is_inert(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    body = "\n\n".join(PAYLOADS)
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, body=body))
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    for version in ("1", "2"):
        r = b.post(
            f"/entries/{entry_id}/edit",
            entry_form(clinic.past, body=f"{body}\n\n*edit {version}*", version=version),
        )
        assert r.status_code == 302, r.get_data(as_text=True)
    page = b.text(f"/entries/{entry_id}/history")
    assert_page_inert(page, "history", prose_divs=2)


def test_normal_markdown_renders_on_the_entry_page(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    body = (
        "Felt *lighter* and **calm**.\n\n- breath\n- music\n\nSee [notes](https://example.org/n)."
    )
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, body=body))
    assert r.status_code == 302
    page = b.text(f"/entries/{new_entry_id(r.location)}")
    assert "<em>lighter</em>" in page
    assert "<strong>calm</strong>" in page
    assert "<li>breath</li>" in page
    assert '<a href="https://example.org/n" rel="noopener noreferrer nofollow">notes</a>' in page
    timeline = b.text(f"/courses/{clinic.course.id}")
    assert "Felt lighter and calm." in timeline  # the excerpt is plain text


def test_plain_excerpt_of_a_long_entry_matches_the_whole_text() -> None:
    """The card renders only the head of a long entry; what it shows is unchanged."""
    paragraph = "The *lighthouse* came back, [quietly](https://x.example), and stayed. "
    text = "\n\n".join(paragraph * 3 for _ in range(40))
    whole = plain_text(text)
    excerpt = plain_excerpt(text)
    assert excerpt.endswith("…")
    assert whole.startswith(excerpt[:-1])


def test_plain_excerpt_reads_past_a_head_heavy_with_markup() -> None:
    """A head that is mostly markup (long link targets) still yields a full excerpt."""
    link = "[a](https://example.org/" + "x" * 300 + ") "
    text = link * 10 + " ".join(f"word{i}" for i in range(200))
    excerpt = plain_excerpt(text)
    assert "word0" in excerpt
    assert excerpt == plain_text(text)[: len(excerpt) - 1].rstrip() + "…"


# -- the renderer that frees what it allocates ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Plain words.",
        "# Title\n\n*em* **strong** `code` ~~gone~~ www.example.com <b>raw</b>",
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n- [ ] to do\n- [x] done",
        "```python\nprint('hi')\n```\n\n> quoted\n\n1. one\n2. two",
        "[bad](javascript:alert(1)) <script>alert(1)</script> <iframe src=x></iframe>",
        "émoji 🌊 and ß and 漢字\n\nline  \nbreak",
    ],
)
def test_rendering_matches_cmarkgfm_exactly(text: str) -> None:
    """journal.core.rendering calls cmark itself (to free its memory, see
    docs/performance.md, "Worker memory"): the HTML is cmarkgfm's own, byte for byte."""
    import cmarkgfm

    from journal.core import rendering

    expected = cmarkgfm.github_flavored_markdown_to_html(text, options=rendering._OPTIONS)
    assert rendering._gfm_to_html(text) == expected
