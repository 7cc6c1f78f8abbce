"""The sandbox provider: answers an exported batch file with the results file a bank would send,
deterministically from a seed, so that the demo and the tests run the whole loop. No bank is
involved and the account numbers exist nowhere.

Per request (a hash of the seed and the request code decides):
- no phone number in the file → rejected, "Thiếu số điện thoại";
- about 8 in 100 → rejected, the CCCD does not match the population database;
- about 5 in 100 → opened, but the bank dropped the middle name (a weak name match, to review);
- about 1 in 7 of the rest → opened, the name in another word order (still a full match);
- the rest → opened, the name upper case without diacritics, as banks print it.
Account numbers have the institution's longest length up to 12 digits."""

from __future__ import annotations

import hashlib
from datetime import date

from django.conf import settings
from django.utils import timezone

from ansinh.core.exporter import TitleBlock, to_xlsx
from ansinh.core.text import search_key
from ansinh.payments.names import bank_form
from ansinh.registry.importing import _text

from .models import OpeningBatch
from .results_file import HEADERS

DEFAULT_SEED = "ansinh-sandbox"
REJECT_CCCD = "Số CCCD không khớp với Cơ sở dữ liệu quốc gia về dân cư"
REJECT_PHONE = "Thiếu số điện thoại"
OPENED = "Đã mở"
REJECTED = "Từ chối"
RESULT_HEADERS = [HEADERS[k] for k in ("code", "holder_name", "result", "number", "opened_on", "reason")]


def enabled() -> bool:
    return getattr(settings, "ANSINH_OPENINGS_PROVIDER", "sandbox") == "sandbox"


def _bucket(seed: str, code: str, salt: str = "") -> int:
    return int(hashlib.sha256(f"{seed}:{salt}:{code}".encode()).hexdigest()[:12], 16)


def _sent_rows(content: bytes) -> list[dict]:
    """The rows of an exported batch file: {code, name, phone} (header found under the title)."""
    import tempfile
    from pathlib import Path

    from ansinh.registry.importing import _xlsx_rows

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        Path(tmp.name).write_bytes(content)
        rows = list(_xlsx_rows(tmp.name))
    for i, cells in enumerate(rows):
        keys = [search_key(_text(c)) for c in cells]
        if "ma yeu cau" in keys:
            col = {k: j for j, k in enumerate(keys)}
            out = []
            for values in rows[i + 1 :]:

                def cell(key: str, values=values, col=col) -> str:
                    j = col.get(key)
                    return _text(values[j]) if j is not None and j < len(values) else ""

                if cell("ma yeu cau"):
                    out.append({"code": cell("ma yeu cau"), "name": cell("ho va ten"), "phone": cell("so dien thoai")})
            return out
    return []


def _account_number(seed: str, code: str, length: int) -> str:
    digits = str(_bucket(seed, code, "number")).rjust(length, "7")
    return ("1" + digits)[:length]


def answer(content: bytes, *, seed: str = DEFAULT_SEED, length: int = 12, today: date | None = None) -> bytes:
    """The results file (XLSX) for an exported batch file."""
    day = today or timezone.localdate()
    out = []
    for row in _sent_rows(content):
        code, name = row["code"], row["name"]
        b = _bucket(seed, code) % 100
        if not row["phone"]:
            out.append([code, "", REJECTED, "", "", REJECT_PHONE])
        elif b < 8:
            out.append([code, "", REJECTED, "", "", REJECT_CCCD])
        else:
            holder = bank_form(name)
            words = holder.split()
            if b < 13 and len(words) > 2:
                holder = " ".join([words[0], *words[2:]])  # the middle name dropped
            elif b % 7 == 0 and len(words) > 1:
                holder = " ".join([words[-1], *words[:-1]])  # given name first
            out.append([code, holder, OPENED, _account_number(seed, code, length), day.strftime("%d/%m/%Y"), ""])
    heading = TitleBlock(unit="NGÂN HÀNG (HỘP CÁT)", title="KẾT QUẢ MỞ TÀI KHOẢN NHẬN TRỢ CẤP").dated(day)
    return to_xlsx(title="Ket qua", headers=RESULT_HEADERS, rows=out, heading=heading)


def answer_batch(batch: OpeningBatch, *, seed: str = DEFAULT_SEED, today: date | None = None) -> tuple[str, bytes]:
    """(file name, content) of the sandbox's results for a batch."""
    inst = batch.institution
    length = max(inst.number_min_length, min(12, inst.number_max_length))
    content = answer(bytes(batch.content), seed=seed, length=length, today=today)
    return f"ket-qua-{batch.file_name}", content
