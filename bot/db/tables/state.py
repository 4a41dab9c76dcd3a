"""Residents' conversation state and the channel event ids already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel


class ResidentStateRow(SQLModel, table=True):
    __tablename__ = "resident_state"

    resident: str = Field(primary_key=True, max_length=64)  # opaque key such as "tg:12345"
    locale: str | None = Field(default=None, max_length=16)
    step: str = Field(default="new", max_length=32)
    flow: str | None = Field(default=None, max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    memo: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)  # e.g. "tg:u:123456"
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
