"""What every loader takes and returns, so that one import use case serves all data types."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from domiland.loaders.bulk import BulkConnection

NumberedRecord = tuple[int, int, dict[str, str]]
"""(record number in its file, source line, fields) as the streaming reader produced it."""


@dataclass(frozen=True)
class RecordWarning:
    """A record skipped for a reason that does not stop the run (IMP-7)."""

    record_no: int
    line: int
    message: str

    def __str__(self) -> str:
        return f"строка {self.line}, запись {self.record_no}: {self.message}"


@dataclass
class BatchResult:
    written: int = 0
    """Rows created or changed (unchanged rows are not counted)."""
    skipped: int = 0
    warnings: list[RecordWarning] = field(default_factory=list)

    def skip(self, record_no: int, line: int, message: str) -> None:
        """Skip one record with a warning (IMP-7)."""
        self.skipped += 1
        self.warnings.append(RecordWarning(record_no, line, message))


def account_ids(bulk: BulkConnection, organization_id: int, batch: Sequence[NumberedRecord]) -> dict[str, int]:
    """``AccountNumber`` → account id for the accounts a batch names (unknown numbers are absent)."""
    return bulk.fetch_ids("accounts", organization_id, "number",
                          list({fields["AccountNumber"] for _, _, fields in batch}))


class Loader(Protocol):
    """Upserts one data type's records for one organization, batch by batch."""

    table: str
    """The table whose per-organization row count tells created from updated."""

    def load(self, batch: Sequence[NumberedRecord]) -> BatchResult:
        """Upsert one batch (the caller commits after it)."""
        ...

    def finish(self) -> BatchResult:
        """Called once after the whole file was read without error, before the last commit.

        For work that needs the complete file, e.g. marking offers missing from a
        feed as withdrawn. Most loaders return an empty :class:`BatchResult`.
        """
        ...
