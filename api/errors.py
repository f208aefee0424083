"""Errors of the application layer and the one place that maps every package's errors to exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.errors import GeoError
from routing.errors import InvalidInputError, RoutingError


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad value in an input file: 1-based data row (0 = the file itself), field and why."""

    row: int
    field: str | None
    error: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, field {self.field}: {self.error}" if self.field else f"{where}: {self.error}"


class DoorstepError(Exception):
    """Base class of the application layer's errors."""


class InputFileError(DoorstepError):
    """An input file has bad rows; ``problems`` lists every one."""

    def __init__(self, path: Path, problems: list[RowProblem]) -> None:
        self.path = path
        self.problems = problems
        shown = "\n".join(f"  {path}: {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{path}: {len(problems)} problem(s)\n{shown}{more}")


class ConfigurationError(DoorstepError):
    """A setting or option is unusable (unknown time zone, missing file)."""


def exit_code(error: BaseException) -> int:
    """The CLI's exit status for an error: 2 for anything the user's input caused, 1 otherwise."""
    if isinstance(error, InputFileError | ConfigurationError | InvalidInputError):
        return 2
    if isinstance(error, GeoError | RoutingError | DoorstepError):
        return 1
    return 1


class ApiError(DoorstepError):
    """An error the HTTP layer answers with ``{"error": {"code", "message", "details"}}`` and ``status``."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: object = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class BadRequestError(ApiError):
    status, code = 422, "invalid"


class UnauthorizedError(ApiError):
    status, code = 401, "unauthorized"


class ForbiddenError(ApiError):
    status, code = 403, "forbidden"


class NotFoundError(ApiError):
    status, code = 404, "not_found"


class ConflictError(ApiError):
    status, code = 409, "conflict"


class GoneError(ApiError):
    status, code = 410, "gone"


def with_status(error: ApiError, status: int) -> ApiError:
    """The same error answered with another HTTP status."""
    error.status = status
    return error
