"""Events in, replies out: the only vocabulary shared by the core and every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Kind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"  # a button was pressed
    COMMAND = "command"  # /start, /menu ...
    CONTACT = "contact"  # a phone number shared with the channel's contact button
    MEDIA = "media"  # voice note, photo, sticker, location, document ...


@dataclass(frozen=True, slots=True)
class Media:
    """A message the core cannot read; `ref` lets the channel copy it elsewhere."""

    kind: str  # voice | audio | photo | video | video_note | sticker | location | document | other
    ref: str = ""  # channel-specific, e.g. "chat_id:message_id" on Telegram


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str
    is_own: bool  # the channel checked the contact belongs to the sender


@dataclass(frozen=True, slots=True)
class Incoming:
    """One event from a resident."""

    resident: str  # opaque, stable key such as "tg:12345"; never a name
    kind: Kind
    text: str = ""
    choice: str = ""  # the pressed button's id
    command: str = ""  # lower-case, without the slash
    args: str = ""
    contact: Contact | None = None
    media: Media | None = None
    language_hint: str | None = None  # the language the client reports (IETF tag)
    first_name: str | None = None  # used only where a flow asks for it; never logged
    event_id: str | None = None  # channel's update id, for at-most-once handling


@dataclass(frozen=True, slots=True)
class StaffIncoming:
    """One event from a bridge-builder in the staff group."""

    staff_id: str  # opaque key such as "tg:777"
    first_name: str
    kind: Kind
    topic: str | None = None  # forum topic (thread) id, when the message is in one
    text: str = ""
    choice: str = ""
    command: str = ""
    args: str = ""
    media: Media | None = None
    message_ref: str = ""  # for copying the staff message to a resident
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """A button. `id` is short and opaque (at most 64 bytes UTF-8 on Telegram)."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes
    mime: str


@dataclass(slots=True)
class Reply:
    """One message to send. `text` is in the content Markdown subset."""

    text: str = ""
    choices: list[list[Choice]] = field(default_factory=list)  # rows of buttons
    voice: Path | None = None  # an OGG/Opus file to send as a voice note after the text
    attachment: Attachment | None = None  # e.g. an .ics calendar file
    copy: Media | None = None  # relay a message the channel holds instead of text
    request_contact: str | None = None  # label of a "share my phone number" button
    edit: bool = False  # may replace the message whose button was pressed


@dataclass(frozen=True, slots=True)
class ToResident:
    resident: str


@dataclass(frozen=True, slots=True)
class ToStaff:
    """The staff group: a ticket's topic, or the general thread when ticket is None."""

    ticket: int | None = None
    urgent: bool = False
    title: str | None = None  # forum topic title, used when the ticket's topic must be created


Target = ToResident | ToStaff


@dataclass(slots=True)
class Outbound:
    target: Target
    reply: Reply


def to(resident: str, *replies: Reply) -> list[Outbound]:
    """Address replies to one resident."""
    return [Outbound(ToResident(resident), r) for r in replies]
