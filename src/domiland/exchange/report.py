"""The result of one operation: counts, warnings and the first error, for the log, the e-mail and XCom (LOG-6)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from domiland.db.models import LogStatus

MAX_LISTED_WARNINGS = 100


@dataclass
class FileReport:
    path: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    deleted: bool = False
    error: str | None = None


@dataclass
class ImportReport:
    """Counts per file and in total; at most :data:`MAX_LISTED_WARNINGS` warnings are kept, all are counted."""

    files: list[FileReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    error: str | None = None
    error_kind: str | None = None
    """``data`` (the input is wrong: retrying won't help), ``transport`` (may pass on retry) or ``settings``."""

    def warn(self, text: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED_WARNINGS:
            self.warnings.append(text)

    def fail(self, text: str, kind: str) -> None:
        if self.error is None:  # the first error is the one that stopped the run
            self.error, self.error_kind = text, kind

    @property
    def status(self) -> LogStatus:
        if self.error:
            return LogStatus.ERROR
        return LogStatus.WARNING if self.warning_count else LogStatus.DONE

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    def message(self) -> str:
        """The log row's text, for people (Russian, like the rest of the CRM)."""
        n_files = len(self.files)
        lines = [
            f"Прочитано записей: {self.total('read')} (файлов: {n_files}); создано {self.total('created')}, "
            f"обновлено {self.total('updated')}, без изменений {self.total('unchanged')}, "
            f"пропущено {self.total('skipped')}."
        ]
        deleted = [f.path for f in self.files if f.deleted]
        if deleted:
            lines.append("Удалены с сервера после чтения: " + ", ".join(deleted) + ".")
        if self.error:
            lines.append(f"Ошибка: {self.error}")
        if self.warning_count:
            lines.append(f"Предупреждения ({self.warning_count}):")
            lines.extend(self.warnings)
            if self.warning_count > len(self.warnings):
                lines.append(f"… и ещё {self.warning_count - len(self.warnings)}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {**asdict(self), "status": self.status.value}
