"""Recognising TLS trust failures, which no retry can fix and which point at ``ca_bundle``."""

from __future__ import annotations

import ssl


def is_certificate_failure(exc: BaseException) -> bool:
    """True when an exception, or anything that caused it, is a certificate verification failure."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
