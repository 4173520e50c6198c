"""Which failures a task retries: infrastructure (database locked or away, SMTP down), never domain errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DisconnectionError, OperationalError

from partnerprojekte.errors import DomainError

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State, TaskRun
    from prefect.tasks import Task

# OperationalError covers "database is locked" (SQLite) and a lost connection (PostgreSQL); the OS errors
# cover a refused or timed-out connection. All of them may pass by themselves; a DomainError never does.
RETRYABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    DisconnectionError,
    ConnectionError,
    TimeoutError,
)


def is_retryable(exc: BaseException | None) -> bool:
    """Whether trying again may help: infrastructure errors yes, domain errors and bugs no."""
    if exc is None or isinstance(exc, DomainError):
        return False
    return isinstance(exc, RETRYABLE)


def retry_on_infrastructure(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect's ``retry_condition_fn``: retry a failed task run only for an infrastructure error."""
    data = state.data
    if isinstance(data, BaseException):
        return is_retryable(data)
    try:
        state.result(raise_on_failure=True)
    except BaseException as exc:  # the failure itself is what we classify
        return is_retryable(exc)
    return False
