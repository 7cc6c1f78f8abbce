"""ISO 20022 camt.053.001.08 (BankToCustomerStatementV08): the statement of the provider's
funded account, read and written against the official schema
(ansinh/disbursement/schemas/camt.053.001.08.xsd, checked by its SHA-256 on load).

Reading is streamed (`Statement`): the header (GrpHdr, Stmt/Id, FrToDt, Acct, the opening and
closing balances OPBD/CLBD) on construction, then the entries (`entries()`) one by one, each
freed once read, so memory stays flat whatever the size; the whole file is validated on the way
(a FormatError with the line may come after some entries: the caller applies them in one
database transaction, or not at all). What is read from an entry (Ntry):

- Amt (whole đồng, VND only), CdtDbtInd (CRDT money in, DBIT money out), BookgDt, AcctSvcrRef;
- NtryDtls/TxDtls/Refs/EndToEndId — the end-to-end id of the transfer (a DBIT paid to a
  beneficiary; a CRDT from the treasury may carry the advance's reference there);
- NtryDtls/TxDtls/RtrInf — a return: the money of a transfer came back (CRDT). The original
  end-to-end id is the EndToEndId of the returned transaction (what banks report in Refs), and
  RtrInf/Rsn/Cd the reason (AC04 account closed…);
- NtryDtls/TxDtls/RmtInf/Ustrd — the details (the treasury's reference of an advance).

Writing (`write`) is what the sandbox bank sends (`ansinh.reconciliation.sandbox`): streamed,
indented, the same bytes for the same input."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from django.utils.translation import gettext as _
from lxml import etree

from ansinh.disbursement.formats import _xml
from ansinh.disbursement.formats._xml import APART_FROM, spare_cpu
from ansinh.disbursement.formats.errors import FormatError
from ansinh.disbursement.formats.pain001 import whole_dong
from ansinh.disbursement.formats.schemas import NS

SCHEMA = "camt.053.001.08"
NAMESPACE = NS["camt.053"]
CURRENCY = "VND"
_Q = f"{{{NAMESPACE}}}"
_TAGS = [_Q + tag for tag in ("GrpHdr", "Acct", "Bal", "Ntry")]
_RECORDS = frozenset({_Q + "Ntry"})
_NTRY, _AMT, _CDTDBTIND, _STS, _BOOKGDT, _ACCTSVCRREF, _NTRYDTLS = (
    _Q + tag for tag in ("Ntry", "Amt", "CdtDbtInd", "Sts", "BookgDt", "AcctSvcrRef", "NtryDtls")
)
_TXDTLS, _REFS, _ENDTOENDID, _RMTINF, _USTRD, _RTRINF, _RSN = (
    _Q + tag for tag in ("TxDtls", "Refs", "EndToEndId", "RmtInf", "Ustrd", "RtrInf", "Rsn")
)


@functools.cache
def _path(path: str) -> str:
    return "/".join(_Q + step for step in path.split("/"))


def _fail(line: int | None, detail: str) -> FormatError:
    if line:
        message = _("Line %(line)s of the bank statement: %(detail)s.") % {"line": line, "detail": detail}
    else:
        message = _("The bank statement cannot be read: %(detail)s.") % {"detail": detail}
    return FormatError(message, line=line)


def _text(element: Any, path: str) -> str:
    found = element.find(_path(path))
    return (found.text or "").strip() if found is not None else ""


def _date(element: Any, path: str) -> date | None:
    """A DateAndDateTime2Choice (Dt or DtTm) or an ISODateTime under `path`, as a date."""
    found = element.find(_path(path))
    if found is None:
        return None
    return _when(found)


def _when(found: Any) -> date:
    """The date of a DateAndDateTime2Choice (Dt or DtTm) or of an ISODateTime element."""
    value = (found.text or "").strip()
    if not value:
        for child in found:
            value = (child.text or "").strip()
            break
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _fail(found.sourceline, _("the date “%(value)s” is not valid") % {"value": value}) from None


def _signed(element: Any) -> int:
    amount = whole_dong(element.find(_path("Amt")), _fail)
    return -amount if _text(element, "CdtDbtInd") == "DBIT" else amount


@dataclass(frozen=True)
class Header:
    message_id: str
    created_at: str
    statement_id: str
    account_number: str
    from_date: date | None
    to_date: date | None
    opening_balance: int | None
    closing_balance: int | None


@dataclass(frozen=True)
class Entry:
    """One statement entry. `amount` is positive; `credit` says the direction."""

    line: int | None
    credit: bool
    amount: int
    booking_date: date | None
    reference: str = ""  # AcctSvcrRef
    end_to_end_id: str = ""
    remittance: str = ""
    is_return: bool = False
    return_reason: str = ""


# an Entry's fields, in its order, as a plain tuple
Record = tuple[int | None, bool, int, date | None, str, str, str, bool, str]


class Statement:
    """A camt.053 read as a stream: `header` on construction (up to the first entry), then
    `entries()`. Read the entries to the end: the rest of the file is validated on the way."""

    header: Header

    def __init__(self, source: _xml.Source) -> None:
        self._source = source
        self._elements = _xml.stream(source, SCHEMA, _fail, tags=_TAGS, records=_RECORDS)
        self._first: Any = None
        self._skipped = 0  # the entries (Ntry) read with the header, up to the first booked one
        self._validator: _xml.Validator | None = None
        try:
            self.header = self._read_header()
        except BaseException:
            self._elements.close()
            raise

    def _read_header(self) -> Header:
        values: dict[str, Any] = {"opening_balance": None, "closing_balance": None}
        for element in self._elements:
            tag = element.tag
            if tag == _Q + "GrpHdr":
                values["message_id"] = _text(element, "MsgId")
                values["created_at"] = _text(element, "CreDtTm")
            elif tag == _Q + "Acct":
                statement = element.getparent()
                values["statement_id"] = _text(statement, "Id")
                values["from_date"] = _date(statement, "FrToDt/FrDtTm")
                values["to_date"] = _date(statement, "FrToDt/ToDtTm")
                values["account_number"] = _text(element, "Id/Othr/Id") or _text(element, "Id/IBAN")
            elif tag == _Q + "Bal":
                code = _text(element, "Tp/CdOrPrtry/Cd")
                if code in ("OPBD", "PRCD") and values["opening_balance"] is None:
                    values["opening_balance"] = _signed(element)
                elif code == "CLBD":
                    values["closing_balance"] = _signed(element)
            elif tag == _NTRY:
                self._skipped += 1
                self._first = self._entry(element)
                _xml.release(element)
                if self._first is not None:
                    break
        if "account_number" not in values:
            raise _fail(None, _("the statement has no account (Acct)"))
        return Header(**values)

    def entries(self) -> Iterator[Entry]:
        for record in self.records():
            yield Entry(*record)

    def records(self) -> Iterator[Record]:
        """The entries as plain tuples, the fields of `Entry` in its order (what the import
        streams into the database: no object per entry)."""
        try:
            if self._first is not None:
                yield self._first
                self._first = None
            yield from self._rest(self._elements)
        finally:
            self._elements.close()

    def _rest(self, elements: Iterable[Any]) -> Iterator[Record]:
        """The entries after the first booked one (read with the header)."""
        for element in elements:
            if element.tag == _NTRY:
                record = self._entry(element)
                if record is not None:
                    yield record
            elif element.tag == _Q + "Acct":
                number = _text(element, "Id/Othr/Id") or _text(element, "Id/IBAN")
                if number != self.header.account_number:
                    raise _fail(element.sourceline, _("the file holds statements of more than one account"))

    # --- a large file: validated in another process while it is read here -----------------------

    def validate_apart(self) -> bool:
        """For a file of at least APART_FROM bytes on disk, when a CPU is free (`spare_cpu`): start
        validating it against the schema in a subprocess (`_xml.Validator`) and return True; the caller then reads
        `unchecked_records()` and calls `check()` before it trusts them. False otherwise (read
        `records()`)."""
        source = self._source
        if self._first is None:
            return False  # no booked entry: the header's reading went through the whole file
        if _xml.large_file(source, APART_FROM) and spare_cpu():
            self._validator = _xml.Validator(source, SCHEMA, _TAGS, sorted(_RECORDS))
            return True
        return False

    def unchecked_records(self) -> Iterator[Record]:
        """`records()` read without the schema (after `validate_apart`): the same tuples for a
        valid file. A file that is not valid may give other tuples or errors: `check()` says."""
        first, self._first = self._first, None
        if first is None:
            return
        elements = _xml.stream(self._source, None, _fail, tags=_TAGS, records=_RECORDS)
        try:
            seen = 0
            for element in elements:  # what the header's reading read, up to the first booked entry
                if element.tag == _NTRY:
                    seen += 1
                    if seen == self._skipped:
                        break
            yield first
            yield from self._rest(elements)
        finally:
            elements.close()

    def check(self) -> None:
        """After `unchecked_records`: wait for the subprocess's validation; when the file is not
        valid, read the rest of it with the schema as `records()` does, which raises the same
        FormatError (words, line) as an import without the subprocess."""
        validator, self._validator = self._validator, None

        def reread() -> None:
            for _record in self._rest(self._elements):
                pass

        try:
            _xml.settle(validator, reread)
        finally:
            self._elements.close()

    @staticmethod
    def _entry(element: Any) -> Record | None:
        """One Ntry, read in one pass over its children (a million a month: no path lookups). The
        element is valid against the schema here (the stream raises before yielding an invalid
        one), so Amt, CdtDbtInd and Sts are there once and BookgDt, AcctSvcrRef, TxDtls/Refs,
        TxDtls/RmtInf and TxDtls/RtrInf at most once."""
        amount: Any = None  # schema-valid: always there
        credit = status = booked = None
        reference = ""
        dossiers = []
        for child in element:
            tag = child.tag
            if tag == _AMT:
                amount = child
            elif tag == _CDTDBTIND:
                credit = child
            elif tag == _STS:
                status = child
            elif tag == _BOOKGDT:
                booked = child
            elif tag == _ACCTSVCRREF:
                reference = (child.text or "").strip()
            elif tag == _NTRYDTLS:
                dossiers.append(child)
        code = ""
        if status is not None:
            for choice in status:  # Cd or Prtry
                code = (choice.text or "").strip()
                break
        if code and code != "BOOK":
            return None  # pending (PDNG) or information only (INFO): no money moved yet
        e2e = remittance = reason = ""
        is_return = False
        details = next((tx for dossier in dossiers for tx in dossier.iterchildren(_TXDTLS)), None)
        if details is not None:
            texts = []
            for part in details:
                tag = part.tag
                if tag == _REFS:
                    for ref in part.iterchildren(_ENDTOENDID):
                        e2e = (ref.text or "").strip()
                        break
                elif tag == _RMTINF:
                    for line in part.iterchildren(_USTRD):
                        text = (line.text or "").strip()
                        if text:
                            texts.append(text)
                elif tag == _RTRINF:
                    is_return = True
                    for why in part.iterchildren(_RSN):
                        for choice in why:  # Cd or Prtry
                            reason = (choice.text or "").strip()
                            break
            remittance = " ".join(texts)
        text = amount.text
        if text and text.isascii() and text.isdigit() and amount.get("Ccy") in (CURRENCY, None):
            value = int(text)
        else:
            value = whole_dong(amount, _fail)
        return (
            element.sourceline,
            credit is not None and (credit.text or "").strip() == "CRDT",
            value,
            _when(booked) if booked is not None else None,
            reference,
            e2e,
            remittance[:140],
            is_return,
            reason[:8],
        )

    def close(self) -> None:
        if self._validator is not None:
            self._validator.stop()
            self._validator = None
        self._elements.close()

    def __enter__(self) -> Statement:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def validate(source: _xml.Source) -> Header:
    """Read the whole file against the schema (FormatError at the first problem); its header."""
    with Statement(source) as statement:
        for _entry in statement.entries():
            pass
        return statement.header


# ---------------------------------------------------------------------------------- writing


def _amount(value: int) -> str:
    return str(abs(int(value)))


def _balance(w: _xml.Writer, code: str, amount: int, day: date) -> None:
    element = etree.Element("Bal")
    _xml.sub(element, "Tp/CdOrPrtry/Cd", code)
    _xml.sub(element, "Amt", _amount(amount), {"Ccy": CURRENCY})
    _xml.sub(element, "CdtDbtInd", "DBIT" if amount < 0 else "CRDT")
    _xml.sub(element, "Dt/Dt", day.isoformat())
    w.record(element)


def _bank_code(element: Any, family: str, sub_family: str) -> None:
    code = _xml.sub(element, "BkTxCd/Domn")
    _xml.sub(code, "Cd", "PMNT")
    _xml.sub(code, "Fmly/Cd", family)
    _xml.sub(code.find("Fmly"), "SubFmlyCd", sub_family)


def _entry_element(entry: Entry) -> Any:
    element = etree.Element("Ntry")
    if entry.reference:
        _xml.sub(element, "NtryRef", entry.reference[:35])
    _xml.sub(element, "Amt", _amount(entry.amount), {"Ccy": CURRENCY})
    _xml.sub(element, "CdtDbtInd", "CRDT" if entry.credit else "DBIT")
    _xml.sub(element, "Sts/Cd", "BOOK")
    if entry.booking_date:
        _xml.sub(element, "BookgDt/Dt", entry.booking_date.isoformat())
        _xml.sub(element, "ValDt/Dt", entry.booking_date.isoformat())
    if entry.reference:
        _xml.sub(element, "AcctSvcrRef", entry.reference[:35])
    if entry.is_return:
        _bank_code(element, "ICDT", "RRTN")
    elif entry.credit:
        _bank_code(element, "RCDT", "DMCT")
    else:
        _bank_code(element, "ICDT", "DMCT")
    details = _xml.sub(element, "NtryDtls/TxDtls")
    if entry.end_to_end_id:
        _xml.sub(details, "Refs/EndToEndId", entry.end_to_end_id[:35])
    _xml.sub(details, "Amt", _amount(entry.amount), {"Ccy": CURRENCY})
    _xml.sub(details, "CdtDbtInd", "CRDT" if entry.credit else "DBIT")
    if entry.remittance:
        _xml.sub(details, "RmtInf/Ustrd", entry.remittance[:140])
    if entry.is_return:
        returned = _xml.sub(details, "RtrInf")
        if entry.return_reason:
            _xml.sub(returned, "Rsn/Cd", entry.return_reason[:4])
    return element


def write(
    out: IO[bytes],
    *,
    message_id: str,
    created_at: datetime,
    statement_id: str,
    account_number: str,
    account_name: str,
    from_date: date,
    to_date: date,
    opening_balance: int,
    closing_balance: int,
    entries: Iterable[Entry],
) -> None:
    """Write a camt.053 statement into `out` (UTF-8, streamed, deterministic; valid against the
    schema: `tests/reconciliation` checks it). The balances are the caller's (computed before the
    entries are streamed)."""
    stamp = created_at.replace(microsecond=0, tzinfo=None).isoformat()
    with _xml.document(out, NAMESPACE, "BkToCstmrStmt") as w:
        with w.node("GrpHdr"):
            w.leaf("MsgId", message_id[:35])
            w.leaf("CreDtTm", stamp)
        with w.node("Stmt"):
            w.leaf("Id", statement_id[:35])
            w.leaf("CreDtTm", stamp)
            with w.node("FrToDt"):
                w.leaf("FrDtTm", f"{from_date.isoformat()}T00:00:00")
                w.leaf("ToDtTm", f"{to_date.isoformat()}T23:59:59")
            with w.node("Acct"):
                with w.node("Id"), w.node("Othr"):
                    w.leaf("Id", account_number[:34])
                w.leaf("Ccy", CURRENCY)
                if account_name:
                    w.leaf("Nm", account_name[:70])
            _balance(w, "OPBD", opening_balance, from_date)
            _balance(w, "CLBD", closing_balance, to_date)
            for entry in entries:
                w.record(_entry_element(entry))
