"""The organisation: the one firm this CalSync installation serves, and its Sync Settings (SPEC
§7).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from calsync.crm.models.base import Base, Timestamped

DEFAULT_RUN_FREQUENCY_MINUTES = 15
DEFAULT_WINDOW_PAST_DAYS = 30
DEFAULT_WINDOW_FUTURE_DAYS = 365
# How long the sync log and the record of sync runs are kept (the sync service prunes older ones).
DEFAULT_SYNC_LOG_RETENTION_DAYS = 90


class Organization(Base, Timestamped):
    """The single organisation row, created on first use.

    The secret columns hold bytes; encrypting them is the job of the layer that writes them, this
    table only
    keeps them. They are never shown back to anyone.
    """

    __tablename__ = "organization"
    __table_args__ = (
        # One firm per installation: the row is always id 1, so two first uses cannot create two.
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("run_frequency_minutes > 0", name="run_frequency_positive"),
        CheckConstraint("window_past_days >= 0", name="window_past_not_negative"),
        CheckConstraint("window_future_days >= 0", name="window_future_not_negative"),
        CheckConstraint("sync_log_retention_days > 0", name="sync_log_retention_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    sync_enabled: Mapped[bool] = mapped_column(default=False)
    run_frequency_minutes: Mapped[int] = mapped_column(default=DEFAULT_RUN_FREQUENCY_MINUTES)
    window_past_days: Mapped[int] = mapped_column(default=DEFAULT_WINDOW_PAST_DAYS)
    window_future_days: Mapped[int] = mapped_column(default=DEFAULT_WINDOW_FUTURE_DAYS)
    sync_log_retention_days: Mapped[int] = mapped_column(default=DEFAULT_SYNC_LOG_RETENTION_DAYS)
    tenant_id: Mapped[str | None] = mapped_column(String(100))
    client_id: Mapped[str | None] = mapped_column(String(100))
    client_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    certificate_thumbprint: Mapped[str | None] = mapped_column(String(100))
    certificate_pem: Mapped[str | None] = mapped_column(Text)
    certificate_private_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
