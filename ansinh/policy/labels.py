"""What a person reads for the keys of the policy data: the conditions of coefficient rules
("severe:adult"), the keys of fixed amounts ("war_invalid_100pct") and the units counted
("child_being_raised"). The keys stay in the data and in the payroll; pages, forms, exports and
the import template show these names, and the importer takes them back (`condition_of`)."""

from __future__ import annotations

from django.utils.translation import override, pgettext_lazy

from ansinh.core.text import search_key

# the parts of a condition key, joined by ":" (policy.yaml: "<disability>:<group>", or a form
# of convalescence)
CONDITION_WORDS = {
    "extremely_severe": pgettext_lazy("coefficient condition", "extremely severe disability"),
    "severe": pgettext_lazy("coefficient condition", "severe disability"),
    "adult": pgettext_lazy("coefficient condition", "aged 16 to 59"),
    "child_or_elderly": pgettext_lazy("coefficient condition", "child under 16 or aged 60 and over"),
    "at_home": pgettext_lazy("coefficient condition", "at home"),
    "concentrated": pgettext_lazy("coefficient condition", "at a convalescence centre"),
}

FIXED_KEY_NAMES = {
    "activist_1945_to_uprising": pgettext_lazy(
        "fixed amount", "revolutionary activist from 1 January 1945 to the August 1945 uprising"
    ),
    "relative_of_1_martyr": pgettext_lazy("fixed amount", "relative of one martyr"),
    "relative_of_2_martyrs": pgettext_lazy("fixed amount", "relative of two martyrs"),
    "relative_of_3plus_martyrs": pgettext_lazy("fixed amount", "relative of three or more martyrs"),
    "heroic_mother_allowance": pgettext_lazy("fixed amount", "Heroic Vietnamese Mother allowance"),
    "armed_forces_or_labour_hero_resistance": pgettext_lazy(
        "fixed amount", "Hero of the People's Armed Forces or Labour Hero of the resistance"
    ),
    "imprisoned_by_enemy": pgettext_lazy("fixed amount", "imprisoned or exiled by the enemy"),
    "war_invalid_81pct": pgettext_lazy("fixed amount", "war invalid, working capacity reduced by 81 per cent"),
    "war_invalid_100pct": pgettext_lazy("fixed amount", "war invalid, working capacity reduced by 100 per cent"),
    "funeral": pgettext_lazy("fixed amount", "funeral support"),
}

UNIT_NAMES = {
    "child_being_raised": pgettext_lazy("units counted", "children being raised"),
    "person_taken_in": pgettext_lazy("units counted", "persons taken in"),
}


def _words(key: str) -> str:
    return key.replace("_", " ")


def condition_label(condition: str) -> str:
    """'severe:adult' -> 'khuyết tật nặng, từ 16 đến dưới 60 tuổi'."""
    if not condition:
        return ""
    return ", ".join(str(CONDITION_WORDS.get(part, _words(part))) for part in condition.split(":"))


def fixed_key_label(key: str) -> str:
    return str(FIXED_KEY_NAMES.get(key, _words(key))) if key else ""


def unit_label(per_unit: str) -> str:
    return str(UNIT_NAMES.get(per_unit, _words(per_unit))) if per_unit else ""


def condition_of(typed: str, conditions) -> str:
    """The condition key a person typed: the key itself ('severe:adult', the old template's
    value) or its name in Vietnamese or English, ignoring accents, case and spaces. A text that
    names no known condition comes back as typed (the registry's validation then rejects it)."""
    text = (typed or "").strip()
    if not text:
        return ""
    wanted = search_key(text).replace(" ", "")
    for condition in conditions:
        names = {condition}
        for language in ("vi", "en"):
            with override(language):
                names.add(condition_label(condition))
        if wanted in {search_key(n).replace(" ", "") for n in names}:
            return condition
    return text
