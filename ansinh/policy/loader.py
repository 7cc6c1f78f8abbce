"""Reading the policy YAML (`settings.ANSINH_POLICY_FILE`) into plain row specifications.

No database access here: `parse_policy` returns what `services.load_policy` writes. Each spec is
`(natural_key, values)` where foreign keys are given by code (programme / category) and national
rows have `province=None`.

Mapping (YAML section → rows):

- standard_levels.social_assistance.levels → BTXH national standard levels
- standard_levels.meritorious_preferential.levels → NCC national standard levels
- standard_levels.social_pension → HTXH national standard level, plus category HTXH.pension with
  coefficient 1 (the pension is the level itself; a category is needed to claim it)
- decree20_monthly_allowance.categories → BTXH categories D20.*, coefficient rules from 2021-07-01
  (age brackets; disability/group as condition "<disability>:<group>"; 5.4 per child raised)
- decree20_care_support.items → BTXH categories CARE.*, coefficient rules from 2021-07-01
- meritorious_categories.items → NCC categories (basis: fixed amount, Decree 77/2024 Appendix I)
- meritorious_examples_2024.items → NCC fixed amounts from 2024-07-01 (see FIXED_KEY_CATEGORIES)
- meritorious_examples_2024.multiples_of_standard → one-off category NCC.convalescence with one
  coefficient rule per form (condition "at_home" / "concentrated")
- funeral_support → one-off categories FUNERAL.*: multiples of the standard level as coefficient
  rules, the social-pension funeral support as a fixed amount

The YAML's `vi` strings are ASCII; VI_NAMES holds the names with diacritics.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _

D20_START = date(2021, 7, 1)
NCC_TABLE_2024 = date(2024, 7, 1)

D20_BASIS = "Decree 20/2021/ND-CP"
NCC_ORDINANCE = "Ordinance 02/2020/UBTVQH14 Art. 3"
NCC_APPENDIX = "Decree 77/2024/ND-CP Appendix I (amending Decree 75/2021/ND-CP)"

PROGRAMMES: dict[str, dict[str, str]] = {
    "BTXH": {
        "name_vi": "Trợ giúp xã hội hằng tháng (Nghị định 20/2021/NĐ-CP)",
        "name_en": "Monthly social assistance (Decree 20/2021)",
        "legal_basis": "Decree 20/2021/ND-CP; Decree 76/2024/ND-CP",
        "owner_key": "social_assistance_decree20",
    },
    "NCC": {
        "name_vi": "Trợ cấp ưu đãi người có công với cách mạng",
        "name_en": "Preferential allowances for people with meritorious services to the revolution",
        "legal_basis": "Ordinance 02/2020/UBTVQH14; Decree 75/2021/ND-CP; Decree 77/2024/ND-CP",
        "owner_key": "nguoi_co_cong",
    },
    "HTXH": {
        "name_vi": "Trợ cấp hưu trí xã hội",
        "name_en": "Social pension",
        "legal_basis": "Law on Social Insurance 41/2024/QH15 Art. 21; Decree 176/2025/ND-CP",
        "owner_key": "social_pension",
    },
}

# Vietnamese names with diacritics (the YAML carries ASCII transliterations).
VI_NAMES: dict[str, str] = {
    "D20.5.1": "Trẻ em dưới 16 tuổi không có nguồn nuôi dưỡng",
    "D20.5.2": (
        "Người từ 16 tuổi đến 22 tuổi thuộc khoản 1 đang học phổ thông, học nghề, trung cấp chuyên nghiệp, "
        "cao đẳng, đại học văn bằng thứ nhất"
    ),
    "D20.5.3": "Trẻ em nhiễm HIV/AIDS thuộc hộ nghèo",
    "D20.5.4": (
        "Người thuộc hộ nghèo, hộ cận nghèo đơn thân đang nuôi con dưới 16 tuổi hoặc từ 16 tuổi đến 22 tuổi đang học"
    ),
    "D20.5.5.a": (
        "Người cao tuổi thuộc hộ nghèo, không có người có nghĩa vụ và quyền phụng dưỡng, hoặc có nhưng "
        "người đó đang hưởng trợ cấp xã hội hằng tháng"
    ),
    "D20.5.5.b": (
        "Người từ đủ 75 tuổi đến 80 tuổi thuộc hộ nghèo, hộ cận nghèo sống ở xã, thôn vùng đồng bào dân tộc "
        "thiểu số và miền núi đặc biệt khó khăn"
    ),
    "D20.5.5.c": (
        "Người từ đủ 80 tuổi trở lên không có lương hưu, trợ cấp bảo hiểm xã hội hằng tháng, trợ cấp xã hội hằng tháng"
    ),
    "D20.5.5.d": (
        "Người cao tuổi thuộc hộ nghèo, không có người phụng dưỡng, đủ điều kiện vào cơ sở trợ giúp xã hội "
        "nhưng có người nhận chăm sóc tại cộng đồng"
    ),
    "D20.5.6": "Người khuyết tật nặng, người khuyết tật đặc biệt nặng",
    "D20.5.7": (
        "Trẻ em dưới 3 tuổi thuộc hộ nghèo, hộ cận nghèo sống ở xã, thôn vùng đồng bào dân tộc thiểu số và "
        "miền núi đặc biệt khó khăn"
    ),
    "D20.5.8": "Người nhiễm HIV/AIDS thuộc hộ nghèo không có nguồn thu nhập ổn định hằng tháng",
    "CARE.household_direct_esd": "Hộ gia đình trực tiếp chăm sóc, nuôi dưỡng người khuyết tật đặc biệt nặng",
    "CARE.takes_in_esd": "Hộ gia đình, cá nhân nhận nuôi dưỡng, chăm sóc người khuyết tật đặc biệt nặng",
    "CARE.pwd_pregnant_or_child_lt36m": (
        "Người khuyết tật nặng, đặc biệt nặng đang mang thai hoặc nuôi một con dưới 36 tháng tuổi"
    ),
    "CARE.pwd_pregnant_and_child_or_2children": (
        "Người khuyết tật nặng, đặc biệt nặng đang mang thai và nuôi một con dưới 36 tháng tuổi, hoặc nuôi "
        "từ hai con trở lên dưới 36 tháng tuổi"
    ),
    "CARE.foster_child": "Hộ gia đình, cá nhân nhận chăm sóc, nuôi dưỡng trẻ em thuộc khoản 1 Điều 5",
    "NCC.a": "Người hoạt động cách mạng trước ngày 01 tháng 01 năm 1945",
    "NCC.b": "Người hoạt động cách mạng từ ngày 01 tháng 01 năm 1945 đến ngày khởi nghĩa tháng Tám năm 1945",
    "NCC.c": "Liệt sĩ",
    "NCC.d": "Bà mẹ Việt Nam anh hùng",
    "NCC.dd": "Anh hùng Lực lượng vũ trang nhân dân",
    "NCC.e": "Anh hùng Lao động trong thời kỳ kháng chiến",
    "NCC.g": "Thương binh, bao gồm cả thương binh loại B, người hưởng chính sách như thương binh",
    "NCC.h": "Bệnh binh",
    "NCC.i": "Người hoạt động kháng chiến bị nhiễm chất độc hóa học",
    "NCC.k": (
        "Người hoạt động cách mạng, hoạt động kháng chiến, bảo vệ Tổ quốc, làm nghĩa vụ quốc tế bị địch bắt tù, đày"
    ),
    "NCC.l": "Người hoạt động kháng chiến giải phóng dân tộc, bảo vệ Tổ quốc, làm nghĩa vụ quốc tế",
    "NCC.m": "Người có công giúp đỡ cách mạng",
    "NCC.rel": "Thân nhân của người có công với cách mạng",
    "NCC.convalescence": "Điều dưỡng phục hồi sức khỏe người có công",
    "HTXH.pension": "Trợ cấp hưu trí xã hội hằng tháng",
    "FUNERAL.D20": "Hỗ trợ chi phí mai táng (Điều 11 Nghị định 20/2021/NĐ-CP)",
    "FUNERAL.SOCIAL_PENSION": "Hỗ trợ chi phí mai táng đối với người hưởng trợ cấp hưu trí xã hội",
    "FUNERAL.EMERGENCY_D20_ART14": (
        "Hỗ trợ chi phí mai táng khi chết do thiên tai, hỏa hoạn, tai nạn (trợ giúp khẩn cấp)"
    ),
}

EN_NAMES: dict[str, str] = {
    "NCC.convalescence": "Convalescence (health rehabilitation) of people with meritorious services",
    "HTXH.pension": "Monthly social pension",
    "FUNERAL.D20": "Funeral support (Decree 20/2021 Art. 11)",
    "FUNERAL.SOCIAL_PENSION": "Funeral support for social-pension recipients",
    "FUNERAL.EMERGENCY_D20_ART14": "Emergency funeral support for deaths from disaster, fire or accident",
}

SENSITIVE = {"D20.5.3", "D20.5.8"}

# meritorious_examples_2024 keys → NCC categories. The armed-forces / labour-hero amount is the
# same for both heroes, so it is attached to NCC.dd and NCC.e.
FIXED_KEY_CATEGORIES: dict[str, tuple[str, ...]] = {
    "activist_1945_to_uprising": ("NCC.b",),
    "relative_of_1_martyr": ("NCC.rel",),
    "relative_of_2_martyrs": ("NCC.rel",),
    "relative_of_3plus_martyrs": ("NCC.rel",),
    "heroic_mother_allowance": ("NCC.d",),
    "armed_forces_or_labour_hero_resistance": ("NCC.dd", "NCC.e"),
    "imprisoned_by_enemy": ("NCC.k",),
    "war_invalid_81pct": ("NCC.g",),
    "war_invalid_100pct": ("NCC.g",),
}
# "war_invalid_81pct_plus_supplement: 1,399,000" is not an amount of its own: it is the monthly
# supplement paid on top to war invalids at 81 % or more (policy-facts §2.4). It becomes the
# `supplement` of the 81 % and 100 % rows.
WAR_INVALID_SUPPLEMENT_KEY = "war_invalid_81pct_plus_supplement"
WAR_INVALID_SUPPLEMENT_TO = ("war_invalid_81pct", "war_invalid_100pct")

# Care support paid per person taken in (the YAML says "per person" in the English text only).
CARE_PER_UNIT = {"CARE.takes_in_esd": "person_taken_in"}


class PolicyFileError(ValueError):
    """The policy file is missing a section or holds a value that cannot be read."""


@dataclass
class PolicyData:
    path: Path
    sha256: str
    programmes: list[tuple[dict, dict]] = field(default_factory=list)
    categories: list[tuple[dict, dict]] = field(default_factory=list)
    standard_levels: list[tuple[dict, dict]] = field(default_factory=list)
    coefficient_rules: list[tuple[dict, dict]] = field(default_factory=list)
    fixed_amounts: list[tuple[dict, dict]] = field(default_factory=list)


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise PolicyFileError(_("Not a date: %(value)r") % {"value": value}) from exc


def _amount(value: Any, *, zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyFileError(_("Amounts must be whole đồng (integers): %(value)r") % {"value": value})
    if value < 0 or (value == 0 and not zero):
        raise PolicyFileError(_("Amounts must be positive: %(value)r") % {"value": value})
    return value


def _coefficient(value: Any) -> Decimal:
    # YAML floats like 2.5 are turned into Decimal through their repr, never through binary float math.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PolicyFileError(_("Not a coefficient: %(value)r") % {"value": value})
    try:
        coefficient = Decimal(str(value))
    except ArithmeticError as exc:
        raise PolicyFileError(_("Not a coefficient: %(value)r") % {"value": value}) from exc
    if not coefficient.is_finite() or coefficient <= 0:
        raise PolicyFileError(_("Coefficients must be positive: %(value)r") % {"value": value})
    return coefficient


def _confidence(value: Any) -> str:
    value = str(value or "unverified")
    if value not in {"verified", "partial", "unverified"}:
        raise PolicyFileError(_("Unknown confidence label: %(value)r") % {"value": value})
    return value


def _age_bounds(spec: dict) -> tuple[int | None, int | None]:
    return spec.get("age_gte"), spec.get("age_lt")


def parse_policy(path: Path | str) -> PolicyData:
    path = Path(path)
    raw = path.read_bytes()
    # The safe loader, in its C implementation when libyaml is present (ten times faster).
    safe_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load(raw, Loader=safe_loader) or {}  # noqa: S506
    data = PolicyData(path=path, sha256=hashlib.sha256(raw).hexdigest())
    try:
        _programmes(doc, data)
        _standard_levels(doc, data)
        _decree20(doc, data)
        _care(doc, data)
        _meritorious(doc, data)
        _funeral(doc, data)
    except (KeyError, TypeError) as exc:
        raise PolicyFileError(_("Unexpected structure in %(path)s: %(error)r") % {"path": path, "error": exc}) from exc
    return data


def _category(data: PolicyData, code: str, programme: str, **values) -> None:
    values["name_vi"] = VI_NAMES.get(code) or values.get("name_vi", "")
    values["name_en"] = values.get("name_en") or EN_NAMES.get(code, "")
    values.setdefault("clause", "")
    values.setdefault("sensitive", code in SENSITIVE)
    values.setdefault("basis", "coefficient")
    values.setdefault("kind", "monthly")
    values.setdefault("legal_basis", "")
    values.setdefault("source", "")
    values.setdefault("confidence", "unverified")
    values.setdefault("note", "")
    values["programme"] = programme
    data.categories.append(({"code": code}, values))


def _rule(
    data: PolicyData,
    category: str,
    *,
    value: Any,
    effective_from: date,
    condition: str = "",
    age_from: int | None = None,
    age_to: int | None = None,
    per_unit: str = "",
    legal_basis: str = "",
    source: str = "",
    confidence: str = "unverified",
    note: str = "",
) -> None:
    key = {
        "category": category,
        "province": None,
        "condition": condition,
        "age_from": age_from,
        "effective_from": effective_from,
    }
    values = {
        "value": _coefficient(value),
        "age_to": age_to,
        "per_unit": per_unit,
        "effective_to": None,
        "legal_basis": legal_basis,
        "source": source or "",
        "confidence": confidence,
        "note": note,
    }
    data.coefficient_rules.append((key, values))


def _programmes(doc: dict, data: PolicyData) -> None:
    owners = (doc.get("agencies_2025") or {}).get("owners") or {}
    since = (doc.get("agencies_2025") or {}).get("effective_from")
    for code, spec in PROGRAMMES.items():
        owner = owners.get(spec["owner_key"], "")
        if owner and since:
            owner = f"{owner} (since {since})"
        data.programmes.append(
            (
                {"code": code},
                {
                    "name_vi": spec["name_vi"],
                    "name_en": spec["name_en"],
                    "legal_basis": spec["legal_basis"],
                    "owner_note": owner,
                },
            )
        )


def _level(data: PolicyData, programme: str, item: dict) -> None:
    data.standard_levels.append(
        (
            {"programme": programme, "province": None, "effective_from": _date(item["effective_from"])},
            {
                "amount": _amount(item["amount"]),
                "effective_to": _date(item.get("effective_to")),
                "legal_basis": item.get("legal_basis", ""),
                "source": item.get("source") or "",
                "confidence": _confidence(item.get("confidence")),
                "note": "",
            },
        )
    )


def _standard_levels(doc: dict, data: PolicyData) -> None:
    levels = doc["standard_levels"]
    for item in levels["social_assistance"]["levels"]:
        _level(data, "BTXH", item)
    for item in levels["meritorious_preferential"]["levels"]:
        _level(data, "NCC", item)
    pension = levels["social_pension"]
    for item in pension:
        _level(data, "HTXH", item)
    first = pension[0]
    notes = [f"Eligibility: {first['eligibility']}" if first.get("eligibility") else ""]
    if first.get("overlap_rule"):
        notes.append(f"Overlap: {first['overlap_rule']}")
    _category(
        data,
        "HTXH.pension",
        "HTXH",
        clause="Art. 21",
        legal_basis=first.get("legal_basis", ""),
        source=first.get("source") or "",
        confidence=_confidence(first.get("confidence")),
        note="\n".join(n for n in notes if n),
    )
    for item in pension:
        _rule(
            data,
            "HTXH.pension",
            value=1,
            effective_from=_date(item["effective_from"]),
            legal_basis=item.get("legal_basis", ""),
            source=item.get("source") or "",
            confidence=_confidence(item.get("confidence")),
            note="The social pension is the standard level itself (coefficient 1).",
        )


def _decree20(doc: dict, data: PolicyData) -> None:
    section = doc["decree20_monthly_allowance"]
    for item in section["categories"]:
        code = item["code"]
        confidence = _confidence(item.get("confidence"))
        source = item.get("source") or ""
        note = ""
        if item.get("overlaps") == "social_pension":
            note = "Overlaps the social pension (HTXH) from 2025-07-01: pay only the higher."
        _category(
            data,
            code,
            "BTXH",
            clause=str(item.get("clause", "")),
            name_vi=item.get("vi", ""),
            name_en=item.get("en", ""),
            sensitive=bool(item.get("sensitive", False)) or code in SENSITIVE,
            legal_basis=f"{D20_BASIS} Art. 5",
            source=source,
            confidence=confidence,
            note=note,
        )
        for coef in item["coefficients"]:
            age_from, age_to = _age_bounds(coef)
            condition = ""
            if coef.get("disability") or coef.get("group"):
                condition = f"{coef.get('disability', '')}:{coef.get('group', '')}"
            _rule(
                data,
                code,
                value=coef["value"],
                effective_from=D20_START,
                condition=condition,
                age_from=age_from,
                age_to=age_to,
                per_unit=coef.get("per", ""),
                legal_basis=f"{D20_BASIS} Art. 6",
                source=source,
                confidence=confidence,
            )


def _care(doc: dict, data: PolicyData) -> None:
    section = doc["decree20_care_support"]
    law = section.get("legal_basis_law", "")
    source = section.get("source") or ""
    for item in section["items"]:
        code = item["code"]
        confidence = _confidence(item.get("confidence"))
        basis = D20_BASIS if code == "CARE.foster_child" else f"{D20_BASIS}; {law}"
        _category(
            data,
            code,
            "BTXH",
            clause="care support",
            name_en=item.get("en", ""),
            legal_basis=basis,
            source=source,
            confidence=confidence,
            note=item.get("note", ""),
        )
        values = item.get("values") or [{"value": item["value"]}]
        for coef in values:
            age_from, age_to = _age_bounds(coef)
            _rule(
                data,
                code,
                value=coef["value"],
                effective_from=D20_START,
                age_from=age_from,
                age_to=age_to,
                per_unit=CARE_PER_UNIT.get(code, ""),
                legal_basis=basis,
                source=source,
                confidence=confidence,
            )


def _meritorious(doc: dict, data: PolicyData) -> None:
    cats = doc["meritorious_categories"]
    for item in cats["items"]:
        _category(
            data,
            item["code"],
            "NCC",
            clause=item["code"].split(".", 1)[1],
            name_vi=item.get("vi", ""),
            name_en=item.get("en", ""),
            basis="fixed",
            legal_basis=NCC_ORDINANCE,
            source=cats.get("source") or "",
            confidence=_confidence(cats.get("confidence")),
        )
    examples = doc["meritorious_examples_2024"]
    section_source = examples.get("source") or ""
    section_confidence = _confidence(examples.get("confidence"))
    items = {item["key"]: item for item in examples["items"]}
    supplement_item = items.pop(WAR_INVALID_SUPPLEMENT_KEY, None)
    for key, item in items.items():
        categories = FIXED_KEY_CATEGORIES.get(key)
        if not categories:
            raise PolicyFileError(_("No NCC category is mapped to the fixed-amount key %(key)r.") % {"key": key})
        supplement = _amount(item.get("plus_supplement", 0), zero=True)
        note = ""
        source = item.get("source") or section_source
        if supplement_item is not None and key in WAR_INVALID_SUPPLEMENT_TO:
            supplement = _amount(supplement_item["amount"])
            note = f"Supplement from {WAR_INVALID_SUPPLEMENT_KEY} (monthly allowance at 81 % or more)."
        for code in categories:
            data.fixed_amounts.append(
                (
                    {"category": code, "key": key, "province": None, "effective_from": NCC_TABLE_2024},
                    {
                        "amount": _amount(item["amount"]),
                        "supplement": supplement,
                        "effective_to": None,
                        "legal_basis": NCC_APPENDIX,
                        "source": source,
                        "confidence": _confidence(item.get("confidence", section_confidence)),
                        "note": note,
                    },
                )
            )
    multiples = examples.get("multiples_of_standard") or []
    if multiples:
        _category(
            data,
            "NCC.convalescence",
            "NCC",
            clause="convalescence",
            kind="one_off",
            legal_basis=NCC_APPENDIX,
            source=section_source,
            confidence=section_confidence,
            note="Paid per convalescence, not monthly. Condition: at_home or concentrated.",
        )
        for item in multiples:
            _rule(
                data,
                "NCC.convalescence",
                value=item["multiple"],
                effective_from=NCC_TABLE_2024,
                condition=item["key"].removeprefix("convalescence_"),
                legal_basis=NCC_APPENDIX,
                source=section_source,
                confidence=section_confidence,
            )


def _funeral(doc: dict, data: PolicyData) -> None:
    for item in doc.get("funeral_support") or []:
        code = item["code"]
        programme = "HTXH" if code == "FUNERAL.SOCIAL_PENSION" else "BTXH"
        confidence = _confidence(item.get("confidence"))
        source = item.get("source") or ""
        legal_basis = item.get("legal_basis") or (f"{D20_BASIS} Art. 14" if "ART14" in code else "")
        fixed = "amount" in item
        notes = []
        if item.get("entitled"):
            notes.append("Entitled: " + "; ".join(item["entitled"]))
        if item.get("several_entitlements"):
            notes.append(f"Several entitlements: {item['several_entitlements']}")
        if item.get("note"):
            notes.append(item["note"])
        if item.get("multiple_of_standard_min"):
            notes.append("The national multiple is a minimum; a province may set more.")
        _category(
            data,
            code,
            programme,
            clause="funeral",
            basis="fixed" if fixed else "coefficient",
            kind="one_off",
            legal_basis=legal_basis,
            source=source,
            confidence=confidence,
            note="\n".join(notes),
        )
        start = date(2025, 7, 1) if programme == "HTXH" else D20_START
        if fixed:
            data.fixed_amounts.append(
                (
                    {"category": code, "key": "funeral", "province": None, "effective_from": start},
                    {
                        "amount": _amount(item["amount"]),
                        "supplement": 0,
                        "effective_to": None,
                        "legal_basis": legal_basis,
                        "source": source,
                        "confidence": confidence,
                        "note": "",
                    },
                )
            )
        else:
            _rule(
                data,
                code,
                value=item["multiple_of_standard_min"],
                effective_from=start,
                legal_basis=legal_basis,
                source=source,
                confidence=confidence,
            )
