"""The one error of the file formats: a file (or a row of it) that cannot be read as the
message it claims to be. The message is a Vietnamese sentence for the person who uploaded the
file; `line` (XML) or `row` (spreadsheet) says where, when known."""

from __future__ import annotations


class FormatError(ValueError):
    def __init__(self, message: str, *, line: int | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.row = row

    def __str__(self) -> str:
        return self.message
