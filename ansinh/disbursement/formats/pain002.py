"""ISO 20022 pain.002.001.10 (CustomerPaymentStatusReportV10): the bank's answer to a transfer
order, for the whole order (OrgnlGrpInfAndSts/GrpSts) and per transfer
(OrgnlPmtInfAndSts/TxInfAndSts: OrgnlEndToEndId, TxSts, StsRsnInf/Rsn/Cd and AddtlInf,
OrgnlTxRef/Amt/InstdAmt).

`Report` reads a report streaming and validates it against the official schema as it parses:
the group status on construction, then the transaction statuses one by one (a FormatError may
come after the statuses before the error, so a caller applies them in one database transaction).
`write` produces a report (the sandbox bank's answer, the golden tests), streamed and the same
byte for byte for the same input. `STATUS_MAP` says what a bank status means for an instruction,
`reason_text` explains a reason code in Vietnamese."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.utils.translation import gettext as _
from lxml import etree

from . import _xml
from ._xml import APART_FROM, spare_cpu
from .errors import FormatError
from .pain001 import whole_dong
from .schemas import NS

SCHEMA = "pain.002.001.10"
NAMESPACE = NS["pain.002"]
ORIGINAL_NAME = "pain.001.001.09"
CURRENCY = "VND"
MAX_AMOUNT = 10**18 - 1
ADDITIONAL_LIMIT = 105  # StsRsnInf/AddtlInf is Max105Text

_Q = f"{{{NAMESPACE}}}"
_RECORDS = frozenset({_Q + "TxInfAndSts", _Q + "OrgnlPmtInfAndSts"})
_TAGS = [_Q + tag for tag in ("GrpHdr", "OrgnlGrpInfAndSts", "PmtInfSts", "OrgnlPmtInfAndSts", "TxInfAndSts")]
_TXINFANDSTS, _PMTINFSTS, _ORGNLPMTINFANDSTS = (_Q + tag for tag in ("TxInfAndSts", "PmtInfSts", "OrgnlPmtInfAndSts"))
_E2E, _TXSTS, _STSRSNINF, _RSN, _ADDTLINF, _ORGNLTXREF, _AMT, _INSTDAMT = (
    _Q + tag for tag in ("OrgnlEndToEndId", "TxSts", "StsRsnInf", "Rsn", "AddtlInf", "OrgnlTxRef", "Amt", "InstdAmt")
)

# The bank's transaction status (ExternalPaymentTransactionStatus1Code) -> the instruction's state.
STATUS_MAP: dict[str, str] = {
    "ACSC": "credited",  # AcceptedSettlementCompleted
    "ACCC": "credited",  # AcceptedCreditSettlementCompleted
    "ACCP": "accepted",
    "ACSP": "accepted",
    "ACTC": "accepted",
    "ACWC": "accepted",
    "ACWP": "accepted",
    "ACFC": "accepted",
    "PDNG": "accepted",
    "RCVD": "accepted",
    "PART": "accepted",
    "RJCT": "rejected",
}


@dataclass(frozen=True)
class GroupStatus:
    message_id: str
    created_at: datetime
    original_message_id: str
    original_name: str  # "pain.001.001.09"
    original_count: int | None
    original_total: int | None
    group_status: str | None
    reason_code: str = ""
    # OrgnlPmtInfAndSts/OrgnlPmtInfId when writing ("" = the original message id)
    original_payment_info_id: str = ""


@dataclass(frozen=True)
class TxStatus:
    end_to_end_id: str
    status: str
    reason_code: str = ""
    amount: int | None = None
    additional: str = ""


# a TxStatus's fields, in its order, as a plain tuple
Record = tuple[str, str, str, int | None, str]


# ------------------------------------------------------------------------------ reason codes


def _reasons() -> dict[str, str]:
    """The common ExternalStatusReason1Code values, in Vietnamese (built per call: the language
    is the request's)."""
    not_allowed = _("the transaction is not allowed")
    missing = _("information is missing from the transfer")
    other = _("other reason (see the additional information)")
    return {
        "AC01": _("the account number is incorrect"),
        "AC02": _("the debtor account number is not valid"),
        "AC03": _("the creditor account number is not valid"),
        "AC04": _("the account is closed"),
        "AC06": _("the account is blocked"),
        "AC07": _("the creditor account is closed"),
        "AG01": not_allowed,
        "AG03": not_allowed,
        "AM02": _("the amount exceeds the allowed limit"),
        "AM04": _("the debtor account has insufficient funds"),
        "AM05": _("duplicate order"),
        "AM09": _("the amount is wrong"),
        "BE01": _("the account holder's name does not match"),
        "BE05": _("the initiating party is not recognised"),
        "DUPL": _("duplicate payment"),
        "FF01": _("the file format is not valid"),
        "MD07": _("the account holder has died"),
        "MS02": _("reason given by the customer, not specified"),
        "MS03": other,
        "NARR": other,
        "RC01": _("the bank code is incorrect"),
        "RR01": missing,
        "RR02": missing,
        "RR03": missing,
        "TM01": _("received after the processing deadline"),
    }


def reason_text(code: str) -> str:
    """A Vietnamese explanation of a reason code; "" for no code."""
    code = (code or "").strip().upper()
    if not code:
        return ""
    known = _reasons().get(code)
    if known is not None:
        return known
    return _("the bank gave reason code %(code)s, which the system does not know") % {"code": code}


# ---------------------------------------------------------------------------------- reading


def _fail(line: int | None, detail: str) -> FormatError:
    if line:
        message = _("The file is not a valid pain.002.001.10 status report (line %(line)d): %(detail)s.")
    else:
        message = _("The file is not a valid pain.002.001.10 status report: %(detail)s.")
    return FormatError(message % {"line": line, "detail": detail}, line=line)


@functools.cache
def _path(path: str) -> str:
    """'A/B' -> '{ns}A/{ns}B'."""
    return "/".join(_Q + step for step in path.split("/"))


def _text(element: Any, path: str) -> str:
    return (element.findtext(_path(path), default="") or "").strip()


def _reason(element: Any) -> str:
    info = element.find(_path("StsRsnInf/Rsn"))
    if info is None:
        return ""
    return _text(info, "Cd") or _text(info, "Prtry")


def _datetime(element: Any) -> datetime:
    text = (element.text or "").strip()
    try:
        whole, _dot, rest = text.partition(".")
        if rest:  # fractions beyond microseconds: keep six digits and the offset
            digits = len(rest) - len(rest.lstrip("0123456789"))
            text = f"{whole}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
        return datetime.fromisoformat(text)
    except ValueError:
        raise _fail(element.sourceline, _("the date and time in <CreDtTm> cannot be read")) from None


def _count(text: str) -> int | None:
    return int(text) if text else None


class Report:
    """A status report read as a stream: `group` on construction, then `transactions()`. Read
    the transactions to the end: the rest of the file is validated on the way.

    With `apart`, a large file on disk (APART_FROM bytes or more) is validated against the
    schema in a subprocess (`_xml.Validator`) while it is read here without the schema, when a
    CPU is free (`spare_cpu`). Reading the records to their end waits for the subprocess's
    answer, so an invalid file raises its FormatError where a reading with the schema would
    (after the statuses before the error); a caller that acts on `group` before reading the
    records, or whose use of the records failed, calls `check()` first: a file that is not valid
    then gives the error (words and line) a reading with the schema gives."""

    group: GroupStatus

    def __init__(self, source: _xml.Source, *, apart: bool = False) -> None:
        self._source = source
        self._validator: _xml.Validator | None = None
        if apart and _xml.large_file(source, APART_FROM) and spare_cpu():
            self._validator = _xml.Validator(source, SCHEMA, _TAGS, sorted(_RECORDS))
        schema = SCHEMA if self._validator is None else None
        self._elements = _xml.stream(source, schema, _fail, tags=_TAGS, records=_RECORDS)
        try:
            self.group = self._read_group()
        except BaseException:
            try:
                self.check()
            finally:
                self.close()
            raise

    def check(self) -> None:
        """Wait for the subprocess's answer (a report read `apart`; nothing otherwise): a file
        that is not valid is read again with the schema, which raises its FormatError."""
        validator, self._validator = self._validator, None

        def reread() -> None:
            for _record in Report(self._source).records():
                pass

        _xml.settle(validator, reread)

    def close(self) -> None:
        self._elements.close()
        if self._validator is not None:
            self._validator.stop()
            self._validator = None

    def _read_group(self) -> GroupStatus:
        message_id = ""
        created_at: datetime | None = None
        for element in self._elements:
            if element.tag == _Q + "GrpHdr":
                message_id = _text(element, "MsgId")
                created = element.find(_path("CreDtTm"))
                created_at = _datetime(created) if created is not None else None
            elif element.tag == _Q + "OrgnlGrpInfAndSts":
                ctrl = element.find(_path("OrgnlCtrlSum"))
                assert created_at is not None  # GrpHdr/CreDtTm comes first (schema)
                return GroupStatus(
                    message_id=message_id,
                    created_at=created_at,
                    original_message_id=_text(element, "OrgnlMsgId"),
                    original_name=_text(element, "OrgnlMsgNmId"),
                    original_count=_count(_text(element, "OrgnlNbOfTxs")),
                    original_total=whole_dong(ctrl, _fail) if ctrl is not None else None,
                    group_status=_text(element, "GrpSts") or None,
                    reason_code=_reason(element),
                )
        raise _fail(None, _("the original group information (OrgnlGrpInfAndSts) is missing"))

    def transactions(self) -> Iterator[TxStatus]:
        """The transaction statuses in file order. A transaction without TxSts takes its payment
        block's status (PmtInfSts), or the group's."""
        for record in self.records():
            yield TxStatus(*record)

    def records(self) -> Iterator[Record]:
        """`transactions()` as plain tuples, the fields of `TxStatus` in its order (what the
        import streams into the database: no object per status)."""
        try:
            try:
                yield from self._records(self._elements)
            except Exception:
                self.check()  # read apart, a file that is not valid: its own error
                raise
            self.check()  # before the caller trusts what it read
        finally:
            self.close()

    def _records(self, elements: Iterable[Any]) -> Iterator[Record]:
        block_status = ""
        group_status = self.group.group_status or ""
        for element in elements:
            tag = element.tag
            if tag == _TXINFANDSTS:
                yield self._status(element, block_status or group_status)
            elif tag == _PMTINFSTS:
                block_status = (element.text or "").strip()
            elif tag == _ORGNLPMTINFANDSTS:
                block_status = ""

    @staticmethod
    def _status(element: Any, default_status: str) -> Record:
        """One TxInfAndSts, read in one pass over its children (a million a month: no path
        lookups). The reason is the first StsRsnInf/Rsn's code (Cd or Prtry), the additional
        information every StsRsnInf/AddtlInf joined; the amount OrgnlTxRef/Amt/InstdAmt."""
        end_to_end_id = status = reason = ""
        reason_seen = False
        amount: Any = None
        additional: list[str] = []
        for child in element:
            tag = child.tag
            if tag == _E2E:
                end_to_end_id = (child.text or "").strip()
            elif tag == _TXSTS:
                status = (child.text or "").strip()
            elif tag == _STSRSNINF:
                for part in child:
                    kind = part.tag
                    if kind == _RSN and not reason_seen:
                        reason_seen = True
                        for choice in part:  # Cd or Prtry
                            reason = (choice.text or "").strip()
                            break
                    elif kind == _ADDTLINF:
                        text = (part.text or "").strip()
                        if text:
                            additional.append(text)
            elif tag == _ORGNLTXREF:
                for amt in child.iterchildren(_AMT):
                    for instructed in amt.iterchildren(_INSTDAMT):
                        amount = instructed
        if not end_to_end_id:
            raise _fail(element.sourceline, _("a transaction status has no end-to-end id (OrgnlEndToEndId)"))
        status = status or default_status
        if not status:
            raise _fail(element.sourceline, _("a transaction status has no status code (TxSts)"))
        value: int | None = None
        if amount is not None:
            text = amount.text
            if text and text.isascii() and text.isdigit() and amount.get("Ccy") in (CURRENCY, None):
                value = int(text)
            else:
                value = whole_dong(amount, _fail)
        return end_to_end_id, status, reason, value, " ".join(additional)

    def __enter__(self) -> Report:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------- writing


def _code(value: str, what: str) -> str:
    value = (value or "").strip()
    if not 1 <= len(value) <= 4:
        raise ValueError(_("The %(what)s “%(value)s” must have 1 to 4 characters.") % {"what": what, "value": value})
    return value


def _amount(value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_AMOUNT:
        raise ValueError(_("The amount %(amount)s is not a whole number of đồng.") % {"amount": value})
    return str(value)


def _reason_info(parent: Any, code: str, additional: str = "") -> None:
    code = (code or "").strip()
    additional = " ".join((additional or "").split())[:ADDITIONAL_LIMIT].rstrip()
    if not code and not additional:
        return
    info = etree.SubElement(parent, "StsRsnInf")
    if code:
        _xml.sub(info, "Rsn/Cd" if len(code) <= 4 else "Rsn/Prtry", code[:35])
    if additional:
        _xml.sub(info, "AddtlInf", additional)


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(_("The time of the message must carry its time zone."))
    return value.replace(microsecond=0).isoformat(timespec="seconds")


def write(out: IO[bytes], group: GroupStatus, statuses: Iterable[TxStatus]) -> None:
    """Write a status report into `out` (UTF-8, streamed, deterministic, valid against the
    schema): the group status, then one TxInfAndSts per status in one OrgnlPmtInfAndSts (left
    out when there are none)."""
    items = iter(statuses)
    first = next(items, None)
    with _xml.document(out, NAMESPACE, "CstmrPmtStsRpt") as w:
        with w.node("GrpHdr"):
            w.leaf("MsgId", group.message_id)
            w.leaf("CreDtTm", _timestamp(group.created_at))
        with w.node("OrgnlGrpInfAndSts"):
            w.leaf("OrgnlMsgId", group.original_message_id)
            w.leaf("OrgnlMsgNmId", group.original_name or ORIGINAL_NAME)
            if group.original_count is not None:
                w.leaf("OrgnlNbOfTxs", str(int(group.original_count)))
            if group.original_total is not None:
                w.leaf("OrgnlCtrlSum", _amount(group.original_total))
            if group.group_status:
                w.leaf("GrpSts", _code(group.group_status, "GrpSts"))
            if group.reason_code:
                holder = etree.Element("OrgnlGrpInfAndSts")
                _reason_info(holder, group.reason_code)
                w.record(holder[0])
        if first is None:
            return
        with w.node("OrgnlPmtInfAndSts"):
            w.leaf("OrgnlPmtInfId", group.original_payment_info_id or group.original_message_id)
            for status in _chain(first, items):
                w.record(_transaction(status))


def _transaction(status: TxStatus) -> Any:
    element = etree.Element("TxInfAndSts")
    _xml.sub(element, "OrgnlEndToEndId", status.end_to_end_id)
    _xml.sub(element, "TxSts", _code(status.status, "TxSts"))
    _reason_info(element, status.reason_code, status.additional)
    if status.amount is not None:
        _xml.sub(element, "OrgnlTxRef/Amt/InstdAmt", _amount(status.amount), {"Ccy": CURRENCY})
    return element


def _chain(first: TxStatus, rest: Iterator[TxStatus]) -> Iterator[TxStatus]:
    yield first
    yield from rest
