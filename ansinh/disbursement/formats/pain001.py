"""ISO 20022 pain.001.001.09 (CustomerCreditTransferInitiationV09): the transfer order the
system hands to the paying bank. One group header, one payment information block (the provider's
funded account, one requested execution date) and one credit transfer per instruction:

    GrpHdr: MsgId, CreDtTm, NbOfTxs, CtrlSum, InitgPty/Nm
    PmtInf: PmtInfId, PmtMtd TRF, BtchBookg true, NbOfTxs, CtrlSum, ReqdExctnDt/Dt, Dbtr/Nm,
            DbtrAcct/Id/Othr/Id, DbtrAgt/FinInstnId/ClrSysMmbId/MmbId (NAPAS BIN), ChrgBr SLEV
    CdtTrfTxInf: PmtId/EndToEndId, Amt/InstdAmt Ccy=VND, CdtrAgt/…/MmbId (BIN), Cdtr/Nm,
            CdtrAcct/Id/Othr/Id, RmtInf/Ustrd

Amounts are whole đồng written without decimals (VND has no minor unit); the schema's decimal
allows 18 digits, so any amount and total the database holds (BigIntegerField) fits. Names and
remittance are reduced to the SWIFT Latin character set (`plain_text`), as Vietnamese interbank
transfers carry them. The file is written incrementally (never a whole tree in memory) and is
the same byte for byte for the same input, so a re-export has the same SHA-256; every reader
here streams and validates against the official schema as it goes."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from lxml import etree

from ansinh.core.text import strip_accents

from . import _xml
from ._xml import APART_FROM, spare_cpu
from .errors import FormatError
from .schemas import NS

SCHEMA = "pain.001.001.09"
NAMESPACE = NS["pain.001"]
CURRENCY = "VND"
NAME_LIMIT = 140
REMITTANCE_LIMIT = 140
MAX_AMOUNT = 10**18 - 1  # 18 digits: the schema's totalDigits

_Q = f"{{{NAMESPACE}}}"
_BIN = re.compile(r"[0-9]{6}")
_RECORDS = frozenset({_Q + "CdtTrfTxInf"})
_TAGS = [_Q + "CdtTrfTxInf", _Q + "PmtInf"]  # what the validating subprocess follows (and releases)


@dataclass(frozen=True)
class Header:
    message_id: str  # <= 35
    created_at: datetime  # aware
    initiating_party: str  # who initiates (the provider / paying unit)
    debtor_name: str
    debtor_account: str  # the provider's funded account number (Othr/Id)
    debtor_bin: str  # the debtor bank's NAPAS BIN (6 digits)
    requested_date: date  # ReqdExctnDt/Dt
    payment_info_id: str  # <= 35


@dataclass(frozen=True)
class Transfer:
    end_to_end_id: str
    amount: int
    creditor_name: str
    creditor_account: str
    creditor_bin: str
    remittance: str


# ------------------------------------------------------------------------------- plain text

# Typographic punctuation people paste into names, mapped to its Latin-set equivalent.
_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "`": "'", "–": "-", "—": "-", "_": "-"})
_NOT_LATIN = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]+")


# text already in that set, single-spaced, without a space at either end: plain_text leaves it
# as it is (the names and remittances of instructions, which were made plain when built)
_PLAIN = re.compile(r"[A-Za-z0-9/\-?:().,'+]+(?: [A-Za-z0-9/\-?:().,'+]+)*")


def plain_text(text: str, limit: int) -> str:
    """`text` in the SWIFT/ISO Latin character set (A-Z a-z 0-9 space / - ? : ( ) . , ' +):
    Vietnamese diacritics stripped (đ→d, Đ→D), any other character a space, spaces collapsed,
    cut to `limit` characters. 'Nguyễn Thị Đào' -> 'Nguyen Thi Dao'."""
    if text and len(text) <= limit and _PLAIN.fullmatch(text):
        return text
    value = strip_accents(unicodedata.normalize("NFKC", text or "")).translate(_PUNCTUATION)
    value = " ".join(_NOT_LATIN.sub(" ", value).split())
    return value[:limit].rstrip()


# ---------------------------------------------------------------------------------- writing


def _identifier(value: str, what: str, limit: int = 35) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise ValueError(
            _("The %(what)s “%(value)s” must have 1 to %(limit)d characters.")
            % {"what": what, "value": value, "limit": limit}
        )
    return value


def _account(value: str) -> str:
    number = "".join((value or "").split())
    if not number or len(number) > 34:
        raise ValueError(_("The account number “%(number)s” must have 1 to 34 characters.") % {"number": number})
    return number


def _bank_bin(value: str) -> str:
    if not _BIN.fullmatch(value or ""):
        raise ValueError(_("The bank code “%(bin)s” is not a NAPAS BIN (6 digits).") % {"bin": value})
    return value


def _amount(value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_AMOUNT:
        raise ValueError(_("The amount %(amount)s is not a positive whole number of đồng.") % {"amount": value})
    return str(value)


def _name(value: str) -> str:
    name = plain_text(value, NAME_LIMIT)
    if not name:
        raise ValueError(_("The name “%(name)s” has no letter that a bank transfer can carry.") % {"name": value})
    return name


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(_("The time of the message must carry its time zone."))
    return value.replace(microsecond=0).isoformat(timespec="seconds")


def _agent(w: _xml.Writer, tag: str, bank_bin: str) -> None:
    with w.node(tag), w.node("FinInstnId"), w.node("ClrSysMmbId"):
        w.leaf("MmbId", bank_bin)


def _cash_account(w: _xml.Writer, tag: str, number: str) -> None:
    with w.node(tag), w.node("Id"), w.node("Othr"):
        w.leaf("Id", number)


def _transfer(t: Transfer, what: str) -> etree._Element:
    element = etree.Element("CdtTrfTxInf")
    _xml.sub(element, "PmtId/EndToEndId", _identifier(t.end_to_end_id, what))
    _xml.sub(element, "Amt/InstdAmt", _amount(t.amount), {"Ccy": CURRENCY})
    _xml.sub(element, "CdtrAgt/FinInstnId/ClrSysMmbId/MmbId", _bank_bin(t.creditor_bin))
    _xml.sub(element, "Cdtr/Nm", _name(t.creditor_name))
    _xml.sub(element, "CdtrAcct/Id/Othr/Id", _account(t.creditor_account))
    remittance = plain_text(t.remittance, REMITTANCE_LIMIT)
    if remittance:
        _xml.sub(element, "RmtInf/Ustrd", remittance)
    return element


# Values written as they are, without escaping (the SWIFT Latin set: no &, <, > or control
# character), and the transfers written from a template rather than built as elements: the
# template is what `_xml.Writer.record` writes for `_transfer`, serialised once by lxml with
# markers in place of the values (tests/disbursement/test_formats.py compares both ways)
_VERBATIM = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]+")
_MARKERS = ("QQE2EQQ", "987654321987", "999999", "QQNAMEQQ", "QQACCOUNTQQ", "QQREMITTANCEQQ")
_RAW_CHUNK = 1000


@functools.cache
def _transfer_template(depth: int) -> str:
    e2e, amount, bank_bin, name, number, remittance = _MARKERS
    element = _transfer(Transfer(e2e, int(amount), name, number, bank_bin, remittance), "")
    etree.indent(element, space="  ", level=depth)
    text = "\n" + "  " * depth + etree.tostring(element, encoding="unicode")
    for i, marker in enumerate(_MARKERS):
        assert text.count(marker) == 1  # noqa: S101 - each value has its one place
        text = text.replace(marker, "{%d}" % i)  # noqa: UP031 - building a format string
    return text


def _write_raw(w: _xml.Writer, out: IO[bytes], pending: list[str]) -> None:
    """Write the transfers rendered from the template, after what lxml has buffered so far."""
    if pending:
        w.xf.flush()
        out.write("".join(pending).encode())
        pending.clear()


def write(out: IO[bytes], header: Header, transfers: Iterable[Transfer], *, count: int, total: int) -> None:
    """Write the transfer order into `out` (UTF-8, streamed). NbOfTxs and CtrlSum are `count` and
    `total`; ValueError after writing when the transfers do not add up to them (the caller
    discards the file), or when a value cannot be written (an amount that is not a positive
    whole number, an account number, a BIN, an identifier too long, a name without a letter)."""
    message_id = _identifier(header.message_id, pgettext("transfer file", "message id"))
    payment_info_id = _identifier(header.payment_info_id, pgettext("transfer file", "payment information id"))
    debtor_account = _account(header.debtor_account)
    debtor_bin = _bank_bin(header.debtor_bin)
    if not isinstance(count, int) or not isinstance(total, int) or count < 1 or not 0 < total <= MAX_AMOUNT:
        raise ValueError(_("A transfer order needs at least one transfer and a positive total."))
    written = written_total = 0
    with _xml.document(out, NAMESPACE, "CstmrCdtTrfInitn") as w:
        with w.node("GrpHdr"):
            w.leaf("MsgId", message_id)
            w.leaf("CreDtTm", _timestamp(header.created_at))
            w.leaf("NbOfTxs", str(count))
            w.leaf("CtrlSum", str(total))
            with w.node("InitgPty"):
                w.leaf("Nm", _name(header.initiating_party))
        with w.node("PmtInf"):
            w.leaf("PmtInfId", payment_info_id)
            w.leaf("PmtMtd", "TRF")
            w.leaf("BtchBookg", "true")
            w.leaf("NbOfTxs", str(count))
            w.leaf("CtrlSum", str(total))
            with w.node("ReqdExctnDt"):
                w.leaf("Dt", header.requested_date.isoformat())
            with w.node("Dbtr"):
                w.leaf("Nm", _name(header.debtor_name))
            _cash_account(w, "DbtrAcct", debtor_account)
            _agent(w, "DbtrAgt", debtor_bin)
            w.leaf("ChrgBr", "SLEV")
            what = pgettext("transfer file", "end-to-end id")
            template = _transfer_template(w.depth)
            pending: list[str] = []
            for t in transfers:
                # the same checks, in the same order, as `_transfer`
                e2e = _identifier(t.end_to_end_id, what)
                amount = _amount(t.amount)
                bank_bin = _bank_bin(t.creditor_bin)
                name = _name(t.creditor_name)
                number = _account(t.creditor_account)
                remittance = plain_text(t.remittance, REMITTANCE_LIMIT)
                if remittance and _VERBATIM.fullmatch(e2e) and _VERBATIM.fullmatch(number):
                    pending.append(template.format(e2e, amount, bank_bin, name, number, remittance))
                    if len(pending) >= _RAW_CHUNK:
                        _write_raw(w, out, pending)
                else:  # a value to escape, or no remittance: lxml writes this one
                    _write_raw(w, out, pending)
                    w.record(_transfer(t, what))
                written += 1
                written_total += t.amount
            _write_raw(w, out, pending)
    if (written, written_total) != (count, total):
        raise ValueError(
            _(
                "The file holds %(written)d transfers totalling %(written_total)d đồng, but the batch has "
                "%(count)d transfers totalling %(total)d đồng."
            )
            % {"written": written, "written_total": written_total, "count": count, "total": total}
        )


# ---------------------------------------------------------------------------------- reading


def _fail(line: int | None, detail: str) -> FormatError:
    if line:
        message = _("The file is not a valid pain.001.001.09 transfer order (line %(line)d): %(detail)s.")
    else:
        message = _("The file is not a valid pain.001.001.09 transfer order: %(detail)s.")
    return FormatError(message % {"line": line, "detail": detail}, line=line)


def whole_dong(element: Any, fail: _xml.Fail = _fail) -> int:
    """The whole-đồng amount of an amount element (InstdAmt, CtrlSum…): '300000' or '300000.00';
    a fraction of a đồng or another currency is a FormatError."""
    name = etree.QName(element).localname
    currency = element.get("Ccy")
    if currency is not None and currency != CURRENCY:
        raise fail(
            element.sourceline,
            _("the currency of <%(name)s> is %(currency)s, not VND") % {"name": name, "currency": currency},
        )
    try:
        value = Decimal((element.text or "").strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value != value.to_integral_value():
        raise fail(element.sourceline, _("the amount in <%(name)s> is not a whole number of đồng") % {"name": name})
    return int(value)


@functools.cache
def _path(path: str) -> str:
    """'A/B' -> '{ns}A/{ns}B'."""
    return "/".join(_Q + step for step in path.split("/"))


def _text(element: Any, path: str) -> str:
    return (element.findtext(_path(path), default="") or "").strip()


def validate(source: _xml.Source) -> None:
    """Check `source` (a path, a binary file or bytes) against the pain.001.001.09 schema,
    streaming, and that the amounts are whole đồng and the transfers add up to the declared
    NbOfTxs and CtrlSum (of the group and of each payment information block): FormatError with
    the line and a Vietnamese sentence at the first error."""
    for _item in _read(source, check_sums=True, transfers=False):
        pass


class Order:
    """A transfer order read in one pass (the sandbox bank's): `header` on construction (the
    dict of `read_header`), then `transfers()` in file order, validated against the schema as it
    reads and, with `check_sums`, checked as `validate` checks (whole đồng, NbOfTxs and CtrlSum
    of the group and of each block) at the same places, so the first error is the same
    FormatError. Read the transfers to the end: the rest of the file is checked on the way (a
    FormatError may come after the transfers before the error).

    With `apart`, a large file on disk (APART_FROM bytes or more) is validated against the
    schema in a subprocess (`_xml.Validator`) while it is read here without the schema, when a
    CPU is free (`spare_cpu`); the caller then calls `check()` before it trusts what it read,
    and also when reading failed: a file that is not valid gives the error (words and line) a
    reading with the schema gives."""

    header: dict

    def __init__(self, source: _xml.Source, *, check_sums: bool = True, apart: bool = False) -> None:
        self._source, self._check_sums = source, check_sums
        self._validator: _xml.Validator | None = None
        if apart and _xml.large_file(source, APART_FROM) and spare_cpu():
            self._validator = _xml.Validator(source, SCHEMA, _TAGS, sorted(_RECORDS | {_Q + "PmtInf"}))
        self._items = _read(source, check_sums=check_sums, transfers=True, schema=self._validator is None)
        try:
            kind, first = next(self._items, ("", {}))
            if kind != "header":  # the schema requires a debtor account before any transfer
                raise _fail(None, _("the debtor account is missing"))
            self.header = first
        except BaseException:
            try:
                self.check()
            finally:
                self.close()
            raise

    def transfers(self) -> Iterator[Transfer]:
        try:
            for _kind, transfer in self._items:
                yield transfer
        finally:
            self._items.close()

    def check(self) -> None:
        """Wait for the subprocess's answer (an order read `apart`; nothing otherwise): a file that
        is not valid is read again with the schema, which raises its FormatError."""
        validator, self._validator = self._validator, None

        def reread() -> None:
            for _item in _read(self._source, check_sums=self._check_sums, transfers=False):
                pass

        _xml.settle(validator, reread)

    def close(self) -> None:
        self._items.close()
        if self._validator is not None:
            self._validator.stop()
            self._validator = None


def _read(
    source: _xml.Source, *, check_sums: bool, transfers: bool, schema: bool = True
) -> Generator[tuple[str, Any], None, None]:
    """What `validate` checks (with `check_sums`) and, with `transfers`, ("header", the dict of
    `read_header`) at the first debtor account, then ("transfer", Transfer) for each transfer.
    Without `schema` the file is only parsed (an `Order` read apart)."""
    group: dict[str, Any] = {}
    block: dict[str, Any] = {}
    count = total = block_count = block_total = 0
    tags = [_Q + "CdtTrfTxInf", _Q + "NbOfTxs", _Q + "CtrlSum", _Q + "PmtInf"]
    header: dict[str, Any] | None = None
    if transfers:
        header = {}
        tags += [_Q + "GrpHdr", _Q + "PmtInfId", _Q + "ReqdExctnDt", _Q + "DbtrAcct"]
    records = _RECORDS | {_Q + "PmtInf"}
    for element in _xml.stream(source, SCHEMA if schema else None, _fail, tags=tags, records=records):
        tag = element.tag
        if tag == _Q + "CdtTrfTxInf":
            value = _instructed(element)
            count, total, block_count, block_total = count + 1, total + value, block_count + 1, block_total + value
            if transfers:
                yield "transfer", _transfer_of(element, value)
        elif tag in (_Q + "NbOfTxs", _Q + "CtrlSum"):
            if check_sums:
                parent = element.getparent()
                declared = group if parent is not None and parent.tag == _Q + "GrpHdr" else block
                name = etree.QName(element).localname
                declared[name] = int((element.text or "").strip()) if tag == _Q + "NbOfTxs" else whole_dong(element)
                declared[name + ".line"] = element.sourceline
        elif tag == _Q + "PmtInf":
            if check_sums:
                _check_sums(block, block_count, block_total)
            block, block_count, block_total = {}, 0, 0
        elif header is not None and _header_element(header, element):
            yield "header", header
            header = None  # the first block's debtor account completes the header
    if check_sums:
        _check_sums(group, count, total)


def _header_element(header: dict[str, Any], element: Any) -> bool:
    """Take what `element` says of the header into `header`; True at the debtor account (the
    header is complete)."""
    if element.tag == _Q + "GrpHdr":
        header["message_id"] = _text(element, "MsgId")
        header["count"] = int(_text(element, "NbOfTxs"))
        ctrl = element.find(_path("CtrlSum"))
        header["total"] = whole_dong(ctrl) if ctrl is not None else None
    elif element.tag == _Q + "PmtInfId":
        header["payment_info_id"] = (element.text or "").strip()
    elif element.tag == _Q + "ReqdExctnDt":
        day = _text(element, "Dt") or _text(element, "DtTm")[:10]
        header["requested_date"] = date.fromisoformat(day) if day else None
    elif element.tag == _Q + "DbtrAcct":
        header["debtor_account"] = _text(element, "Id/Othr/Id") or _text(element, "Id/IBAN")
        return True
    return False


def _check_sums(declared: dict[str, Any], count: int, total: int) -> None:
    if "NbOfTxs" in declared and declared["NbOfTxs"] != count:
        raise _fail(
            declared["NbOfTxs.line"],
            _("NbOfTxs says %(declared)d transfers but the file holds %(count)d")
            % {"declared": declared["NbOfTxs"], "count": count},
        )
    if "CtrlSum" in declared and declared["CtrlSum"] != total:
        raise _fail(
            declared["CtrlSum.line"],
            _("CtrlSum says %(declared)d đồng but the transfers add up to %(total)d đồng")
            % {"declared": declared["CtrlSum"], "total": total},
        )


def read_header(source: _xml.Source) -> dict:
    """{"message_id", "count", "total", "debtor_account"} (and "payment_info_id",
    "requested_date") from the group header and the payment information block, reading no
    further than the debtor's account."""
    header: dict[str, Any] = {}
    tags = [_Q + "GrpHdr", _Q + "PmtInfId", _Q + "ReqdExctnDt", _Q + "DbtrAcct"]
    events = _xml.stream(source, SCHEMA, _fail, tags=tags)
    try:
        for element in events:
            if _header_element(header, element):
                return header
    finally:
        events.close()
    raise _fail(None, _("the debtor account is missing"))


def iter_transfers(source: _xml.Source) -> Iterator[Transfer]:
    """The credit transfers of `source` in file order, streaming and validating as it reads (a
    FormatError may come after the transfers before the error)."""
    for element in _xml.stream(source, SCHEMA, _fail, tags=[_Q + "CdtTrfTxInf"], records=_RECORDS):
        yield _transfer_of(element, _instructed(element))


# what a transfer says, in one XPath call (a third of the time of six `findtext`, and faster than
# a walk over its children in Python): each of these paths ends in its own element name, so the
# name tells which field an element is
_FIELDS = etree.XPath(
    "p:PmtId/p:EndToEndId | p:Cdtr/p:Nm | p:CdtrAcct/p:Id/p:Othr/p:Id | p:CdtrAcct/p:Id/p:IBAN"
    " | p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId | p:RmtInf/p:Ustrd",
    namespaces={"p": NAMESPACE},
)
_USTRD = _Q + "Ustrd"
_INSTDAMT = f"{_Q}Amt/{_Q}InstdAmt"


def _instructed(element: Any) -> int:
    """The whole-đồng instructed amount (Amt/InstdAmt) of a CdtTrfTxInf: digits in VND read as
    they are, anything else as `whole_dong` reads it (its errors)."""
    amount = element.find(_INSTDAMT)
    if amount is None:
        raise _fail(element.sourceline, _("a transfer has no instructed amount (InstdAmt)"))
    text = amount.text
    if text and text.isascii() and text.isdigit() and amount.get("Ccy") in (CURRENCY, None):
        return int(text)
    return whole_dong(amount)


def _transfer_of(element: Any, amount: int) -> Transfer:
    """The transfer a CdtTrfTxInf element says (each field the first such element's text, as
    `findtext` reads it; the remittance lines joined)."""
    fields: dict[str, str] = {}
    lines = []
    for found in _FIELDS(element):  # document order
        text = (found.text or "").strip()
        if found.tag == _USTRD:
            if text:
                lines.append(text)
        elif found.tag not in fields:
            fields[found.tag] = text
    return Transfer(
        end_to_end_id=fields.get(_Q + "EndToEndId", ""),
        amount=amount,
        creditor_name=fields.get(_Q + "Nm", ""),
        creditor_account=fields.get(_Q + "Id", "") or fields.get(_Q + "IBAN", ""),
        creditor_bin=fields.get(_Q + "MmbId", ""),
        remittance=" ".join(lines),
    )
