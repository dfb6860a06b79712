"""All or nothing: one write operation in one transaction of the module's session.

A refusal (:class:`~custreg_admin.errors.DomainError`) rolls back and reaches the caller as it
is; a database error rolls back, is logged, and reaches the caller as the operation's own
"nothing was changed" error; anything else rolls back and is raised again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..context import acting_as
from ..errors import DomainError
from ..extensions import db

log = logging.getLogger(__name__)


@contextmanager
def all_or_nothing(
    user: Any, what: str, failed: Callable[[SQLAlchemyError], DomainError]
) -> Iterator[Session]:
    """The module's session, written as ``user``, committed when the block ends; ``what`` names
    the operation in the log, ``failed(error)`` is the error the user sees for a database error."""
    session = db.session
    try:
        with acting_as(user):
            yield session
            session.commit()
    except DomainError:
        session.rollback()
        raise
    except SQLAlchemyError as error:
        session.rollback()
        log.exception("%s failed", what)
        raise failed(error) from error
    except BaseException:
        session.rollback()
        raise
