"""What a person reads is Vietnamese: the main pages of each persona and the XLSX files show no
raw choice value ("active", "guardian"), no internal code without its name ("CARE.foster_child",
"severe:adult", "war_invalid_100pct") and no English text of the catalog left untranslated.

The pages are read as a person sees them: text nodes (not scripts or styles) and the attributes
people read (placeholder, title, aria-label, alt). ALLOWED lists what may look like a finding and
is not, each with its reason."""

from __future__ import annotations

import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real
from openpyxl import load_workbook

from ansinh.registry import services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from tests.factories import cccd_for

pytestmark = pytest.mark.django_db

# Internal codes: snake_case keys, the policy's category codes whose names are English words,
# condition keys ("severe:adult"). Legal references such as D20.5.6 are not matched.
CODE_PATTERNS = [
    re.compile(r"\b[a-z]+_[a-z_]+\b"),
    re.compile(r"\b(?:CARE|FUNERAL|HTXH)\.\w+"),
    re.compile(r"\bNCC\.[a-z]{2,}"),
    re.compile(r"\b(?:extremely_severe|severe|adult|child_or_elderly):"),
    re.compile(r"\b\d+pct\b"),
]
# Texts that look like a finding and are not.
ALLOWED = {
    "csrfmiddlewaretoken",  # a hidden form field's name, never shown
    "ansinh",  # the product's name
    "Email",  # msgid "Email" is translated "Email": the same word in Vietnamese
    "CCCD",  # the Vietnamese abbreviation of the citizen ID (msgid "CCCD" is spelt out in full)
    "dd/mm/yyyy",  # the date format as Vietnamese forms write it (msgid translated with a gloss)
    "xlsx",  # a file name's extension (ds.xlsx), also a choice value of the transfer files' formats (issue 11)
    # the test personas' usernames (a login name is typed as it is, in the menu and the audit)
    "officer_a",
    "viewer_a",
}


class _Visible(HTMLParser):
    """The text a person reads on a page."""

    READ_ATTRS = ("placeholder", "title", "aria-label", "alt")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        for name, value in attrs:
            if name in self.READ_ATTRS and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and value and dict(attrs).get("type") in ("submit", "button"):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def xlsx_text(content: bytes) -> str:
    wb = load_workbook(io.BytesIO(content))
    return "\n".join(
        str(cell) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for cell in row if cell is not None
    )


def choice_values() -> set[str]:
    """The raw values of every choice field of the project's models whose label differs."""
    values = set()
    for model in apps.get_models():
        if not model.__module__.startswith("ansinh."):
            continue
        for field in model._meta.get_fields():
            for value, label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and len(value) >= 4 and value != str(label):
                    values.add(value)
    return values


def english_msgids() -> set[str]:
    """msgids of the Vietnamese catalog translated to something else, as a page would show
    them (placeholders and one-letter words left out)."""
    catalog = trans_real.translation("vi")._catalog
    found = set()
    for key in catalog.keys():  # noqa: SIM118 (a TranslationCatalog has no __iter__)
        if not isinstance(key, str):
            continue  # plural forms
        msgid = key.split("\x04", 1)[-1]
        if msgid == catalog[key] or "%" in msgid or "{" in msgid or not re.search(r"[A-Za-z]{3}", msgid):
            continue
        found.add(msgid)
    return found


def findings(text: str, *, choices: set[str], msgids: set[str]) -> list[str]:
    found = []
    for pattern in CODE_PATTERNS:
        found += [f"code {m.group(0)!r}" for m in pattern.finditer(text) if m.group(0) not in ALLOWED]
    words = set(re.findall(r"\b\w+\b", text))
    found += [f"choice value {v!r}" for v in sorted(choices & words) if v not in ALLOWED]
    for msgid in msgids:
        if msgid not in ALLOWED and msgid in text and re.search(rf"(?<!\w){re.escape(msgid)}(?!\w)", text):
            found.append(f"English {msgid!r}")
    return found


@pytest.fixture
def people(tree, policy, officer_a):
    """Beneficiaries with the categories whose keys used to show: a condition, a fixed-amount
    key, a care category, a representative."""

    def register(name, birth, gender, categories, representatives=(), n=1):
        data = BeneficiaryInput(
            full_name=name,
            birth_date=birth,
            gender=gender,
            commune_id=tree.a.pk,
            village_id=tree.village_a.pk,
            cccd=cccd_for(birth, gender, f"{n:06d}"),
            phone="0912345678",
            categories=categories,
            decision_number=f"{n}/QĐ-UBND",
            decision_date=date(2025, 1, 10),
            representatives=list(representatives),
        )
        return services.create_beneficiary(actor=officer_a, data=data, accept_duplicate=True)

    guardian = RepresentationInput(
        person=PersonInput(full_name="Trần Văn Bình", birth_date=date(1975, 3, 2), gender="male"),
        kind="guardian",
        relationship="con",
        is_payee=True,
    )
    return [
        register(
            "Nguyễn Thị Ánh",
            date(2015, 5, 17),
            "female",
            [CategoryInput("D20.5.6", "severe:child_or_elderly")],
            [guardian],
            1,
        ),
        register("Lê Văn Tám", date(1950, 2, 3), "male", [CategoryInput("NCC.g", fixed_key="war_invalid_100pct")], n=2),
        register(
            "Phạm Thị Đào",
            date(1980, 4, 5),
            "female",
            [CategoryInput("CARE.foster_child"), CategoryInput("D20.5.6", "extremely_severe:adult")],
            n=3,
        ),
    ]


def _pages(people):
    first = people[0]
    return [
        reverse("dashboard"),
        reverse("registry:list"),
        reverse("registry:list") + "?status=active",
        reverse("registry:print"),
        reverse("registry:create"),
        reverse("imports:index"),
        *(reverse("registry:detail", args=[b.pk]) for b in people),
        reverse("registry:edit", args=[first.pk]),
        reverse("registry:decision", args=[first.pk]),
        reverse("registry:representative_add", args=[first.pk]),
    ]


@pytest.mark.parametrize("persona", ["officer_a", "viewer_a"])
def test_pages_and_exports_show_no_code_or_english(persona, personas, people, client_for):
    choices, msgids = choice_values(), english_msgids()
    client = client_for(personas[persona])
    problems = []
    with translation.override("vi"):
        for url in _pages(people):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")
            if response.status_code != 200:
                continue  # a page this persona may not open
            body = b"".join(response.streaming_content) if response.streaming else response.content
            for finding in findings(visible_text(body.decode()), choices=choices, msgids=msgids):
                problems.append(f"{url}: {finding}")
        for url in (reverse("registry:export"), reverse("imports:template")):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")
            if response.status_code != 200:
                continue
            content = b"".join(response.streaming_content) if response.streaming else response.content
            for finding in findings(xlsx_text(content), choices=choices, msgids=msgids):
                problems.append(f"{url}: {finding}")
    assert problems == [], "\n".join(problems)


def test_the_check_finds_what_it_is_for():
    """The detector itself: each kind of leak is caught, Vietnamese text is not."""
    choices, msgids = {"active", "guardian"}, {"Beneficiaries", "Created"}
    assert findings("Nguyễn Thị Ánh — Đang hưởng; D20.5.6", choices=choices, msgids=msgids) == []
    assert findings("CARE.foster_child", choices=choices, msgids=msgids)
    assert findings("điều kiện: severe:adult", choices=choices, msgids=msgids)
    assert findings("(war invalid 100pct)", choices=choices, msgids=msgids)
    assert findings("Trạng thái: active", choices=choices, msgids=msgids)
    assert findings("Created: 3", choices=choices, msgids=msgids)
