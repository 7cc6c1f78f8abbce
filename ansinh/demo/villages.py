"""Demo villages: 4–10 per commune, created through `ansinh.areas.services.create_village` (so
they follow its rules: village level, parent commune, same tree and validity, unique name key,
path computed by `Area.save`, one audit event each).

Names are invented: wards get numbered "Khóm 1", "Khóm 2" … or "Khóm Vĩnh Đông 1"-style names,
rural communes "Ấp" with plausible Mekong-delta names ("Ấp Vĩnh Thành", "Ấp An Hòa"); in
provinces outside the South, "Tổ dân phố" and "Thôn". ("Tổ" alone is a neighbourhood group
inside an ấp, not a village kind: the registry's addresses use it.)
"""

from __future__ import annotations

import random

from ansinh.areas.models import Area, Level
from ansinh.areas.services import create_village
from ansinh.core.text import search_key

URBAN_TYPES = ("Phường", "Thị trấn")

NAME_HEADS = ("Vĩnh", "An", "Tân", "Phước", "Hòa", "Bình", "Long", "Mỹ", "Thạnh", "Phú", "Hưng", "Đông", "Tây")
NAME_TAILS = (
    "Thành",
    "Hòa",
    "Long",
    "Phú",
    "Lợi",
    "Hưng",
    "Đông",
    "Tây",
    "An",
    "Thạnh",
    "Bình",
    "Quới",
    "Phước",
    "Tiến",
    "Hiệp",
    "Khánh",
    "Thới",
    "Trung",
    "Xuân",
    "Lộc",
)
# Khmer-derived hamlet names of the Bảy Núi area, as written in Vietnamese (plausible, not a list
# of real hamlets).
KHMER_PLACES = ("Sóc Tức", "Tà Lọt", "Phnôm Pi", "Srây Skốt", "Tà Miệt", "Vồ Đầu", "Sà Lôn", "Ô Tà Sóc", "Chọt Sa")


def is_south(province_code: str) -> bool:
    """Provinces from Bình Phước / Tây Ninh southwards (codes ≥ 70 in both trees) say khóm/ấp."""
    return province_code.isdigit() and int(province_code) >= 70


def kind_for(commune: Area, *, south: bool) -> str:
    urban = commune.division_type in URBAN_TYPES
    if south:
        return "Khóm" if urban else "Ấp"
    return "Tổ dân phố" if urban else "Thôn"


def plan_names(rng: random.Random, *, kind: str, count: int, khmer_places: bool = False) -> list[str]:
    """`count` distinct village names (without the kind word) for one commune."""
    if kind in ("Khóm", "Tổ dân phố", "Thôn") and (kind != "Khóm" or rng.random() < 0.6):
        return [str(i) for i in range(1, count + 1)]
    names: list[str] = []
    if kind == "Khóm":  # "Khóm Châu Long 1", "Khóm Châu Long 2" …
        heads = rng.sample(NAME_HEADS, 2)
        tails = rng.sample(NAME_TAILS, 2)
        bases = [f"{heads[0]} {tails[0]}", f"{heads[1]} {tails[1]}"]
        per_base = (count + 1) // 2
        names = [f"{base} {i}" for base in bases for i in range(1, per_base + 1)][:count]
        return names
    seen: set[str] = set()
    pool = list(KHMER_PLACES) if khmer_places else []
    rng.shuffle(pool)
    while len(names) < count:
        name = pool.pop() if pool and rng.random() < 0.4 else f"{rng.choice(NAME_HEADS)} {rng.choice(NAME_TAILS)}"
        key = search_key(name)
        if key in seen or name.split(" ")[0] == name.split(" ")[-1]:
            continue
        seen.add(key)
        names.append(name)
    return names


def ensure_villages(
    *, communes: list[Area], seed: str, province_code: str, khmer_places: bool = False
) -> dict[int, list[Area]]:
    """Villages per commune id. A commune that already has villages keeps them (and gets no
    new ones), so a re-run creates nothing. Call inside a transaction."""
    south = is_south(province_code)
    by_commune: dict[int, list[Area]] = {c.pk: [] for c in communes}
    for village in Area.objects.filter(level=Level.VILLAGE, parent_id__in=list(by_commune)).order_by("name_key"):
        by_commune[village.parent_id].append(village)
    for commune in communes:
        if by_commune[commune.pk]:
            continue
        rng = random.Random(f"{seed}:villages:{commune.tree}:{commune.code}")
        kind = kind_for(commune, south=south)
        count = rng.randint(4, 10)
        rural = commune.division_type not in URBAN_TYPES
        names = plan_names(rng, kind=kind, count=count, khmer_places=khmer_places and rural)
        by_commune[commune.pk] = [
            create_village(actor=None, commune=commune, name=f"{kind} {name}", kind=kind) for name in names
        ]
    return by_commune
