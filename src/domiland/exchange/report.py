"""The result of one operation: counts, warnings and the first error, for the log, the e-mail and XCom (LOG-6)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

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

    error_note = "Операция остановлена на этой ошибке; данные, загруженные до неё, остались в CRM."
    """What an error means for the data, for the e-mail report."""

    @property
    def status(self) -> LogStatus:
        if self.error:
            return LogStatus.ERROR
        return LogStatus.WARNING if self.warning_count else LogStatus.DONE

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    def summary_lines(self) -> list[str]:
        """Counts (and deleted files): the part of the message that is not error or warnings."""
        lines = [
            f"Прочитано записей: {self.total('read')} (файлов: {len(self.files)}); создано {self.total('created')}, "
            f"обновлено {self.total('updated')}, без изменений {self.total('unchanged')}, "
            f"пропущено {self.total('skipped')}."
        ]
        deleted = [f.path for f in self.files if f.deleted]
        if deleted:
            lines.append("Удалены с сервера после чтения: " + ", ".join(deleted) + ".")
        return lines

    def message(self) -> str:
        """The log row's text, for people (Russian, like the rest of the CRM)."""
        lines = self.summary_lines()
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


@dataclass
class ExportReport:
    """One export window: its bounds, the file and row count, or why no file was made."""

    rows: int = 0
    window_start: datetime | None = None
    window_end: datetime | None = None
    file_name: str | None = None
    warnings: list[str] = field(default_factory=list)
    """Things the partner should fix, e.g. a file name template that repeats itself."""
    skipped: str | None = None
    error: str | None = None
    error_kind: str | None = None

    error_note = "Файл не выгружен; следующий успешный запуск выгрузит эти записи."

    def fail(self, text: str, kind: str) -> None:
        if self.error is None:
            self.error, self.error_kind = text, kind

    @property
    def warning_count(self) -> int:
        return len(self.warnings)

    @property
    def status(self) -> LogStatus:
        if self.error:
            return LogStatus.ERROR
        return LogStatus.WARNING if self.warnings else LogStatus.DONE

    def summary_lines(self) -> list[str]:
        lines = []
        if self.window_start and self.window_end:
            start = "начала" if self.window_start.year <= 1970 else f"{self.window_start:%Y-%m-%d %H:%M:%S %Z}"
            lines.append(f"Период записей: с {start} по {self.window_end:%Y-%m-%d %H:%M:%S %Z}.")
        if self.skipped:
            lines.append(f"Файл не создан: {self.skipped}.")
        elif self.file_name:
            lines.append(f"Выгружено записей: {self.rows} в файл {self.file_name}.")
        return lines

    def message(self) -> str:
        lines = self.summary_lines()
        if self.error:
            lines.append(f"Ошибка: {self.error}")
        return "\n".join(lines + self.warnings)

    def to_dict(self) -> dict:
        return {"rows": self.rows, "file_name": self.file_name, "skipped": self.skipped, "warnings": self.warnings,
                "window_start": self.window_start.isoformat() if self.window_start else None,
                "window_end": self.window_end.isoformat() if self.window_end else None,
                "error": self.error, "error_kind": self.error_kind, "status": self.status.value}


Report = ImportReport | ExportReport
