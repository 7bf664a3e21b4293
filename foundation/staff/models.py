from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation import clock
from foundation.db import Base, UTCDateTime
from foundation.staff.permissions import Permission, permissions_of


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(40), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step accepted, so a code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    sessions: Mapped[list[StaffSession]] = relationship(back_populates="staff")

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.role) if self.is_active else frozenset()

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions

    @property
    def totp_enabled(self) -> bool:
        return self.totp_confirmed_at is not None

    def __str__(self) -> str:
        return self.email


class StaffSession(Base):
    """A server-side session (web) or bearer token (api); only its hash is stored.

    Logging out or deactivating the account revokes the row, so a copied cookie or
    token stops working at once.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "web" or "api"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    staff: Mapped[StaffUser] = relationship(back_populates="sessions")
