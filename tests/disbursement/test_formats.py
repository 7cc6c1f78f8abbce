"""The file formats of the disbursement leg (ansinh.disbursement.formats): pain.001.001.09 and
pain.002.001.10 written byte for byte as the golden files, valid against the official schemas,
read back streaming; the errors a bad file gets (Vietnamese, with its line); the provider's XLSX
both ways. No database.

Regenerate the golden files after a deliberate change of the format:
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/disbursement/test_formats.py
"""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ansinh.disbursement.formats import FORMATS, FormatError, pain001, pain002, provider_xlsx, schemas

GOLDEN = Path(__file__).parent / "golden"
VN = timezone(timedelta(hours=7))


@pytest.fixture(autouse=True)
def _vietnamese():
    with translation.override("vi"):
        yield


def golden(name: str, content: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
    assert content == path.read_bytes(), f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept)"


def schema_valid(content: bytes, name: str) -> bool:
    doc = etree.fromstring(content)
    schema = schemas.schema(name)
    ok = schema.validate(doc)
    assert ok, schema.error_log
    return ok


HEADER = pain001.Header(
    message_id="ASXH-202603-0001-01",
    created_at=datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=VN),
    initiating_party="Bưu điện huyện Châu Phú",
    debtor_name="Bưu điện huyện Châu Phú",
    debtor_account="1900 2026 0001",
    debtor_bin="970405",
    requested_date=date(2026, 3, 3),
    payment_info_id="ASXH-202603-0001-01",
)
TRANSFERS = [
    pain001.Transfer(
        "ASXH2603000001", 540000, "Trần Văn Một", "1000200030001", "970405", "Trợ cấp xã hội tháng 03/2026"
    ),
    pain001.Transfer(
        "ASXH2603000002", 1080000, "Lê Thị Hai", "1000 2000 30002", "970436", "Trợ cấp tháng 03/2026 (gồm truy lĩnh)"
    ),
    pain001.Transfer("ASXH2603000003", 360000, "Phạm Văn Ba", "0912345678", "971005", "Hỗ trợ — tháng 03/2026 & nợ cũ"),
]


def pain001_bytes(header=HEADER, transfers=TRANSFERS, **kw) -> bytes:
    out = io.BytesIO()
    count = kw.pop("count", len(transfers))
    total = kw.pop("total", sum(t.amount for t in transfers))
    pain001.write(out, header, transfers, count=count, total=total)
    return out.getvalue()


GROUP = pain002.GroupStatus(
    message_id="NHCSXH-20260303-0001",
    created_at=datetime(2026, 3, 3, 16, 5, 0, tzinfo=VN),
    original_message_id="ASXH-202603-0001-01",
    original_name="pain.001.001.09",
    original_count=3,
    original_total=1980000,
    group_status="PART",
)
STATUSES = [
    pain002.TxStatus("ASXH2603000001", "ACSC", amount=540000),
    pain002.TxStatus("ASXH2603000002", "RJCT", "AC04", 1080000, "Tài khoản đã đóng ngày 01/03/2026"),
    pain002.TxStatus("ASXH2603000003", "PDNG"),
]


def pain002_bytes(group=GROUP, statuses=STATUSES) -> bytes:
    out = io.BytesIO()
    pain002.write(out, group, statuses)
    return out.getvalue()


# ------------------------------------------------------------------------------ the registry


def test_registry_and_error_type():
    assert set(FORMATS) == {"pain.001", "pain.002", "xlsx"}
    assert FORMATS["pain.001"] is pain001 and FORMATS["pain.002"] is pain002 and FORMATS["xlsx"] is provider_xlsx
    assert issubclass(FormatError, ValueError)
    err = FormatError("x", line=3)
    assert (err.line, err.row, str(err)) == (3, None, "x")


def test_schemas_are_the_official_ones(monkeypatch, tmp_path):
    assert schemas.NS["pain.001"] == "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
    assert schemas.NS["pain.002"] == "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"
    assert schemas.schema("pain.001.001.09") is schemas.schema("pain.001.001.09")  # loaded once
    # an edited schema is refused
    original = (schemas.DIRECTORY / "pain.002.001.10.xsd").read_bytes()
    (tmp_path / "pain.002.001.10.xsd").write_bytes(original.replace(b"Max35Text", b"Max35Text ", 1))
    monkeypatch.setattr(schemas, "DIRECTORY", tmp_path)
    schemas.schema.cache_clear()
    try:
        with pytest.raises(RuntimeError):
            schemas.schema("pain.002.001.10")
    finally:
        monkeypatch.undo()
        schemas.schema.cache_clear()


# ------------------------------------------------------------------------------------ pain.001


def test_pain001_golden_and_valid():
    content = pain001_bytes()
    golden("pain001_small.xml", content)
    assert content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="')
    assert schema_valid(content, "pain.001.001.09")
    assert pain001_bytes() == content  # deterministic: a re-export has the same SHA-256
    text = content.decode()
    assert "<CreDtTm>2026-03-02T08:30:15+07:00</CreDtTm>" in text
    assert text.count("<CtrlSum>1980000</CtrlSum>") == 2 and text.count("<NbOfTxs>3</NbOfTxs>") == 2
    assert '<InstdAmt Ccy="VND">540000</InstdAmt>' in text
    assert "<Nm>Tran Van Mot</Nm>" in text and "<Id>1000200030002</Id>" in text
    assert "<Ustrd>Ho tro - thang 03/2026 no cu</Ustrd>" in text
    pain001.validate(content)


def test_pain001_transfers_from_the_template_are_what_lxml_writes(monkeypatch):
    """Transfers whose values need no escaping are written from a template; the file is the same
    byte for byte as when lxml builds and writes every transfer (also where the two alternate:
    a value lxml escapes, no remittance, chunks of the template's writes)."""
    transfers = [
        *TRANSFERS,
        pain001.Transfer("A&B<1>", 5, "Ngô Thị Năm", "12'34", "970405", "Trợ cấp"),
        pain001.Transfer("E2E-6", 6, "  Đặng   Văn  Sáu ", "ACC/6(x)", "970405", ""),
        pain001.Transfer("E2E-7", 7, "O'Brien, Anne-Marie", "7+7?:.,", "970436", "x" * 200),
        pain001.Transfer("E2E-8", 10**15, "Trần Văn Tám", "8888", "971005", "Allowance for 05/2026, Tran Van Tam"),
        pain001.Transfer("E2E-9", 9, "Lý Chín", "DE89 3704 0044 0532 0130 00", "970405", "a\tb\r\nc  d"),
        pain001.Transfer("E2E&10", 10, "Mười", "10<10", "970405", "Tháng 05/2026"),
    ]
    monkeypatch.setattr(pain001, "_RAW_CHUNK", 2)
    fast = pain001_bytes(transfers=transfers)
    monkeypatch.setattr(pain001, "_VERBATIM", re.compile(r"(?!)"))  # never verbatim: lxml writes all
    assert fast == pain001_bytes(transfers=transfers)
    assert schema_valid(fast, "pain.001.001.09")
    assert [t.end_to_end_id for t in pain001.iter_transfers(fast)][3:6] == ["A&B<1>", "E2E-6", "E2E-7"]


def test_pain001_reads_back():
    content = pain001_bytes()
    header = pain001.read_header(io.BytesIO(content))
    assert {k: header[k] for k in ("message_id", "count", "total", "debtor_account")} == {
        "message_id": "ASXH-202603-0001-01",
        "count": 3,
        "total": 1980000,
        "debtor_account": "190020260001",
    }
    transfers = list(pain001.iter_transfers(content))
    assert [t.end_to_end_id for t in transfers] == [t.end_to_end_id for t in TRANSFERS]
    assert transfers[1] == pain001.Transfer(
        "ASXH2603000002", 1080000, "Le Thi Hai", "1000200030002", "970436", "Tro cap thang 03/2026 (gom truy linh)"
    )


def test_pain001_path_and_unseekable_sources(tmp_path):
    content = pain001_bytes()
    path = tmp_path / "order.xml"
    path.write_bytes(content)
    pain001.validate(path)
    pain001.validate(str(path))

    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self.data.readinto(b)

    assert len(list(pain001.iter_transfers(io.BufferedReader(Pipe(content))))) == 3
    bad = content.replace(b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>XXX</PmtMtd>")
    with pytest.raises(FormatError) as info:
        pain001.validate(io.BufferedReader(Pipe(bad)))
    assert info.value.line == content.decode().splitlines().index("      <PmtMtd>TRF</PmtMtd>") + 1


def test_pain001_large_amounts_validate():
    transfers = [
        pain001.Transfer("BIG1", 10**15 - 1, "Nguyễn Văn Lớn", "123", "970405", "x"),
        pain001.Transfer("BIG2", 2_100_000_000, "Đỗ Thị Vừa", "456", "970405", "y"),
        pain001.Transfer("BIG3", 1, "Ông Bé", "789", "970405", ""),
    ]
    total = 10**15 - 1 + 2_100_000_000 + 1
    content = pain001_bytes(transfers=transfers, total=total)
    assert schema_valid(content, "pain.001.001.09")
    assert f"<CtrlSum>{total}</CtrlSum>".encode() in content
    assert b'<InstdAmt Ccy="VND">999999999999999</InstdAmt>' in content
    pain001.validate(content)
    assert pain001.read_header(content)["total"] == total
    assert [t.amount for t in pain001.iter_transfers(content)] == [10**15 - 1, 2_100_000_000, 1]


def test_pain001_write_refuses_what_does_not_add_up():
    with pytest.raises(ValueError, match="lô có 4 giao dịch"):
        pain001_bytes(count=4)
    with pytest.raises(ValueError):
        pain001_bytes(total=1)
    with pytest.raises(ValueError, match="BIN"):
        pain001_bytes(transfers=[pain001.Transfer("E1", 1, "An", "1", "9704", "")])
    with pytest.raises(ValueError):
        pain001_bytes(transfers=[pain001.Transfer("E1", 0, "An", "1", "970405", "")])
    with pytest.raises(ValueError):
        pain001_bytes(transfers=[pain001.Transfer("E" * 36, 1, "An", "1", "970405", "")])
    with pytest.raises(ValueError):
        pain001_bytes(transfers=[pain001.Transfer("E1", 1, "李小龍", "1", "970405", "")])
    naive = pain001.Header(**{**HEADER.__dict__, "created_at": datetime(2026, 3, 2, 8, 30)})
    with pytest.raises(ValueError):
        pain001_bytes(header=naive)


def test_plain_text():
    assert pain001.plain_text("Nguyễn Thị Đào", 140) == "Nguyen Thi Dao"
    assert pain001.plain_text("  ĐỖ   đức  ", 140) == "DO duc"
    assert pain001.plain_text("Trợ cấp T3/2026: 540.000đ (gồm nợ) + 'x' ?", 140) == (
        "Tro cap T3/2026: 540.000d (gom no) + 'x' ?"
    )
    assert pain001.plain_text("a&b_c—d’e\tf\n", 140) == "a b-c-d'e f"
    assert pain001.plain_text("Hồ Chí Minh", 6) == "Ho Chi"
    assert pain001.plain_text("Hồ Chí Minh", 3) == "Ho"  # no trailing space after the cut
    assert pain001.plain_text("", 10) == ""


VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
NAMES = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " ", min_size=1, max_size=160).filter(lambda s: s.strip())
TRANSFER = st.builds(
    pain001.Transfer,
    end_to_end_id=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=35),
    amount=st.integers(min_value=1, max_value=10**15),
    creditor_name=NAMES,
    creditor_account=st.text(alphabet="0123456789", min_size=1, max_size=34),
    creditor_bin=st.from_regex(r"\A[0-9]{6}\Z"),
    remittance=st.text(max_size=200),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transfers=st.lists(TRANSFER, min_size=1, max_size=12, unique_by=lambda t: t.end_to_end_id))
def test_pain001_property_written_files_validate_and_read_back(transfers):
    content = pain001_bytes(transfers=transfers)
    assert schema_valid(content, "pain.001.001.09")
    pain001.validate(content)
    assert list(pain001.iter_transfers(content)) == [
        pain001.Transfer(
            t.end_to_end_id,
            t.amount,
            pain001.plain_text(t.creditor_name, 140),
            t.creditor_account,
            t.creditor_bin,
            pain001.plain_text(t.remittance, 140),
        )
        for t in transfers
    ]
    header = pain001.read_header(content)
    assert (header["count"], header["total"]) == (len(transfers), sum(t.amount for t in transfers))


def test_a_transfer_read_as_another_bank_may_write_it():
    """The reader takes each transfer in one pass over its children: an IBAN instead of another
    identifier, several remittance lines (joined, empty ones left out), an amount with decimals
    of zero and spaces around the texts read as `findtext` would."""
    content = pain001_bytes()
    first = content.index(b"<CdtTrfTxInf>")
    end = content.index(b"</CdtTrfTxInf>", first)
    part = (
        content[first:end]
        .replace(b">540000<", b">540000.00<")
        .replace(
            b"<Othr>\n              <Id>1000200030001</Id>\n            </Othr>", b"<IBAN>VN12ABCD1000200030001</IBAN>"
        )
        .replace(
            b"<Ustrd>Tro cap xa hoi thang 03/2026</Ustrd>",
            b"<Ustrd> Tro cap </Ustrd><Ustrd> </Ustrd><Ustrd>thang 03</Ustrd>",
        )
        .replace(b"<Nm>Tran Van Mot</Nm>", b"<Nm>  Tran Van Mot </Nm>")
    )
    assert part.count(b"IBAN") == 2 and part.count(b"<Ustrd>") == 3
    content = content[:first] + part + content[end:]
    assert schema_valid(content, "pain.001.001.09")
    transfer = next(iter(pain001.iter_transfers(content)))
    assert transfer == pain001.Transfer(
        "ASXH2603000001", 540_000, "Tran Van Mot", "VN12ABCD1000200030001", "970405", "Tro cap thang 03"
    )


def line_of(content: bytes, needle: bytes) -> int:
    return content[: content.index(needle)].count(b"\n") + 1


@pytest.mark.parametrize(
    ("mutate", "needle", "words"),
    [
        (lambda c: c.replace(b"<Dt>2026-03-03</Dt>", b"<Dt>03/03/2026</Dt>"), b"<Dt>", "<Dt>"),
        (lambda c: c.replace(b"<ChrgBr>SLEV</ChrgBr>", b"<Foo>1</Foo>"), b"<Foo>", "<Foo>"),
        (lambda c: c.replace(b'Ccy="VND">1080000', b'Ccy="VND">1080000.5'), b"1080000.5", "không phải số đồng nguyên"),
        (lambda c: c.replace(b'Ccy="VND">360000', b'Ccy="USD">360000'), b'Ccy="USD"', "USD"),
        (lambda c: c.replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>4</NbOfTxs>", 1), b"<NbOfTxs>4", "NbOfTxs"),
        (lambda c: c.replace(b"<CtrlSum>1980000</CtrlSum>", b"<CtrlSum>1980001</CtrlSum>", 1), b"1980001", "CtrlSum"),
        (
            lambda c: c.replace(b"</RmtInf>\n      </CdtTrfTxInf>", b"</RmtInf>\n      </CdtTrfTxInfo>", 1),
            b"</CdtTrfTxInfo>",
            "cú pháp",
        ),
    ],
)
def test_pain001_errors_have_their_line(mutate, needle, words):
    content = mutate(pain001_bytes())
    with pytest.raises(FormatError) as info:
        pain001.validate(content)
    assert info.value.line == line_of(content, needle), str(info.value)
    assert str(info.value).startswith("Tệp không phải lệnh chuyển tiền pain.001.001.09 hợp lệ (dòng ")
    assert words in str(info.value)


def test_pain001_error_far_into_a_large_file_has_its_line():
    transfers = [
        pain001.Transfer(f"E{i:06d}", 100000 + i, "Nguyễn Thị Đào", "0123456789", "970436", "Trợ cấp")
        for i in range(400)
    ]
    content = pain001_bytes(transfers=transfers)
    assert len(content) > 3 * 65536
    for needle in (b"<EndToEndId>E000350</EndToEndId>", b"<EndToEndId>E000399</EndToEndId>"):
        bad = content.replace(needle, needle.replace(b"E0", b"E" * 36))
        with pytest.raises(FormatError) as info:
            pain001.validate(bad)
        assert info.value.line == line_of(content, needle)
    # a missing element at the very end
    bad = content.replace(b"    </PmtInf>\n", b"    </PmtInf>\n    <PmtInf/>\n")
    with pytest.raises(FormatError) as info:
        pain001.validate(bad)
    assert info.value.line == line_of(bad, b"<PmtInf/>")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "tệp rỗng"),
        (b"not xml at all", "cú pháp"),
        (b"<a><b></a>", "loại thông điệp khác (a)"),
        (pain002_bytes(), "loại thông điệp khác (pain.002.001.10)"),
        (pain001_bytes().replace(b"pain.001.001.09", b"pain.001.001.03"), "(pain.001.001.03)"),
        (pain001_bytes()[:-40], "cú pháp"),
        ("<?xml version='1.0'?><Document/>".encode("utf-16"), "UTF-8"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><Document/>', "UTF-8"),
    ],
)
def test_pain001_not_a_transfer_order(content, words):
    with pytest.raises(FormatError) as info:
        pain001.validate(content)
    assert words in str(info.value)
    assert str(info.value).startswith("Tệp không phải lệnh chuyển tiền pain.001.001.09 hợp lệ")


def test_entity_declarations_are_refused_before_parsing():
    """Entity expansion (and lxml 6 crashes on it with a schema): refused without parsing."""
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt><GrpHdr><MsgId>&c;</MsgId>
</GrpHdr></CstmrPmtStsRpt></Document>"""
    with pytest.raises(FormatError, match="DOCTYPE"):
        pain002.Report(bomb)
    with pytest.raises(FormatError, match="DOCTYPE"):
        pain001.validate(bomb.replace(b"pain.002.001.10", b"pain.001.001.09"))


# ------------------------------------------------------------------------------------ pain.002


def test_pain002_golden_valid_and_read_back():
    content = pain002_bytes()
    golden("pain002_small.xml", content)
    assert schema_valid(content, "pain.002.001.10")
    assert pain002_bytes() == content
    with pain002.Report(io.BytesIO(content)) as report:
        assert report.group == GROUP
        assert list(report.transactions()) == STATUSES


def test_pain002_group_only_and_reason_codes():
    group = pain002.GroupStatus(
        message_id="R1",
        created_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        original_message_id="M1",
        original_name="pain.001.001.09",
        original_count=None,
        original_total=None,
        group_status="RJCT",
        reason_code="FF01",
    )
    content = pain002_bytes(group, [])
    assert schema_valid(content, "pain.002.001.10")
    assert b"OrgnlPmtInfAndSts" not in content
    report = pain002.Report(content)
    assert report.group == group
    assert list(report.transactions()) == []
    long_code = [pain002.TxStatus("E1", "RJCT", "BANK-SPECIFIC-17", additional="x" * 300)]
    content = pain002_bytes(group, long_code)
    assert schema_valid(content, "pain.002.001.10")
    (status,) = pain002.Report(content).transactions()
    assert status.reason_code == "BANK-SPECIFIC-17" and status.additional == "x" * 105


def test_pain002_from_another_bank_layout():
    """Statuses as another bank writes them: fractional zeros, a block status, Prtry codes."""
    ns = schemas.NS["pain.002"]
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{ns}"><CstmrPmtStsRpt>
<GrpHdr><MsgId>X1</MsgId><CreDtTm>2026-03-03T10:00:00.123456789Z</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
<OrgnlNbOfTxs>2</OrgnlNbOfTxs><OrgnlCtrlSum>900000.00</OrgnlCtrlSum></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>P1</OrgnlPmtInfId><PmtInfSts>ACSP</PmtInfSts>
<TxInfAndSts><OrgnlEndToEndId>E1</OrgnlEndToEndId>
<OrgnlTxRef><Amt><InstdAmt Ccy="VND">500000.00</InstdAmt></Amt></OrgnlTxRef></TxInfAndSts>
<TxInfAndSts><OrgnlEndToEndId>E2</OrgnlEndToEndId><TxSts>RJCT</TxSts>
<StsRsnInf><Rsn><Prtry>V123</Prtry></Rsn><AddtlInf>Sai ten</AddtlInf><AddtlInf>chu TK</AddtlInf></StsRsnInf>
</TxInfAndSts></OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>
""".encode()
    report = pain002.Report(content)
    assert report.group.original_total == 900000 and report.group.group_status is None
    assert report.group.created_at == datetime(2026, 3, 3, 10, 0, 0, 123456, tzinfo=UTC)
    assert list(report.transactions()) == [
        pain002.TxStatus("E1", "ACSP", amount=500000),
        pain002.TxStatus("E2", "RJCT", "V123", None, "Sai ten chu TK"),
    ]
    with pytest.raises(FormatError) as info:
        list(pain002.Report(content.replace(b"500000.00", b"500000.50")).transactions())
    assert info.value.line == 8 and "không phải số đồng nguyên" in str(info.value)


def test_pain002_read_in_one_pass_as_the_schema_allows():
    """The reader takes each status in one pass over its children: the first reason of several
    StsRsnInf blocks (one without Rsn first), every AddtlInf, an equivalent amount (no
    instructed amount: none), an amount written with spaces around it, the group's status when
    neither the transfer nor its block has one."""
    ns = schemas.NS["pain.002"]
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{ns}"><CstmrPmtStsRpt>
<GrpHdr><MsgId>X2</MsgId><CreDtTm>2026-03-03T10:00:00Z</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>M2</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
<GrpSts>ACCP</GrpSts></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>P1</OrgnlPmtInfId>
<TxInfAndSts><StsId>S1</StsId><OrgnlEndToEndId> E1 </OrgnlEndToEndId><TxSts>RJCT</TxSts>
<StsRsnInf><AddtlInf>Kiem tra</AddtlInf></StsRsnInf>
<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>Tai khoan</AddtlInf><AddtlInf>  </AddtlInf></StsRsnInf>
<StsRsnInf><Rsn><Cd>AM05</Cd></Rsn><AddtlInf>da dong</AddtlInf></StsRsnInf>
<OrgnlTxRef><Amt><EqvtAmt><Amt Ccy="VND">1000</Amt><CcyOfTrf>VND</CcyOfTrf></EqvtAmt></Amt></OrgnlTxRef>
</TxInfAndSts>
<TxInfAndSts><OrgnlEndToEndId>E2</OrgnlEndToEndId>
<OrgnlTxRef><Amt><InstdAmt Ccy="VND"> 300000 </InstdAmt></Amt></OrgnlTxRef></TxInfAndSts>
</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>
""".encode()
    assert schema_valid(content, "pain.002.001.10")
    assert list(pain002.Report(content).records()) == [
        ("E1", "RJCT", "AC04", None, "Kiem tra Tai khoan da dong"),
        ("E2", "ACCP", "", 300000, ""),
    ]


@pytest.mark.parametrize(
    ("mutate", "needle", "words"),
    [
        (lambda c: c.replace(b"<TxSts>PDNG</TxSts>", b"<TxSts>PENDING</TxSts>"), b"PENDING", "<TxSts>"),
        (
            lambda c: c.replace(b"<OrgnlMsgNmId>", b"<OrgnlMsgName>").replace(b"</OrgnlMsgNmId>", b"</OrgnlMsgName>"),
            b"<OrgnlMsgName>",
            "<OrgnlMsgName>",
        ),
        (lambda c: c.replace(b"pain.002.001.10", b"pain.002.001.03"), b"<Document", "pain.002.001.03"),
        (lambda c: c.replace(b'Ccy="VND">1080000', b'Ccy="VND">1080000.1'), b"1080000.1", "đồng nguyên"),
    ],
)
def test_pain002_errors_have_their_line(mutate, needle, words):
    content = mutate(pain002_bytes())
    with pytest.raises(FormatError) as info:
        report = pain002.Report(content)
        list(report.transactions())
    assert info.value.line == line_of(content, needle)
    assert str(info.value).startswith(
        f"Tệp không phải báo cáo trạng thái pain.002.001.10 hợp lệ (dòng {info.value.line}): "
    )
    assert words in str(info.value)


def test_pain002_a_pain001_is_not_a_report():
    with pytest.raises(FormatError, match="loại thông điệp khác"):
        pain002.Report(pain001_bytes())


def test_status_map_and_reasons():
    assert pain002.STATUS_MAP["ACSC"] == pain002.STATUS_MAP["ACCC"] == "credited"
    for code in ("ACCP", "ACSP", "ACTC", "ACWC", "ACWP", "ACFC", "PDNG", "RCVD", "PART"):
        assert pain002.STATUS_MAP[code] == "accepted"
    assert pain002.STATUS_MAP["RJCT"] == "rejected"
    assert pain002.reason_text("AC04") == "tài khoản đã đóng"
    assert pain002.reason_text("ac01") == "số tài khoản không đúng"
    assert pain002.reason_text("AG01") == pain002.reason_text("AG03")
    assert pain002.reason_text("BE01") == "tên chủ tài khoản không khớp"
    assert "ZZ99" in pain002.reason_text("ZZ99")
    assert pain002.reason_text("") == ""


# ------------------------------------------------------------------------------------ XLSX


ROWS = [
    provider_xlsx.AccountRow(
        "ASXH2603000001", "Trần Văn Một", "Phường Châu Phú A", "VBA", "0012 3456", 540000, "Trợ cấp"
    ),
    provider_xlsx.AccountRow(
        "ASXH2603000002", "Lê Thị Hai", "Phường Vĩnh Mỹ", "MOMO", "0912345678", 10**15 - 1, "Trợ cấp"
    ),
]


def test_account_list():
    out = io.BytesIO()
    total = 540000 + 10**15 - 1
    provider_xlsx.write_account_list(
        out,
        title_lines=["BƯU ĐIỆN HUYỆN CHÂU PHÚ", "Chuyển khoản trợ cấp tháng 03/2026", "Lô ASXH-1"],
        rows=ROWS,
        count=2,
        total=total,
    )
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "BƯU ĐIỆN HUYỆN CHÂU PHÚ" and rows[1][0] == "Chuyển khoản trợ cấp tháng 03/2026"
    header = rows[4]
    assert header == [
        "STT",
        "Mã giao dịch",
        "Người nhận",
        "Xã/phường",
        "Ngân hàng/ví điện tử",
        "Số tài khoản",
        "Số tiền (đồng)",
        "Nội dung",
    ]
    assert rows[5] == [1, "ASXH2603000001", "Trần Văn Một", "Phường Châu Phú A", "VBA", "00123456", 540000, "Trợ cấp"]
    assert rows[6][5] == "0912345678" and rows[6][6] == 10**15 - 1
    assert rows[7][1] == "Tổng cộng" and rows[7][6] == total
    assert any(len(r) > 1 and "Tổng cộng: 2 giao dịch" in str(r[1]) for r in rows[8:])
    with pytest.raises(ValueError):
        provider_xlsx.write_account_list(io.BytesIO(), title_lines=[], rows=ROWS, count=3, total=total)


def test_results_template_round_trip():
    out = io.BytesIO()
    provider_xlsx.write_results_template(out, STATUSES, title_lines=["KẾT QUẢ CHUYỂN KHOẢN"])
    statuses, errors = provider_xlsx.read_results(out.getvalue())
    assert errors == []
    assert statuses == STATUSES
    blank = io.BytesIO()
    provider_xlsx.write_results_template(blank, ROWS)
    blank.seek(0)
    statuses, errors = provider_xlsx.read_results(blank)
    assert statuses == [] and [e.row for e in errors] == [2, 3]
    assert list(provider_xlsx.RESULT_HEADERS) == ["Mã giao dịch", "Kết quả", "Mã lý do", "Lý do", "Số tiền (đồng)"]


def test_results_with_bad_rows(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["NGÂN HÀNG CHÍNH SÁCH XÃ HỘI"])
    ws.append(["Kết quả chuyển khoản lô ASXH-1"])
    ws.append([])
    ws.append(["STT", "MA GIAO DICH", "Kết quả:", "Mã lý do", "Lý do", "Số tiền"])  # row 4
    ws.append([1, "E1", "Thành công", None, None, 540000])
    ws.append([2, "E2", "đã ghi có", None, None, "1.080.000 đ"])
    ws.append([3, "E3", "TỪ CHỐI", "ac04", "Tài khoản đã đóng", 360000.0])
    ws.append([4, "E4", "Đang xử lý", None, None, None])
    ws.append([5, None, "Thất bại", "AC01", None, 1])  # no id
    ws.append([6, "E6", "Không rõ", None, None, 1])  # unknown result
    ws.append([7, "E7", "Thất bại", None, None, "12,5"])  # unreadable amount
    ws.append([8, "E8", None, None, None, 1])  # no result
    ws.append([9, "E9", "RJCT", "NARR", "Khác", 1])
    ws.append([])
    ws.append([None, "Tổng cộng", None, None, None, 1980000])
    path = tmp_path / "ket-qua.xlsx"
    wb.save(path)
    statuses, errors = provider_xlsx.read_results(path)
    assert statuses == [
        pain002.TxStatus("E1", "ACSC", "", 540000, ""),
        pain002.TxStatus("E2", "ACSC", "", 1080000, ""),
        pain002.TxStatus("E3", "RJCT", "AC04", 360000, "Tài khoản đã đóng"),
        pain002.TxStatus("E4", "PDNG", "", None, ""),
        pain002.TxStatus("E9", "RJCT", "NARR", 1, "Khác"),
    ]
    assert [e.row for e in errors] == [9, 10, 11, 12]
    assert all(isinstance(e, FormatError) and str(e).startswith(f"Dòng {e.row}: ") for e in errors)
    assert "Không rõ" in str(errors[1]) and "12,5" in str(errors[2])


def test_results_without_header_or_not_a_workbook():
    wb = openpyxl.Workbook()
    wb.active.append(["Mã", "Trạng thái?"])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(FormatError, match="Mã giao dịch"):
        provider_xlsx.read_results(out.getvalue())
    with pytest.raises(FormatError):
        provider_xlsx.read_results(b"this is not a workbook")
