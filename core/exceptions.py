"""Domain errors. Services raise these; the desk turns them into form errors, the API into
one JSON error format (core.api.errors)."""


class DomainError(Exception):
    """A request that breaks a business rule. Nothing was written."""

    status_code = 400
    title = "Invalid request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(DomainError):
    """The lifecycle table does not allow this status change."""

    status_code = 409
    title = "Transition not allowed"


class StaleWrite(DomainError):
    """Someone else changed the ticket since the caller read it (optimistic locking)."""

    status_code = 412
    title = "Ticket changed meanwhile"

    def __init__(self, message: str = "", *, current_version: int | None = None) -> None:
        super().__init__(
            message
            or "Someone else changed this ticket after you opened it. Reload it and try again; "
            "nothing was saved."
        )
        self.current_version = current_version


class UploadRejected(DomainError):
    """An upload is too large or of a type that is not allowed."""

    title = "Upload refused"
