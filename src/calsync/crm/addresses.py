"""Email addresses as the CRM stores and compares them.

Addresses are kept as the person typed them (trimmed) for display and invitations, and compared in a
normalized form: trimmed and lower-cased, which is how SPEC §3 matches attendees.
"""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from calsync.crm.errors import InvalidInputError

MAX_EMAIL_LENGTH = 320


def normalize_email(address: str) -> str:
    """The form every comparison uses: surrounding space removed, lower case."""
    return address.strip().lower()


def checked_email(value: str, field: str) -> str:
    """`value` trimmed, after checking it is a well-formed address; raises naming `field` if not.

    Deliverability (DNS) is not checked: the CRM must accept addresses of domains it cannot reach.
    """
    address = value.strip()
    if not address:
        raise InvalidInputError("an email address is required", field=field)
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidInputError(
            f"email address is longer than {MAX_EMAIL_LENGTH} characters", field=field
        )
    problem = _syntax_problem(address)
    if problem is not None:
        raise InvalidInputError(
            f"'{address}' is not a valid email address: {problem}", field=field
        ) from None
    return address


@lru_cache(maxsize=16_384)
def _syntax_problem(address: str) -> str | None:
    """What is wrong with `address`'s syntax, or None. Remembered per address: the check costs
    tens of microseconds and a sync import meets the same clients' addresses on many events."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None


def optional_email(value: str | None, field: str) -> str | None:
    """Like `checked_email`, but an empty or missing value means "no address"."""
    if value is None or not value.strip():
        return None
    return checked_email(value, field)
