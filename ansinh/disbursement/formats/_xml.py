"""What the two XML formats share: a streaming reader that validates against the schema as it
parses, and an indenting streaming writer.

Reading. The source is fed to an `XMLPullParser` carrying the schema in 64 KiB chunks; the
consumer gets the "end" events and the elements it names as records are cleared (with their
earlier siblings) once it has read them, so memory stays flat whatever the number of
transactions. libxml2 reports schema errors met while streaming without a line number, so when a
chunk brings an error the source is read again (a path, or a seekable file): the chunks before
it in one go, the failing chunk line by line, which finds the line of the element at fault.
A source that cannot be read twice (a pipe) is copied into a temporary file first.

Writing. `lxml.etree.xmlfile` writes the document incrementally; `Writer` adds the line breaks
and two-space indentation (ignorable white space between elements), so the files are readable
and identical byte for byte for the same input."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeGuard, Union, cast

from django.utils.translation import gettext as _
from lxml import etree

from .errors import FormatError
from .schemas import schema

CHUNK = 1 << 16
SPOOL = 8 << 20
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

Source = Union[str, os.PathLike, IO[bytes], bytes]  # noqa: UP007 - an alias used at runtime
Fail = Callable[[int | None, str], FormatError]


# ---------------------------------------------------------------------------------- reading


@contextlib.contextmanager
def _opened(source: Source) -> Iterator[tuple[BinaryIO, int]]:
    """(a binary stream that can be read again, the position it starts at). A stream that cannot
    seek (a pipe) is copied into a temporary file first (in memory up to a few MiB)."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield io.BytesIO(bytes(source)), 0
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            yield f, 0
    else:
        stream: Any = source
        try:
            start = stream.tell() if stream.seekable() else None
        except (AttributeError, OSError, ValueError):
            start = None
        if start is not None:
            yield stream, start
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL) as copy:
            shutil.copyfileobj(stream, copy, CHUNK)
            copy.seek(0)
            yield cast(BinaryIO, copy), 0


def _parser(
    schema_name: str | None, *, events: tuple[str, ...], tags: Sequence[str] | None = None
) -> etree.XMLPullParser:
    return etree.XMLPullParser(
        events=events,
        tag=tags,
        schema=schema(schema_name) if schema_name else None,
        # lxml's default resolves internal entities only (never a file or URL); False would be
        # stricter but, with a schema, makes lxml 6 accept a truncated document without error
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        # the indentation between elements (ISO 20022 messages have no mixed content) is not kept:
        # a tenth less parsing of an indented file (a million camt.053 entries: 8.3 → 7.4 s, with
        # the schema 15.3 → 13.7 s); a value of spaces alone in an element is still read as it is
        remove_blank_text=True,
        collect_ids=False,
    )


def release(element: etree._Element) -> None:
    """Free an element that has been read, and the siblings before it."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _errors(parser: etree.XMLPullParser) -> list:
    return [e for e in parser.feed_error_log if e.level >= etree.ErrorLevels.ERROR]


def _schema_errors(parser: etree.XMLPullParser) -> list:
    return [e for e in _errors(parser) if e.domain == etree.ErrorDomains.SCHEMASV]


_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _screen(data: bytes, *, first: bool) -> str:
    """What makes the bytes unacceptable before the parser sees them, or "". ISO 20022 messages
    are UTF-8 and never have a DTD: a document type or entity declaration is refused outright
    (entity expansion is the classic XML attack, and lxml 6 with a schema crashes on it)."""
    if first:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:512]:
            return _("the file is not encoded in UTF-8")
        declared = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
        if declared and declared.group(1).upper().replace(b"_", b"-") not in (b"UTF-8", b"UTF8", b"US-ASCII", b"ASCII"):
            return _("the file is not encoded in UTF-8")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return _("the file declares a document type (DOCTYPE), which a payment message never has")
    return ""


def stream(
    source: Source,
    schema_name: str | None,
    fail: Fail,
    *,
    tags: Sequence[str],
    records: frozenset[str] = frozenset(),
) -> Generator[etree._Element, None, None]:
    """The elements of `source` with one of the (qualified) `tags`, as they end, validated
    against `schema_name` on the way: raises `fail(line, detail)` at the first error (not
    well-formed, not valid, another message). The elements whose tag is in `records` are cleared,
    with the siblings before them, after the consumer has seen them. Without `schema_name` the
    file is only parsed (`Validator` checks it against the schema in another process)."""
    with _opened(source) as (f, start):
        parser = _parser(schema_name, events=("end",), tags=tags)
        offset = 0  # bytes fed before the current chunk
        carry = b""
        while True:
            data = f.read(CHUNK)
            if not data:
                break
            problem = _screen(carry + data, first=offset == 0)
            if problem:
                raise fail(None, problem)
            carry = data[-16:]
            try:
                parser.feed(data)
            except etree.XMLSyntaxError as exc:
                if not _schema_errors(parser):
                    raise fail(exc.lineno or None, _("the XML is not well-formed")) from None
            if _schema_errors(parser):
                raise _located(f, start, offset, offset + len(data), parser, schema_name or "", fail)
            for _event, element in parser.read_events():
                yield element
                if element.tag in records:
                    release(element)
            offset += len(data)
        if offset == 0:
            raise fail(None, _("the file is empty"))
        try:
            parser.close()
        except etree.XMLSyntaxError as exc:
            if _schema_errors(parser):
                raise _located(f, start, max(0, offset - CHUNK), offset, parser, schema_name or "", fail) from None
            raise fail(exc.lineno or None, _("the XML is not well-formed")) from None
        for _event, element in parser.read_events():
            yield element


APART_FROM = 8 << 20  # files of this size and more are validated in a subprocess while they are read


def spare_cpu() -> bool:
    """Whether a CPU is free for the validating subprocess: the last minute's load average, which
    counts this process itself (and the database server working for it, in turn), at least half
    a CPU below the CPUs. On a busy machine the subprocess would only take the CPU the reading
    needs (measured at a million camt.053 entries with two busy CPUs, load 2.2: 38 s instead of
    32 s); on this 2-CPU machine alone (load 1.0-1.2) it took the validation off the reading."""
    try:
        return (os.cpu_count() or 1) - os.getloadavg()[0] >= 0.5
    except OSError:
        return False


def large_file(source: Source, minimum: int) -> TypeGuard[str | os.PathLike]:
    """Whether `source` is a file on disk (a subprocess can read it) of at least `minimum` bytes."""
    if not isinstance(source, str | os.PathLike):
        return False
    try:
        return os.path.getsize(source) >= minimum
    except OSError:
        return False


class Validator:
    """The whole file at `path` validated against `schema_name` in a subprocess
    (`python -m ansinh.disbursement.formats.validate`: the same `stream` as here, on another
    CPU), while this process reads it without the schema. `valid()` waits for the answer: True
    when the file is valid; False when it is not (or the subprocess could not say), and the
    caller reads the file again with the schema for the error, its line and its words exactly as
    a reading with the schema gives them."""

    def __init__(self, path: str | os.PathLike, schema_name: str, tags: Sequence[str], records: Sequence[str]) -> None:
        root = str(Path(__file__).resolve().parents[3])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self._process: subprocess.Popen | None = subprocess.Popen(  # noqa: S603 - our own module, our own file
            [
                sys.executable,
                "-m",
                "ansinh.disbursement.formats.validate",
                schema_name,
                os.fspath(path),
                ",".join(tags),
                ",".join(records),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def valid(self) -> bool:
        if self._process is None:
            return False
        code = self._process.wait()
        self._process = None
        return code == 0

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def settle(validator: Validator | None, reread: Callable[[], None]) -> None:
    """Wait for the answer of a file's `validator` (None: the file was read with the schema);
    a file that is not valid is read again with the schema by `reread`, which raises its error
    (words and line) as a reading with the schema would. The subprocess is stopped either way."""
    if validator is None:
        return
    try:
        if not validator.valid():
            reread()
    finally:
        validator.stop()


def validate_file(path: str | os.PathLike, schema_name: str, tags: Sequence[str], records: Sequence[str]) -> bool:
    """Whether the file at `path` is valid against `schema_name` (read as `stream` reads it, the
    elements named `records` released once read); what the `Validator`'s subprocess runs."""

    def fail(line: int | None, detail: str) -> FormatError:
        return FormatError(detail, line=line)

    try:
        for _element in stream(path, schema_name, fail, tags=tags, records=frozenset(records)):
            pass
    except FormatError:
        return False
    return True


_ELEMENT = re.compile(r"Element '(?:\{([^}]*)\})?([^']+)'")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( ?(?:\{[^}]*\})?([A-Za-z0-9]+)")


def describe(message: str, type_name: str) -> str:
    """A Vietnamese sentence for a libxml2 schema error."""
    match = _ELEMENT.search(message)
    namespace, name = (match.group(1) or "", match.group(2)) if match else ("", "")
    if type_name == "SCHEMAV_CVC_ELT_1":
        kind = namespace.rsplit(":", 1)[-1] if namespace else name
        return _("it is another kind of message (%(kind)s)") % {"kind": kind}
    if "This element is not expected" in message:
        return _("the element <%(name)s> is not expected here") % {"name": name}
    if "Missing child element" in message:
        expected = _EXPECTED.search(message)
        if expected:
            return _("the element <%(name)s> lacks <%(child)s>") % {"name": name, "child": expected.group(1)}
        return _("the element <%(name)s> lacks a required element") % {"name": name}
    if "attribute '" in message:
        return _("an attribute of <%(name)s> is missing, not allowed or not valid") % {"name": name}
    if name:
        return _("the value of <%(name)s> is not valid") % {"name": name}
    return _("the content does not follow the message's schema")


def _located(
    f: BinaryIO, start: int, cut: int, end: int, failed: etree.XMLPullParser, schema_name: str, fail: Fail
) -> FormatError:
    """The first schema error, met in the bytes [cut, end) of the source (or at its end), with
    the line of the element at fault."""
    first = _schema_errors(failed)[0]
    detail = describe(first.message, first.type_name)
    match = _ELEMENT.search(first.message)
    wanted = ""
    if match:
        wanted = f"{{{match.group(1)}}}{match.group(2)}" if match.group(1) else match.group(2)
    # read again: the bytes before the failing chunk in one go (valid), the chunk line by line
    f.seek(start)
    parser = _parser(schema_name, events=("start", "end"))
    seen: dict[str, int] = {}
    line = 1

    def take(data: bytes) -> None:
        parser.feed(data)
        for event, element in parser.read_events():
            if event == "start":
                seen[element.tag] = element.sourceline
            else:
                release(element)

    remaining = cut
    while remaining > 0:
        data = f.read(min(CHUNK, remaining))
        if not data:
            break
        remaining -= len(data)
        line += data.count(b"\n")
        take(data)
    for piece in f.read(end - cut).splitlines(keepends=True):
        try:
            take(piece)
        except etree.XMLSyntaxError:
            break
        if _schema_errors(parser):
            break
        line += piece.count(b"\n")
    else:
        with contextlib.suppress(etree.XMLSyntaxError):
            parser.close()
        for event, element in parser.read_events():
            if event == "start":
                seen[element.tag] = element.sourceline
    return fail(seen.get(wanted, line) if wanted else line, detail)


# ---------------------------------------------------------------------------------- writing


_INDENTS = ["\n" + "  " * depth for depth in range(40)]


class _Node:
    """One open element of a Writer (a plain class: this is called a million times a file)."""

    __slots__ = ("inner", "tag", "attrib", "writer")

    def __init__(self, writer: Writer, tag: str, attrib: dict[str, str] | None) -> None:
        self.writer = writer
        self.tag = tag
        self.attrib = attrib
        self.inner: Any = None

    def __enter__(self) -> None:
        w = self.writer
        w.xf.write(_INDENTS[w.depth])
        self.inner = w.xf.element(w.ns + self.tag, self.attrib or {})
        self.inner.__enter__()
        w.depth += 1

    def __exit__(self, *exc: Any) -> None:
        w = self.writer
        w.depth -= 1
        if exc[0] is None:
            w.xf.write(_INDENTS[w.depth])
        self.inner.__exit__(*exc)


class Writer:
    """Elements written as they come, indented two spaces a level, one element a line."""

    def __init__(self, xf: Any, namespace: str) -> None:
        self.xf = xf
        self.ns = f"{{{namespace}}}"
        self.depth = 0

    def node(self, tag: str, attrib: dict[str, str] | None = None) -> _Node:
        return _Node(self, tag, attrib)

    def leaf(self, tag: str, text: str, attrib: dict[str, str] | None = None) -> None:
        self.xf.write(_INDENTS[self.depth])
        with self.xf.element(self.ns + tag, attrib or {}):
            self.xf.write(text)

    def record(self, element: etree._Element) -> None:
        """Write a small subtree (one transaction) at the current depth, indented. Its tags carry
        no namespace: written inside the document's default namespace they are in it, and one
        serialisation per transaction is about twice as fast as element by element."""
        etree.indent(element, space="  ", level=self.depth)
        self.xf.write(_INDENTS[self.depth])
        self.xf.write(element)


def sub(
    parent: etree._Element, path: str, text: str | None = None, attrib: dict[str, str] | None = None
) -> etree._Element:
    """The element at `path` ("A/B/C") under `parent`, created (a new chain every call), with `text`."""
    element = parent
    for tag in path.split("/"):
        element = etree.SubElement(element, tag)
    if attrib:
        for key, value in attrib.items():
            element.set(key, value)
    if text is not None:
        element.text = text
    return element


@contextlib.contextmanager
def document(out: IO[bytes], namespace: str, body: str) -> Iterator[Writer]:
    """<?xml …?><Document xmlns=namespace><body>…</body></Document> written into `out`."""
    out.write(DECLARATION)
    with etree.xmlfile(out, encoding="utf-8") as xf, xf.element(f"{{{namespace}}}Document", nsmap={None: namespace}):
        w = Writer(xf, namespace)
        w.depth = 1
        with w.node(body):
            yield w
        xf.write("\n")
    out.write(b"\n")
