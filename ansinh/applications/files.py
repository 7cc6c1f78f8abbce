"""The documents of an application: PDF, JPEG or PNG only — recognised by their first bytes, never
by their name or the browser's word — at most 5 MB each and 10 per application. Every file is
checked before anything is written."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from .models import Attachment, AttachmentKind

# first bytes → (content type, file extension)
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
ALLOWED_TEXT = "PDF, JPG, PNG"


@dataclass
class Upload:
    """A document as received: its kind, its name as the sender called it, and an open file."""

    kind: str
    file: Any  # an UploadedFile (or anything with .name, .size, .read(), .seek())


@dataclass
class CheckedFile:
    kind: str
    original_name: str
    content: bytes
    content_type: str
    extension: str
    sha256: str


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def check_uploads(uploads: list[Upload], *, already: int = 0) -> list[CheckedFile]:
    """The uploads read and checked; a ValidationError on the field "attachments" listing every
    problem (nothing is written by this function)."""
    errors: list[str] = []
    if already + len(uploads) > Attachment.MAX_FILES:
        errors.append(
            _("An application can have at most %(max)d documents; you sent %(n)d.")
            % {"max": Attachment.MAX_FILES, "n": already + len(uploads)}
        )
    checked: list[CheckedFile] = []
    for up in uploads:
        name = (getattr(up.file, "name", "") or "").rsplit("/", 1)[-1][:255] or _("document")
        if up.kind not in AttachmentKind.values:
            errors.append(_("Choose the kind of document for “%(name)s”.") % {"name": name})
            continue
        size = getattr(up.file, "size", None)
        if size is not None and size > Attachment.MAX_SIZE:
            errors.append(_("“%(name)s” is larger than 5 MB.") % {"name": name})
            continue
        up.file.seek(0)
        content = up.file.read(Attachment.MAX_SIZE + 1)
        if len(content) > Attachment.MAX_SIZE:
            errors.append(_("“%(name)s” is larger than 5 MB.") % {"name": name})
            continue
        if not content:
            errors.append(_("“%(name)s” is empty.") % {"name": name})
            continue
        found = sniff(content[:16])
        if found is None:
            errors.append(
                _("“%(name)s” is not a PDF, JPG or PNG file. Send a scan or a photo of the document.") % {"name": name}
            )
            continue
        content_type, extension = found
        checked.append(
            CheckedFile(
                kind=up.kind,
                original_name=name,
                content=content,
                content_type=content_type,
                extension=extension,
                sha256=hashlib.sha256(content).hexdigest(),
            )
        )
    if errors:
        raise ValidationError({"attachments": errors})
    return checked


def store(application, files: list[CheckedFile], *, actor=None) -> list[Attachment]:
    """Write the files under MEDIA_ROOT (random names) and their rows. When anything fails, the
    files already written are removed before the error goes on (the rows roll back with the
    caller's transaction)."""
    written: list[Attachment] = []
    try:
        for f in files:
            att = Attachment(
                application=application,
                kind=f.kind,
                original_name=f.original_name,
                content_type=f.content_type,
                size=len(f.content),
                sha256=f.sha256,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            att.file.save(f"{uuid.uuid4().hex}.{f.extension}", ContentFile(f.content), save=False)
            written.append(att)
            att.save()
    except BaseException:
        for att in written:
            att.file.delete(save=False)
        raise
    return written


def remove_files(attachments: list[Attachment]) -> None:
    for att in attachments:
        att.file.delete(save=False)
