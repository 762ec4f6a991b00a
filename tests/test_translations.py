"""Every string a person reads is in the catalogues, and every language has all of them.

Three checks, none of them rendering a page:
- the strings extracted from the code and templates (as `make strings` does) are all
  in each catalogue, translated, and not left in English (bar a short list of words
  that are the same in both languages);
- the templates hold no readable text outside `_()` / `{% trans %}`;
- the code passes no unmarked literal where people read it: a domain ValidationError's
  message, a flashed message, a form field's label or description.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "journal" / "translations"
LANGUAGES = sorted(p.name for p in CATALOGUES.iterdir() if (p / "LC_MESSAGES").is_dir())

# Words that are the same in French, checked by a person and kept short: a message
# left as written must be made of these alone (placeholders and tags aside).
SAME_IN = {
    "fr": {
        *("navigation", "menu", "audit", "version", "minute", "minutes", "total", "date"),
        *("dose", "note", "notes", "questionnaire", "questionnaires", "patient", "patients"),
        *("indication", "phase", "phases", "image", "images", "item", "question", "confusion"),
        *("dissociation", "message", "messages", "intention", "intentions", "e-mail"),
        *("france", "québec", "spo2", "pdf", "html", "json", "markdown", "a4", "phq-9"),
        *("gad-7", "pcl-5", "meq-30", "ebi", "score", "scores", "code", "type", "options"),
        *("description", "instructions", "source", "sources", "format", "admin", "actions"),
        *("action", "documents", "minimum", "maximum", "transition", "points"),
    },
}
WORDS = re.compile(r"[^\W\d_][\w'’-]*")
PLACEHOLDERS_AND_TAGS = re.compile(r"%\(\w+\)s|<[^>]*>")


def same_in(language: str, msgid: str) -> bool:
    """The message may read the same: it has no word outside the language's list."""
    words = WORDS.findall(PLACEHOLDERS_AND_TAGS.sub(" ", msgid))
    return all(w.lower() in SAME_IN.get(language, set()) for w in words)


@cache
def extracted() -> dict[tuple[str | None, str], str | tuple[str, ...]]:
    """msgid (with its context) -> the message as the code marks it."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[tuple[str | None, str], str | tuple[str, ...]] = {}
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "pgettext": ((1, "c"), 2),
        "_l": None,
        "lazy_gettext": None,
        "N_": None,
    }
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found[(context, msgid)] = message
    return found


@cache
def catalogue(language: str):  # type: ignore[no-untyped-def]
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_is_translated(language: str) -> None:
    cat = catalogue(language)
    missing, empty, english = [], [], []
    for (context, msgid), message in extracted().items():
        entry = cat.get(message if isinstance(message, str) else message[0], context=context)
        if entry is None:
            missing.append(msgid)
            continue
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(forms) or "fuzzy" in entry.flags:
            empty.append(msgid)
        elif forms[0] == msgid and not same_in(language, msgid):
            english.append(msgid)
    assert not missing, f"not in the {language} catalogue (run make strings): {missing[:20]}"
    assert not empty, f"not translated into {language}: {empty[:20]}"
    assert not english, f"left as written in {language}: {english[:20]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_translations_keep_the_placeholders(language: str) -> None:
    named = re.compile(r"%\((\w+)\)s")
    wrong = []
    for entry in catalogue(language):
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(named.findall(ids[-1])) - {"num"}
        wrong += [ids[0] for f in forms if wanted - set(named.findall(f))]
    assert not wrong, f"{language} drops a placeholder: {wrong[:10]}"


# Readable text in a template outside _() / {% trans %}.
JINJA = re.compile(r"{{.*?}}|{%.*?%}", re.S)
TAG = re.compile(r"<[^>]*>")
READABLE_ATTRIBUTE = re.compile(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"')
ATTRIBUTE_ONLY = re.compile(r'^[\w-]+="\x00?"?$')  # an attribute set by a {% set %}
ENTITY = re.compile(r"&[a-z]+;|&#\d+;")
# Not words to translate: the product's name and units.
SAME_EVERYWHERE = {"KAP journal", "mg", "mg/kg", "mmHg", "bpm", "SpO2"}
TEMPLATES_OF_DATA = {
    # The e-mail is plain text the domain writes in its reader's language.
    "mail/message.j2",
}


def _unmarked_in(source: str) -> list[str]:
    source = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    # Text inside {% trans %} blocks is marked: drop the blocks, then every expression.
    source = re.sub(r"{%-? *trans\b.*?endtrans *-?%}", "\x00", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", JINJA.sub("\x00", source), flags=re.S)
    found = [v for tag in TAG.findall(source) for v in READABLE_ATTRIBUTE.findall(tag)]
    text = ENTITY.sub(" ", TAG.sub("\x00", source))
    found += [w.strip() for w in re.split(r"[\x00\n]", text)]
    return [
        w
        for w in found
        if re.search("[A-Za-z]{2}", w)
        and w.strip(" ·:,.()") not in SAME_EVERYWHERE
        and not ATTRIBUTE_ONLY.match(w)
    ]


def test_the_templates_hold_no_unmarked_text() -> None:
    unmarked = {}
    for path in sorted((ROOT / "templates").rglob("*.htm*")):
        name = path.relative_to(ROOT / "templates").as_posix()
        if name not in TEMPLATES_OF_DATA and (found := _unmarked_in(path.read_text())):
            unmarked[name] = found[:5]
    assert not unmarked, f"unmarked text in templates: {unmarked}"


# Code that passes people's words as a plain literal.
FIELD_CLASSES = re.compile(r"\w+Field$")


def _literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)
    )


def _unmarked_in_code(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None) or ""
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        if name == "ValidationError" and node.args and isinstance(node.args[0], ast.Dict):
            found += [where for v in node.args[0].values if _literal(v)]
        elif name == "flash" and node.args and _literal(node.args[0]):
            found.append(where)
        elif FIELD_CLASSES.match(name):
            label = node.args[0] if node.args else None
            keywords = {k.arg: k.value for k in node.keywords}
            if _literal(label) or _literal(keywords.get("label")):
                found.append(where)
            if _literal(keywords.get("description")):
                found.append(where)
    return found


def test_the_code_passes_no_unmarked_words_to_people() -> None:
    unmarked = []
    for path in sorted((ROOT / "journal").rglob("*.py")):
        unmarked += _unmarked_in_code(path)
    assert not unmarked, f"unmarked words (mark with N_ in the domain, _ in the web): {unmarked}"


# What French typography leaves alone: tags, URLs, times (09:10), ratios (16:9). A
# placeholder stands for a word: "%(label)s:" needs its space as much as "Note:".
NOT_FRENCH_TEXT = re.compile(r"<[^>]*>|\b[a-z][\w+.-]*://\S*|\b\d+:\d+\b")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
FRENCH_TYPOGRAPHY = {
    "an ASCII apostrophe (use ’)": re.compile(r"\w'\w"),
    "? ! : ; without a no-break space before": re.compile(r"[\w ][?!:;]"),
    "« without a no-break space after": re.compile(r"«(?!\u00a0)"),
    "» without a no-break space before": re.compile(r"(?<!\u00a0)»"),
}


def test_french_typography() -> None:
    """French punctuation: ’, a no-break space before ? ! : ; and inside « »."""
    wrong = []
    for entry in catalogue("fr"):
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in filter(None, forms if entry.id else ()):
            bare = PLACEHOLDER.sub("x", NOT_FRENCH_TEXT.sub("", text))
            wrong += [(rule, text) for rule, rx in FRENCH_TYPOGRAPHY.items() if rx.search(bare)]
    assert not wrong, f"French typography: {wrong[:10]}"
