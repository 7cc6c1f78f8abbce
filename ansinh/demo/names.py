"""Invented but realistic names for the demo registry, as commune offices in An Giang write them.

- Kinh names: family name (weighted roughly as in the Mekong delta: Nguyễn about a third, then
  Trần, Lê, Phạm, Huỳnh, Võ …), a middle name that depends on gender and generation (Văn/Thị
  for most older people, more varied for younger ones), sometimes a second middle name, and a
  given name; older people in the South are often called by their birth order (Út, Tư, Sáu …).
- Khmer names as written in Vietnamese in An Giang: "Chau" for men and "Néang" for women in
  front of one to three Khmer syllables ("Chau Sóc Kha", "Néang Sa Rây"); some families use
  Thạch, Danh, Sơn, Kim, Lâm … instead.
- Chăm names (Muslim Chăm communities along the Hậu river): Arabic-origin names written in
  Vietnamese syllables ("Mohamad Sa Ly", "Ha Li Mah").

Every name is a random combination of common parts; none is taken from a real person.
Output is already in the form `normalize_name` produces (NFC, each word capitalised).
"""

from __future__ import annotations

import random
from itertools import accumulate

from ansinh.registry.models import Gender


class Weighted:
    """A list of choices with weights, drawn with one bisect (fast for millions of draws)."""

    def __init__(self, pairs: list[tuple[str, float]]):
        self.values = [v for v, _w in pairs]
        self.cum = list(accumulate(w for _v, w in pairs))

    def __call__(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum, k=1)[0]


KINH_FAMILY = Weighted(
    [
        ("Nguyễn", 31),
        ("Trần", 11),
        ("Lê", 9.5),
        ("Phạm", 5.5),
        ("Huỳnh", 5),
        ("Võ", 4.5),
        ("Phan", 4),
        ("Trương", 2),
        ("Đặng", 2),
        ("Bùi", 1.5),
        ("Đỗ", 1.5),
        ("Hồ", 1.5),
        ("Ngô", 1.3),
        ("Dương", 1.1),
        ("Lý", 1),
        ("Lâm", 0.9),
        ("Châu", 0.8),
        ("Đoàn", 0.6),
        ("Đinh", 0.5),
        ("Tô", 0.5),
        ("Mai", 0.5),
        ("Cao", 0.5),
        ("Lương", 0.4),
        ("Thái", 0.3),
        ("Quách", 0.3),
        ("Lưu", 0.3),
        ("La", 0.3),
        ("Tạ", 0.2),
        ("Văn", 0.2),
        ("Kha", 0.2),
    ]
)

# Middle names: (older generation, younger generation) per gender.
KINH_MIDDLE = {
    (Gender.MALE, False): Weighted(
        [
            ("Văn", 70),
            ("Minh", 5),
            ("Hữu", 5),
            ("Thanh", 4),
            ("Quốc", 3),
            ("Công", 3),
            ("Đức", 2),
            ("Hoàng", 2),
            ("Tấn", 3),
            ("Phước", 2),
            ("Ngọc", 1),
        ]
    ),
    (Gender.FEMALE, False): Weighted(
        [
            ("Thị", 85),
            ("Ngọc", 4),
            ("Kim", 4),
            ("Thanh", 2),
            ("Mỹ", 2),
            ("Thu", 1),
            ("Hồng", 1),
            ("Bích", 1),
        ]
    ),
    (Gender.MALE, True): Weighted(
        [
            ("Văn", 30),
            ("Minh", 14),
            ("Hoàng", 8),
            ("Quốc", 8),
            ("Gia", 7),
            ("Thanh", 6),
            ("Tấn", 5),
            ("Anh", 5),
            ("Đức", 5),
            ("Hữu", 4),
            ("Bảo", 4),
            ("Trung", 4),
        ]
    ),
    (Gender.FEMALE, True): Weighted(
        [
            ("Thị", 35),
            ("Ngọc", 14),
            ("Kim", 7),
            ("Bảo", 6),
            ("Thanh", 6),
            ("Mỹ", 6),
            ("Thảo", 5),
            ("Như", 5),
            ("Khánh", 5),
            ("Thùy", 5),
            ("Phương", 6),
        ]
    ),
}

KINH_GIVEN = {
    (Gender.MALE, False): Weighted(
        [
            (n, 1)
            for n in (
                "Hùng",
                "Dũng",
                "Tuấn",
                "Minh",
                "Hải",
                "Sơn",
                "Phúc",
                "Tâm",
                "Tài",
                "Lộc",
                "Thành",
                "Hòa",
                "Bình",
                "Hiếu",
                "Nghĩa",
                "Trung",
                "Phước",
                "Thắng",
                "Long",
                "Quang",
                "Khánh",
                "Nam",
                "Tùng",
                "Vinh",
                "Đức",
                "Hậu",
                "Hưng",
                "Toàn",
                "Tín",
                "Nhân",
                "Thiện",
                "Sang",
                "Tú",
                "Mến",
                "Chiến",
                "Lâm",
                "Lực",
                "Thọ",
                "Trí",
                "Danh",
                "Kiệt",
                "Đông",
                "Tây",
                "Được",
                "Hên",
            )
        ]
        + [("Út", 3), ("Tư", 3), ("Năm", 3), ("Sáu", 3), ("Bảy", 2), ("Tám", 2), ("Chín", 2), ("Mười", 2), ("Ba", 2)]
    ),
    (Gender.FEMALE, False): Weighted(
        [
            (n, 1)
            for n in (
                "Lan",
                "Hoa",
                "Hồng",
                "Mai",
                "Cúc",
                "Hạnh",
                "Nga",
                "Tuyết",
                "Hương",
                "Thu",
                "Loan",
                "Phượng",
                "Yến",
                "Nhung",
                "Trang",
                "Thảo",
                "Linh",
                "Ngân",
                "Vân",
                "Hà",
                "Diệu",
                "Xuân",
                "Liên",
                "Dung",
                "Nương",
                "Lệ",
                "Huệ",
                "Muội",
                "Gấm",
                "Sen",
                "Đào",
                "Lài",
                "Lựu",
                "Thơm",
                "Ngọt",
                "Phấn",
                "Kiều",
                "Nhàn",
                "Hiền",
                "Thắm",
                "Mận",
                "Bông",
                "Điệp",
            )
        ]
        + [("Út", 4), ("Tư", 2), ("Năm", 2), ("Sáu", 2), ("Bảy", 2), ("Tám", 2), ("Chín", 1), ("Mười", 2), ("Hai", 1)]
    ),
    (Gender.MALE, True): Weighted(
        [
            (n, 1)
            for n in (
                "Khang",
                "Huy",
                "Bảo",
                "Phát",
                "Khôi",
                "Kiệt",
                "Thịnh",
                "Duy",
                "Hào",
                "Nguyên",
                "Đạt",
                "Tiến",
                "Lợi",
                "Khoa",
                "Phong",
                "Tuấn",
                "Minh",
                "Nhân",
                "Thiện",
                "Trọng",
                "Hiếu",
                "Luân",
                "Vũ",
                "Tín",
                "Thái",
                "Quân",
                "Hưng",
                "An",
                "Toàn",
                "Tú",
                "Lộc",
                "Tài",
                "Hậu",
                "Vinh",
                "Nam",
                "Nhật",
            )
        ]
    ),
    (Gender.FEMALE, True): Weighted(
        [
            (n, 1)
            for n in (
                "Vy",
                "Anh",
                "Hân",
                "Nhi",
                "Trâm",
                "Quyên",
                "Tiên",
                "My",
                "Uyên",
                "Thư",
                "Ngân",
                "Trinh",
                "Thảo",
                "Linh",
                "Như",
                "Huyền",
                "Diễm",
                "Hằng",
                "Ly",
                "Trúc",
                "Thy",
                "Phương",
                "Yến",
                "Ngọc",
                "Hương",
                "Giang",
                "Xuân",
                "Nhung",
                "Tuyền",
                "Duyên",
                "Kiều",
                "Mai",
                "Vân",
                "Hà",
                "Châu",
            )
        ]
    ),
}

# Khmer syllables as written in Vietnamese (invented combinations of common syllables).
KHMER_MALE_SYLLABLES = (
    "Sóc",
    "Kha",
    "Phol",
    "Khên",
    "Ty",
    "Sây",
    "Kol",
    "Hênh",
    "Sang",
    "Đa",
    "Rết",
    "Phia",
    "Thi",
    "Sươl",
    "Rinh",
    "Pho",
    "Chanh",
    "Phi",
    "Sam",
    "Nhal",
    "Sa",
    "Buôl",
    "Som",
    "Khum",
    "Ri",
    "Thul",
    "Na",
    "Pha",
    "Sen",
    "Sô",
    "Ro",
    "Kim",
    "Mony",
)
KHMER_FEMALE_SYLLABLES = (
    "Sa",
    "Rây",
    "Phia",
    "Ty",
    "Rươne",
    "Ni",
    "Ri",
    "Vy",
    "Kim",
    "Sóc",
    "Na",
    "Thi",
    "Mêch",
    "Phal",
    "Sô",
    "Phon",
    "Đa",
    "Ra",
    "Chanh",
    "Thy",
    "Sây",
    "Ly",
    "Rết",
    "Neo",
    "Mol",
    "Hoa",
)
KHMER_OTHER_FAMILY = Weighted(
    [
        ("Thạch", 4),
        ("Danh", 3),
        ("Sơn", 3),
        ("Kim", 2),
        ("Lâm", 2),
        ("Lý", 1),
        ("Trần", 1),
    ]
)

CHAM_MALE = (
    "Mohamad",
    "Ma Ri",
    "Sa Ly",
    "Mu Sa",
    "Ha Ri",
    "Ka Rim",
    "Y Sa",
    "Ma Sếch",
    "Mách",
    "Ro Sên",
    "Sa Mách",
    "Ha Sanh",
    "Ti Ly",
    "Y Ah",
    "Su Li Man",
    "Ab Đul",
)
CHAM_FEMALE = (
    "Ma Ri Dah",
    "Ha Li Mah",
    "Sa Ri Dah",
    "Ro Ky Ah",
    "Fa Ti Mah",
    "Sa Phi Yah",
    "Ni Sah",
    "Ma Ry Am",
    "Ha Wa",
    "Ai Sah",
    "Ka Di Jah",
    "Ru Ki Yah",
    "Sa Mah",
    "Ha Sa Nah",
)


def kinh_name(rng: random.Random, gender: str, birth_year: int, family: str | None = None) -> str:
    young = birth_year >= 1985
    family = family or KINH_FAMILY(rng)
    middle = KINH_MIDDLE[(gender, young)](rng)
    given = KINH_GIVEN[(gender, young)](rng)
    parts = [family, middle]
    if young and rng.random() < 0.25:  # "Nguyễn Thị Ngọc Hân", "Trần Minh Gia Huy"
        second = KINH_MIDDLE[(gender, True)](rng)
        if second not in (middle, "Văn", "Thị", given):
            parts.append(second)
    if given == middle:
        given = KINH_GIVEN[(gender, young)](rng)
    parts.append(given)
    return " ".join(parts)


def khmer_name(rng: random.Random, gender: str, family: str | None = None) -> str:
    syllables = KHMER_MALE_SYLLABLES if gender == Gender.MALE else KHMER_FEMALE_SYLLABLES
    count = rng.choices((1, 2, 3), weights=(3, 6, 1))[0]
    given = " ".join(rng.sample(syllables, count))
    if family is None:
        if rng.random() < 0.75:
            family = "Chau" if gender == Gender.MALE else "Néang"
        else:
            family = KHMER_OTHER_FAMILY(rng)
            if gender == Gender.FEMALE and rng.random() < 0.5:
                family += " Thị"
    return f"{family} {given}"


def cham_name(rng: random.Random, gender: str) -> str:
    if gender == Gender.MALE:
        first, second = rng.sample(CHAM_MALE, 2)
        return f"{first} {second}"
    return rng.choice(CHAM_FEMALE)


def family_of(full_name: str) -> str:
    """The family part a relative would share ("Chau"/"Néang" are not family names)."""
    first = full_name.split(" ", 1)[0]
    return "" if first in ("Chau", "Néang") else first


def person_name(rng: random.Random, *, gender: str, birth_year: int, ethnicity: str, family: str = "") -> str:
    if ethnicity == "Khmer":
        return khmer_name(rng, gender, family or None)
    if ethnicity == "Chăm":
        return cham_name(rng, gender)
    return kinh_name(rng, gender, birth_year, family or None)
