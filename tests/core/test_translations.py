"""The Vietnamese catalog: every message translated, the shipped .mo compiled from the current
.po, placeholders kept, and the key interface terms as the glossary (docs/glossary.md) says.

The .po is read with a small parser below and the .mo with the standard library's
`gettext.GNUTranslations`, so the test needs no extra dependency."""

from __future__ import annotations

import ast
import gettext
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "vi" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def parse_po(path: Path) -> list[Entry]:
    """The active (non-obsolete) entries of a .po file, header excluded."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int | None] | None = None

    def finish():
        nonlocal current
        if current.line:
            entries.append(current)
        current = Entry()

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if target and target[0] == "msgstr":
                finish()
                target = None
            if line.startswith("#,"):
                current.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            keyword, index, text = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            if keyword in ("msgctxt", "msgid") and target and target[0] == "msgstr":
                finish()
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index) if index is not None else 0)
                current.msgstr[target[1]] = text
            else:
                target = (keyword, None)
                setattr(current, keyword, text)
                current.line = current.line or number
            continue
        assert line.startswith('"') and target, f"{path}:{number}: unexpected line {raw!r}"
        text = ast.literal_eval(line)
        if target[0] == "msgstr":
            current.msgstr[target[1]] += text
        else:
            setattr(current, target[0], (getattr(current, target[0]) or "") + text)
    finish()
    return [e for e in entries if e.msgid]


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO.is_file(), f"{PO} is missing"
    return parse_po(PO)


@pytest.fixture(scope="module")
def mo() -> gettext.GNUTranslations:
    assert MO.is_file(), f"{MO} is missing: run `cd ansinh && ../manage.py compilemessages -l vi`"
    with MO.open("rb") as f:
        return gettext.GNUTranslations(f)


def mo_string_count() -> int:
    """Number of messages in the .mo, from its header (GNU format), without the catalog header."""
    data = MO.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    return struct.unpack(order + "I", data[8:12])[0] - 1


def test_the_catalog_has_messages(entries):
    assert len(entries) > 500


def test_every_message_is_translated_and_none_is_fuzzy(entries):
    untranslated = [e.msgid for e in entries if not all(s.strip() for s in e.msgstr.values()) or not e.msgstr]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_header_declares_vietnamese_utf8_and_one_plural_form():
    header = PO.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert '"Language: vi\\n"' in header
    assert "charset=UTF-8" in header
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in header
    assert "#, fuzzy" not in header


def test_plural_entries_have_the_one_vietnamese_form(entries):
    plurals = [e for e in entries if e.msgid_plural is not None]
    assert plurals
    assert all(set(e.msgstr) == {0} for e in plurals), [e.msgid for e in plurals if set(e.msgstr) != {0}]


def test_mo_is_compiled_from_the_current_po(entries, mo):
    """Same number of messages, and each one says what the .po says (a stale .mo fails here)."""
    assert mo_string_count() == len(entries)
    stale = []
    for e in entries:
        if e.msgid_plural is not None:
            got = (
                mo.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 1)
                if e.msgctxt
                else mo.ngettext(e.msgid, e.msgid_plural, 1)
            )
        else:
            got = mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt else mo.gettext(e.msgid)
        if got != e.msgstr[0]:
            stale.append(e.msgid)
    assert stale == []


PLACEHOLDER = re.compile(r"%\(\w+\)[-+ 0#]*\d*(?:\.\d+)?[sdifr]|%[sdif]|\{\w*\}|</?[a-zA-Z][^>]*>")


def test_placeholders_and_markup_are_kept(entries):
    broken = [
        (e.msgid, text)
        for e in entries
        for text in e.msgstr.values()
        if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(e.msgid))
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        ("Log in", "Đăng nhập"),
        ("Log out", "Đăng xuất"),
        ("Username", "Tên đăng nhập"),
        ("Password", "Mật khẩu"),
        ("Dashboard", "Tổng quan"),
        ("Beneficiaries", "Đối tượng"),
        ("Areas", "Địa bàn"),
        ("Organisations", "Đơn vị"),
        ("Audit log", "Nhật ký thay đổi"),
        ("Guardian", "Người giám hộ"),
        ("Authorised person", "Người được ủy quyền"),
        ("Approver (checker)", "Người phê duyệt"),
        ("Village head", "Trưởng thôn/khóm/ấp"),
        ("State treasury", "Kho bạc Nhà nước"),
        ("citizen ID (CCCD)", "số CCCD"),
        ("standard level", "mức chuẩn trợ giúp xã hội"),
        ("coefficient", "hệ số"),
        ("Page not found", "Không tìm thấy trang"),
    ],
)
def test_key_terms(msgid, expected):
    with translation.override("vi"):
        assert translation.gettext(msgid) == expected


def test_plural_message_through_django():
    with translation.override("vi"):
        text = translation.ngettext(
            "Please try again in %(minutes)s minute, counted from the last attempt.",
            "Please try again in %(minutes)s minutes, counted from the last attempt.",
            30,
        ) % {"minutes": 30}
    assert "30 phút" in text


def test_parser_reads_context_plurals_continuations_and_skips_obsolete(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: vi\\n"\n\n'
        '#, python-format\nmsgctxt "menu"\nmsgid "Open %(n)s"\nmsgstr "Mở "\n"%(n)s"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "nhiều"\n\n'
        'msgid "empty"\nmsgstr ""\n\n'
        '#~ msgid "old"\n#~ msgstr "cũ"\n',
        encoding="utf-8",
    )
    first, second, third = parse_po(po)
    assert (first.msgctxt, first.msgid, first.msgstr, first.flags) == (
        "menu",
        "Open %(n)s",
        {0: "Mở %(n)s"},
        {"python-format"},
    )
    assert (second.msgid_plural, second.msgstr) == ("many", {0: "nhiều"})
    assert third.msgstr == {0: ""}
