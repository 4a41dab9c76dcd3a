"""Appointment requests: the resident's flow, the bridge-builders' staff handler, the reminders."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.content.model import Content
from bot.core.dates import format_datetime_local, format_slot_local
from bot.core.flows import Ctx
from bot.core.hours import OpeningHours
from bot.core.i18n import N_, I18n, language_name
from bot.core.ics import appointment_ics
from bot.core.messages import (
    Choice,
    Incoming,
    Kind,
    Outbound,
    Reply,
    StaffIncoming,
    ToResident,
    ToStaff,
)
from bot.core.ports import Analytics
from bot.markup import escape

log = logging.getLogger(__name__)

FLOW = "appt"  # resident button prefix and flow state name
STAFF = "appts"  # staff button prefix
OTHER_TOPIC = "other"
NOTE_MAX = 500
REASON_MAX = 500
SLOT_BUTTONS = 16  # at most this many preferred-time buttons (Telegram keyboards stay readable)
PROPOSE_BUTTONS = 8
REMIND_BEFORE = timedelta(hours=24)

# The resident's /appointments command and its local-language synonyms (Telegram commands are
# latin letters, digits and underscores only).
RESIDENT_COMMANDS = frozenset(
    {
        "appointments", "appointment", "meeting", "meetings",  # en
        "moten", "mote", "tider", "bokning", "bokningar",  # sv (möte without the dots)
        "tapaamiset", "tapaaminen", "ajanvaraus", "ajat",  # fi
        "programari", "programare", "intalniri",  # ro (programări, întâlniri)
        "maladimata", "maladipe", "arakhadimata",  # rmn, rmy: "meetings"
    }
)
TYPED_PHONE = re.compile(r"^\+?[\d\s\-()]{7,24}$")
STAFF_COMMANDS = frozenset({"appointments", "propose", "decline"})


class Status(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    DONE = "done"
    NO_SHOW = "no_show"


OPEN = frozenset({Status.REQUESTED, Status.CONFIRMED})

# One resident cannot flood the staff group: requests still open, and new ones per hour.
MAX_OPEN_REQUESTS = 3
MAX_NEW_PER_HOUR = 3

# Short reasons a bridge-builder can pick with one button; shown to the resident translated.
DECLINE_REASONS: dict[str, str] = {
    "full": N_("Unfortunately we have no free time for a meeting in the next weeks."),
    "elsewhere": N_("Another office can help you better with this; we will tell you where."),
    "answered": N_("We think your question can be answered here in the chat instead."),
}

STATUS_LABELS: dict[str, str] = {
    Status.REQUESTED: N_("waiting for an answer"),
    Status.CONFIRMED: N_("confirmed"),
    Status.DECLINED: N_("declined"),
    Status.CANCELLED: N_("cancelled"),
    Status.DONE: N_("done"),
    Status.NO_SHOW: N_("missed"),
}


# ---------------------------------------------------------------------------------------------
# The port: what the flow needs from storage (bot.db.appointments_store implements it).


@dataclass(frozen=True, slots=True)
class NewRequest:
    resident: str
    locale: str
    topic: str
    preferred: tuple[datetime, ...]
    any_time: bool
    interpreter: bool
    romani_speaker: bool
    contact: str  # chat | phone
    phone: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Appointment:
    id: int
    resident: str
    locale: str
    topic: str
    preferred: tuple[datetime, ...]
    any_time: bool
    interpreter: bool
    romani_speaker: bool
    contact: str
    phone: str | None
    note: str | None
    status: Status
    created_at: datetime
    updated_at: datetime
    proposed_start: datetime | None = None
    confirmed_start: datetime | None = None
    minutes: int = 60
    place: str | None = None
    handler: str | None = None
    handler_name: str | None = None
    decline_reason: str | None = None
    reminder_sent_at: datetime | None = None


class AppointmentError(Exception):
    """A change the appointment's state does not allow; nothing was changed."""


class NotFound(AppointmentError):
    pass


class WrongStatus(AppointmentError):
    def __init__(self, status: Status) -> None:
        super().__init__(status)
        self.status = status


class AlreadyBooked(AppointmentError):
    """The bridge-builder already has a confirmed appointment at that start."""


class AppointmentStore(Protocol):
    def create(self, request: NewRequest, *, now: datetime) -> Appointment: ...

    def get(self, appointment_id: int) -> Appointment | None: ...

    def for_resident(self, resident: str) -> list[Appointment]: ...

    def for_staff(self, now: datetime) -> list[Appointment]:
        """Requests waiting for an answer and confirmed ones not yet marked done, oldest first."""

    def confirm(
        self,
        appointment_id: int,
        *,
        start: datetime,
        handler: str,
        handler_name: str,
        place: str | None,
        remind_at: datetime | None,
        now: datetime,
    ) -> Appointment:
        """Raises NotFound, WrongStatus (not requested), AlreadyBooked."""

    def propose(
        self, appointment_id: int, *, start: datetime, handler: str, handler_name: str, now: datetime
    ) -> Appointment: ...

    def reject_proposal(self, appointment_id: int, *, now: datetime) -> Appointment: ...

    def decline(
        self, appointment_id: int, *, reason: str, handler: str, handler_name: str, now: datetime
    ) -> Appointment: ...

    def cancel(self, appointment_id: int, *, resident: str, now: datetime) -> Appointment:
        """The resident's own open appointment only; raises NotFound for anyone else's."""

    def finish(self, appointment_id: int, *, status: Status, handler: str, now: datetime) -> Appointment:
        """Mark a confirmed appointment done or no_show."""

    def booked_starts(self, handler: str, *, start: datetime, end: datetime) -> set[datetime]: ...

    def take_due_reminders(self, now: datetime) -> list[Appointment]:
        """Confirmed appointments whose reminder is due; marks them sent in the same transaction."""

    def forget(self, resident: str, *, now: datetime) -> list[Appointment]:
        """Cancel the resident's open requests and strip every personal field from all of them.

        Returns the open ones that were cancelled (as they were before), so staff can be told."""


# ---------------------------------------------------------------------------------------------
# Button ids: built and parsed here only. Times travel as UTC "yymmddHHMM" (10 bytes).


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%y%m%d%H%M")


def parse_stamp(s: str) -> datetime | None:
    if len(s) != 10 or not s.isdigit():
        return None
    try:
        # Always this century: strptime's %y would read "69" as 1969.
        return datetime.strptime("20" + s, "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def button(prefix: str, *parts: object) -> str:
    cid = ":".join([prefix, *(str(p) for p in parts)])
    assert len(cid.encode()) <= 64, cid
    return cid


def parse_button(cid: str, prefix: str) -> list[str] | None:
    head, _, rest = cid.partition(":")
    if head != prefix or not rest:
        return None
    return rest.split(":")


def _int(s: str) -> int | None:
    return int(s) if s.isdigit() and len(s) < 10 else None


# ---------------------------------------------------------------------------------------------
# Shared wording


class ContentSource(Protocol):
    """Something holding the current content, such as bot.content.reload.ContentHolder."""

    @property
    def content(self) -> Content: ...


def current(source: Content | ContentSource) -> Content:
    return source if isinstance(source, Content) else source.content


@dataclass(slots=True)
class Wording:
    """Texts about one appointment in a given locale (for the resident or the staff group)."""

    source: Content | ContentSource
    i18n: I18n
    tz: str

    @property
    def content(self) -> Content:
        """The current content: a ContentHolder's latest after a reload, or a fixed Content."""
        return current(self.source)

    def topic(self, topic: str, locale: str) -> str:
        cat = self.content.categories.get(topic)
        if cat is None:
            return self.i18n.gettext(locale, "Something else")
        return f"{cat.emoji} {cat.name(locale)}".strip()

    def when(self, dt: datetime, locale: str) -> str:
        return format_datetime_local(dt, locale, self.tz)

    def slot(self, dt: datetime, locale: str) -> str:
        return format_slot_local(dt, locale, self.tz)

    def place(self, locale: str) -> str | None:
        return self.content.profile_value("bridge_builders_place", locale)

    def needs(self, interpreter: bool, romani: bool, locale: str) -> str:
        _ = self.i18n.gettext_for(locale)
        if interpreter and romani:
            return _("an interpreter and a Romani-speaking bridge-builder")
        if interpreter:
            return _("an interpreter")
        if romani:
            return _("a Romani-speaking bridge-builder")
        return _("no interpreter needed")

    def times(self, preferred: tuple[datetime, ...] | list[datetime], any_time: bool, locale: str) -> str:
        if any_time or not preferred:
            return self.i18n.gettext(locale, "any time")
        return ", ".join(self.slot(t, locale) for t in sorted(preferred))

    def outcome_confirmed(self, appt: Appointment, now: datetime) -> Reply:
        """The resident's message for a confirmed appointment, with the calendar file."""
        loc = appt.locale
        _ = self.i18n.gettext_for(loc)
        assert appt.confirmed_start is not None
        place = appt.place or self.place(loc) or ""
        lines = [
            _("✅ Your meeting with a bridge-builder is confirmed."),
            "",
            _("When: {when}").format(when=self.when(appt.confirmed_start, loc)),
        ]
        if place:
            lines.append(_("Where: {place}").format(place=place))
        if appt.handler_name:
            lines.append(_("With: {name}").format(name=escape(appt.handler_name)))
        lines += ["", _("The calendar file below adds the meeting to your phone's calendar."),
                  _("If you cannot come, cancel with /appointments.")]
        ics = appointment_ics(
            uid=f"appointment-{appt.id}@samvag",
            start=appt.confirmed_start,
            minutes=appt.minutes,
            summary=_("Meeting with a bridge-builder"),
            location=place,
            now=now,
            description=self.topic(appt.topic, loc),
        )
        return Reply(text="\n".join(lines), attachment=ics)


# ---------------------------------------------------------------------------------------------
# The resident's flow

STEPS = ("topic", "times", "needs", "contact", "note", "summary")


@dataclass(slots=True)
class AppointmentFlow:
    """Request a meeting with buttons: topic, times, language needs, contact, note, summary."""

    content: Content | ContentSource
    store: AppointmentStore
    hours: OpeningHours
    i18n: I18n
    tz: str = "Europe/Stockholm"
    staff_locale: str = "sv"
    analytics: Analytics | None = None
    slot_minutes: int = 60
    name: str = FLOW
    commands: frozenset[str] = RESIDENT_COMMANDS
    wording: Wording = field(init=False)

    def __post_init__(self) -> None:
        self.wording = Wording(self.content, self.i18n, self.tz)

    # -- Flow protocol -------------------------------------------------------------------------

    def menu_label(self, ctx: Ctx) -> str | None:
        return ctx._("📅 Book a meeting")

    def start(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        if incoming.kind == Kind.COMMAND and incoming.command in self.commands:
            return self._my_list(ctx)
        ctx.enter(FLOW, {"step": "topic", "v": 1, "times": [], "any": False})
        return self._ask(ctx)

    def handle(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        if incoming.kind == Kind.COMMAND and incoming.command in self.commands:
            return self._my_list(ctx)
        if incoming.kind == Kind.CHOICE:
            parts = parse_button(incoming.choice, FLOW)
            if parts is None:
                return self._ask(ctx) if self._inside(ctx) else []
            return self._on_button(ctx, parts)
        if not self._inside(ctx):
            return []
        step = ctx.data.get("step")
        if incoming.kind == Kind.CONTACT and step == "contact" and incoming.contact:
            return self._on_contact(ctx, incoming)
        if incoming.kind == Kind.TEXT and step == "note":
            return self._on_note(ctx, incoming.text)
        if incoming.kind == Kind.TEXT and step == "contact" and TYPED_PHONE.match(incoming.text.strip()):
            # A number typed by the resident themselves (or in the terminal chat) is their choice;
            # only a shared contact card can be someone else's without them noticing.
            return self._take_phone(ctx, incoming.text)
        if incoming.kind == Kind.CONTACT:
            hint = ctx._("Thank you, but I did not ask for a phone number just now.")
        elif incoming.kind == Kind.MEDIA:
            hint = ctx._("I cannot read that here. Please use the buttons.")
        else:
            hint = ctx._("Please choose with the buttons below, or press Cancel.")
        return self._reply(ctx, Reply(hint), *self._ask_replies(ctx))

    # -- helpers --------------------------------------------------------------------------------

    def _inside(self, ctx: Ctx) -> bool:
        return ctx.flow == FLOW and ctx.data.get("step") in STEPS

    def _reply(self, ctx: Ctx, *replies: Reply) -> list[Outbound]:
        return [Outbound(ToResident(ctx.resident), r) for r in replies]

    def _nav(self, ctx: Ctx) -> list[Choice]:
        return [Choice(button(FLOW, "b"), ctx._("⬅️ Back")), Choice(button(FLOW, "x"), ctx._("✖️ Cancel"))]

    def _slots(self, ctx: Ctx) -> list[datetime]:
        return self.hours.slots(ctx.now, days=14, minutes=self.slot_minutes)[:SLOT_BUTTONS]

    def _changed(self, ctx: Ctx) -> None:
        ctx.data["v"] = int(ctx.data.get("v", 1)) + 1

    def _next(self, ctx: Ctx, step: str) -> list[Outbound]:
        """Move on after an answer: to `step`, or back to the summary when changing one field."""
        self._changed(ctx)
        ctx.data["step"] = "summary" if ctx.data.get("editing") else step
        return self._ask(ctx)

    def _ask(self, ctx: Ctx, *, edit: bool = False) -> list[Outbound]:
        replies = self._ask_replies(ctx)
        if edit:
            replies[0].edit = True
        return self._reply(ctx, *replies)

    def _ask_replies(self, ctx: Ctx) -> list[Reply]:
        _ = ctx._
        step = ctx.data.get("step", "topic")
        if step == "topic":
            rows = [
                [Choice(button(FLOW, "t", cid), f"{cat.emoji} {cat.name(ctx.locale)}".strip())]
                for cid, cat in self.wording.content.categories.items()
                if len(button(FLOW, "t", "x")) + len(cid.encode()) <= 64
            ]
            rows.append([Choice(button(FLOW, "t", "-"), _("💬 Something else"))])
            rows.append(self._nav(ctx))
            return [Reply(_("📅 Book a meeting with a bridge-builder.\n\nWhat is it about?"), rows)]
        if step == "times":
            chosen = set(ctx.data.get("times", []))
            slots = self._slots(ctx)
            buttons = [
                Choice(
                    button(FLOW, "s", stamp(s)),
                    ("✅ " if stamp(s) in chosen else "") + self.wording.slot(s, ctx.locale),
                )
                for s in slots
            ]
            rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
            rows.append([Choice(button(FLOW, "any"), _("🕑 Any time suits me"))])
            if chosen:
                label = ctx.ngettext("Done: {n} time chosen", "Done: {n} times chosen", len(chosen))
                rows.append([Choice(button(FLOW, "sd"), "➡️ " + label.format(n=len(chosen)))])
            rows.append(self._nav(ctx))
            text = _("Which times suit you? You can choose several.")
            if not slots:
                text = _("There are no guidance hours in the next two weeks. Choose 'Any time' and we will suggest a time.")
            return [Reply(text, rows)]
        if step == "needs":
            rows = [
                [Choice(button(FLOW, "l", "i"), _("🗣️ An interpreter"))],
                [Choice(button(FLOW, "l", "r"), _("🤝 A Romani-speaking bridge-builder"))],
                [Choice(button(FLOW, "l", "b"), _("Both"))],
                [Choice(button(FLOW, "l", "n"), _("No, thank you"))],
                self._nav(ctx),
            ]
            return [Reply(_("Would you like an interpreter or a Romani-speaking bridge-builder?"), rows)]
        if step == "contact":
            rows = [[Choice(button(FLOW, "c", "chat"), _("💬 Answer me here in this chat"))], self._nav(ctx)]
            # Telegram cannot show inline buttons and the contact keyboard on one message.
            return [
                Reply(_("How should we reach you? We can answer here, or you can share your phone number with the button below the text field."), rows),
                Reply(_("Or press the button below to share your phone number."), request_contact=_("📞 Share my phone number")),
            ]
        if step == "note":
            rows = [[Choice(button(FLOW, "n", "-"), _("No note"))], self._nav(ctx)]
            if ctx.data.get("long"):
                rows.insert(0, [Choice(button(FLOW, "n", "cut"), _("✂️ Use the first 500 characters"))])
            return [Reply(_("Anything else we should know? Write a short note (at most 500 characters), or press 'No note'."), rows)]
        return [self._summary(ctx)]

    def _summary(self, ctx: Ctx) -> Reply:
        _ = ctx._
        d = ctx.data
        v = d.get("v", 1)
        times = [t for t in (parse_stamp(s) for s in d.get("times", [])) if t]
        contact = _("here in this chat") if d.get("contact") != "phone" else _("by phone: {phone}").format(phone=d.get("phone", ""))
        lines = [
            _("Please check your request:"),
            "",
            _("Topic: {topic}").format(topic=self.wording.topic(d.get("topic", OTHER_TOPIC), ctx.locale)),
            _("Times: {times}").format(times=self.wording.times(times, bool(d.get("any")), ctx.locale)),
            _("Language: {needs}").format(needs=self.wording.needs(bool(d.get("interpreter")), bool(d.get("romani")), ctx.locale)),
            _("Contact: {contact}").format(contact=contact),
        ]
        if d.get("note"):
            lines.append(_("Note: {note}").format(note=escape(d["note"])))
        rows = [
            [Choice(button(FLOW, "ok", v), _("✅ Send request"))],
            [Choice(button(FLOW, "ch", v), _("✏️ Change something"))],
            [Choice(button(FLOW, "x"), _("✖️ Cancel"))],
        ]
        return Reply("\n".join(lines), rows)

    # -- buttons --------------------------------------------------------------------------------

    def _on_button(self, ctx: Ctx, parts: list[str]) -> list[Outbound]:
        action, args = parts[0], parts[1:]
        # Buttons that work outside the request form: lists, cancelling, answering a proposal.
        if action == "my":
            return self._my_list(ctx)
        if action == "new":
            return self.start(ctx, Incoming(ctx.resident, Kind.CHOICE))
        if action in ("cx", "cy", "cn", "pa", "pr"):
            return self._on_existing(ctx, action, args)
        if not self._inside(ctx):
            if action == "ok":
                text = ctx._("This request has already been sent, or the form was closed. Your requests are under /appointments.")
            else:
                text = ctx._("This form is closed. You can start a new request or see your appointments.")
            return self._reply(ctx, Reply(text, self._new_or_list(ctx)))
        d = ctx.data
        step = d.get("step")
        if action == "x":
            ctx.leave()
            return self._reply(ctx, Reply(ctx._("Cancelled. Nothing was sent."), self._new_or_list(ctx)))
        if action == "b":
            return self._back(ctx)
        if action in ("ok", "ch"):
            if step != "summary" or not args or args[0] != str(d.get("v")):
                return self._reply(
                    ctx,
                    Reply(ctx._("That summary is out of date: the request has changed since. Here is the current one.")),
                    *self._ask_replies(ctx),
                )
            if action == "ok":
                return self._submit(ctx)
            rows = [
                [Choice(button(FLOW, "e", s), label)]
                for s, label in (
                    ("topic", ctx._("Topic")),
                    ("times", ctx._("Times")),
                    ("needs", ctx._("Language")),
                    ("contact", ctx._("Contact")),
                    ("note", ctx._("Note")),
                )
            ]
            rows.append([Choice(button(FLOW, "e", "summary"), ctx._("⬅️ Back to the summary"))])
            return self._reply(ctx, Reply(ctx._("What would you like to change?"), rows))
        if action == "e" and args and args[0] in STEPS:
            d["editing"] = args[0] != "summary"
            d["step"] = args[0]
            if args[0] == "summary":
                d.pop("editing", None)
            return self._ask(ctx)
        if action == "t" and step == "topic" and args:
            topic = args[0]
            if topic != "-" and topic not in self.wording.content.categories:
                return self._reply(ctx, Reply(ctx._("That topic no longer exists. Please choose again.")), *self._ask_replies(ctx))
            d["topic"] = OTHER_TOPIC if topic == "-" else topic
            return self._next(ctx, "times")
        if action == "s" and step == "times" and args:
            return self._toggle_slot(ctx, args[0])
        if action == "any" and step == "times":
            d["any"], d["times"] = True, []
            return self._next(ctx, "needs")
        if action == "sd" and step == "times":
            offered = {stamp(s) for s in self._slots(ctx)}
            kept = [s for s in d.get("times", []) if s in offered]
            if not kept:
                d["times"] = []
                return self._reply(ctx, Reply(ctx._("The times you chose have passed. Please choose again.")), *self._ask_replies(ctx))
            d["times"], d["any"] = sorted(kept), False
            return self._next(ctx, "needs")
        if action == "l" and step == "needs" and args and args[0] in ("i", "r", "b", "n"):
            d["interpreter"] = args[0] in ("i", "b")
            d["romani"] = args[0] in ("r", "b")
            return self._next(ctx, "contact")
        if action == "c" and step == "contact" and args == ["chat"]:
            d["contact"] = "chat"
            d.pop("phone", None)
            return self._next(ctx, "note")
        if action == "n" and step == "note" and args:
            if args[0] == "cut" and d.get("long"):
                d["note"] = d.pop("long")
            elif args[0] == "-":
                d.pop("note", None)
                d.pop("long", None)
            return self._next(ctx, "summary")
        # A button from an earlier step of this form: show where we are now.
        return self._reply(ctx, Reply(ctx._("That button belongs to an earlier step. Here is where we are now.")), *self._ask_replies(ctx))

    def _toggle_slot(self, ctx: Ctx, raw: str) -> list[Outbound]:
        when = parse_stamp(raw)
        offered = {stamp(s) for s in self._slots(ctx)}
        if when is None or raw not in offered:
            text = ctx._("That time has passed or is not offered. Please choose another.")
            if when is not None and when > ctx.now:
                text = ctx._("That time is not one of the guidance hours. Please choose another.")
            return self._reply(ctx, Reply(text), *self._ask_replies(ctx))
        chosen = set(ctx.data.get("times", []))
        chosen.symmetric_difference_update({raw})
        ctx.data["times"] = sorted(chosen)
        ctx.data["any"] = False
        self._changed(ctx)
        return self._ask(ctx, edit=True)

    def _back(self, ctx: Ctx) -> list[Outbound]:
        step = ctx.data.get("step")
        if ctx.data.get("editing") or step == "summary":
            ctx.data.pop("editing", None)
            ctx.data["step"] = "summary" if step != "summary" else "note"
            return self._ask(ctx)
        i = STEPS.index(step)
        if i == 0:
            ctx.leave()
            return self._reply(ctx, Reply(ctx._("Cancelled. Nothing was sent."), self._new_or_list(ctx)))
        ctx.data["step"] = STEPS[i - 1]
        return self._ask(ctx)

    def _on_contact(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        contact = incoming.contact
        assert contact is not None
        if not contact.is_own:
            return self._reply(
                ctx,
                Reply(ctx._("That looks like someone else's phone number. For your privacy we only take your own: press 'Share my phone number', or let us answer here in the chat.")),
                *self._ask_replies(ctx),
            )
        return self._take_phone(ctx, contact.phone)

    def _take_phone(self, ctx: Ctx, raw: str) -> list[Outbound]:
        phone = re.sub(r"[^\d+]", "", raw)[:32]
        if not 5 <= len(re.sub(r"\D", "", phone)) <= 15:
            return self._reply(ctx, Reply(ctx._("I could not read that phone number. Please try again.")), *self._ask_replies(ctx))
        ctx.data["contact"], ctx.data["phone"] = "phone", phone
        return self._next(ctx, "note")

    def _on_note(self, ctx: Ctx, text: str) -> list[Outbound]:
        text = text.strip()
        if not text:
            return self._ask(ctx)
        if len(text) > NOTE_MAX:
            # Nothing is lost: the resident's message stays in the chat to copy from, and the first
            # 500 characters are kept to use with one button.
            ctx.data["long"] = text[:NOTE_MAX]
            msg = ctx._("Your note is {n} characters long, but at most 500 fit. Please send a shorter note, or use the first 500 characters.").format(n=len(text))
            return self._reply(ctx, Reply(msg), *self._ask_replies(ctx))
        ctx.data["note"] = text
        ctx.data.pop("long", None)
        return self._next(ctx, "summary")

    def _submit(self, ctx: Ctx) -> list[Outbound]:
        d = ctx.data
        times = tuple(t for t in (parse_stamp(s) for s in d.get("times", [])) if t and t > ctx.now)
        if not d.get("any") and not times:
            d["step"], d["times"] = "times", []
            self._changed(ctx)
            return self._reply(ctx, Reply(ctx._("The times you chose have passed. Please choose again.")), *self._ask_replies(ctx))
        refused = self._over_cap(ctx)
        if refused is not None:
            return refused
        request = NewRequest(
            resident=ctx.resident,
            locale=ctx.locale,
            topic=d.get("topic", OTHER_TOPIC),
            preferred=times,
            any_time=bool(d.get("any")) or not times,
            interpreter=bool(d.get("interpreter")),
            romani_speaker=bool(d.get("romani")),
            contact="phone" if d.get("contact") == "phone" else "chat",
            phone=d.get("phone") if d.get("contact") == "phone" else None,
            note=d.get("note"),
        )
        appt = self.store.create(request, now=ctx.now)
        ctx.leave()
        log.info("appointment %s requested", appt.id)
        if self.analytics is not None:
            cat = appt.topic if appt.topic in self.wording.content.categories else None
            self.analytics.record(kind="appointment_requested", resident=ctx.resident, locale=ctx.locale, now=ctx.now, category=cat)
        text = ctx._("Thank you! Your request (number {id}) has been sent to the bridge-builders. You will get the answer here in this chat.").format(id=appt.id)
        return [
            *self._reply(ctx, Reply(text, [[Choice(button(FLOW, "my"), ctx._("📋 My appointments"))]])),
            staff_card(appt, self.wording, self.i18n, self.staff_locale),
        ]

    def _over_cap(self, ctx: Ctx) -> list[Outbound] | None:
        """A kind refusal when the resident has too many open or too many recent requests."""
        mine = self.store.for_resident(ctx.resident)
        open_ = [a for a in mine if a.status in OPEN and (a.confirmed_start is None or a.confirmed_start > ctx.now)]
        recent = [a for a in mine if a.created_at > ctx.now - timedelta(hours=1)]
        if len(open_) >= MAX_OPEN_REQUESTS:
            text = ctx._("You already have {n} requests waiting or booked. Please wait for an answer, or cancel one under My appointments, before sending a new one.").format(n=len(open_))
        elif len(recent) >= MAX_NEW_PER_HOUR:
            text = ctx._("You have sent several requests in a short time. Please wait a little; you can send this one later with the same button.")
        else:
            return None
        log.info("appointment request refused: over the per-resident cap")
        return self._reply(ctx, Reply(text, [[Choice(button(FLOW, "my"), ctx._("📋 My appointments"))]]))

    def _new_or_list(self, ctx: Ctx) -> list[list[Choice]]:
        return [
            [Choice(button(FLOW, "new"), ctx._("📅 Book a meeting"))],
            [Choice(button(FLOW, "my"), ctx._("📋 My appointments"))],
        ]

    # -- the resident's own appointments ------------------------------------------------------

    def _my_list(self, ctx: Ctx) -> list[Outbound]:
        _ = ctx._
        mine = [
            a for a in self.store.for_resident(ctx.resident)
            if a.status in OPEN and (a.confirmed_start is None or a.confirmed_start > ctx.now)
        ]
        if not mine:
            return self._reply(ctx, Reply(_("You have no upcoming appointments."), [[Choice(button(FLOW, "new"), _("📅 Book a meeting"))]]))
        lines = [_("Your appointments:"), ""]
        rows: list[list[Choice]] = []
        for a in mine:
            lines.append(self._line(a, ctx.locale))
            rows.append([Choice(button(FLOW, "cx", a.id), _("✖️ Cancel number {id}").format(id=a.id))])
        rows.append([Choice(button(FLOW, "new"), _("📅 Book a meeting"))])
        return self._reply(ctx, Reply("\n".join(lines), rows))

    def _line(self, a: Appointment, locale: str) -> str:
        _ = self.i18n.gettext_for(locale)
        topic = self.wording.topic(a.topic, locale)
        if a.status == Status.CONFIRMED and a.confirmed_start:
            return _("Number {id}: {topic}, {when} (confirmed)").format(id=a.id, topic=topic, when=self.wording.when(a.confirmed_start, locale))
        return _("Number {id}: {topic}, waiting for an answer").format(id=a.id, topic=topic)

    def _on_existing(self, ctx: Ctx, action: str, args: list[str]) -> list[Outbound]:
        _ = ctx._
        appt_id = _int(args[0]) if args else None
        appt = self.store.get(appt_id) if appt_id is not None else None
        if appt is None or appt.resident != ctx.resident:
            return self._reply(ctx, Reply(_("I could not find that appointment."), self._new_or_list(ctx)))
        if action == "cn":
            return self._reply(ctx, Reply(_("Good, the appointment stays as it is.")))
        if appt.status not in OPEN:
            status = _(STATUS_LABELS[appt.status])
            return self._reply(ctx, Reply(_("Number {id} is already {status}; nothing was changed.").format(id=appt.id, status=status)))
        if action == "cx":
            rows = [[Choice(button(FLOW, "cy", appt.id), _("Yes, cancel it")), Choice(button(FLOW, "cn", appt.id), _("No, keep the appointment"))]]
            return self._reply(ctx, Reply(_("Do you want to cancel this appointment?\n{line}").format(line=self._line(appt, ctx.locale)), rows))
        if action == "cy":
            try:
                appt = self.store.cancel(appt.id, resident=ctx.resident, now=ctx.now)
            except AppointmentError:
                return self._reply(ctx, Reply(_("That appointment could not be cancelled; nothing was changed.")))
            log.info("appointment %s cancelled by the resident", appt.id)
            s_ = self.i18n.gettext_for(self.staff_locale)
            note = s_("Appointment request {id} was cancelled by the resident.").format(id=appt.id)
            if appt.confirmed_start:
                note += " " + s_("The time {when} is free again.").format(when=self.wording.slot(appt.confirmed_start, self.staff_locale))
            return [
                *self._reply(ctx, Reply(_("Your appointment number {id} is cancelled. Thank you for telling us.").format(id=appt.id), self._new_or_list(ctx))),
                Outbound(ToStaff(None), Reply(note)),
            ]
        # Answer to a time a bridge-builder proposed.
        when = parse_stamp(args[1]) if len(args) > 1 else None
        if appt.status != Status.REQUESTED or when is None or appt.proposed_start != when:
            return self._reply(ctx, Reply(_("This proposal is no longer valid: it was changed or answered already. Nothing was changed.")))
        s_ = self.i18n.gettext_for(self.staff_locale)
        if action == "pr":
            self.store.reject_proposal(appt.id, now=ctx.now)
            return [
                *self._reply(ctx, Reply(_("Thank you. The bridge-builders will suggest another time."))),
                Outbound(ToStaff(None), Reply(s_("The resident cannot come at the proposed time for request {id}. Please propose another time.").format(id=appt.id), staff_buttons(appt, self.wording, self.i18n, self.staff_locale))),
            ]
        if when <= ctx.now:
            return self._reply(ctx, Reply(_("That time has already passed. The bridge-builders will suggest another time.")))
        try:
            done = self.store.confirm(
                appt.id, start=when, handler=appt.handler or "", handler_name=appt.handler_name or "",
                place=self.wording.place(appt.locale), remind_at=remind_at(when, ctx.now), now=ctx.now,
            )
        except AlreadyBooked:
            self.store.reject_proposal(appt.id, now=ctx.now)
            return [
                *self._reply(ctx, Reply(_("Sorry, that time was just taken. The bridge-builders will suggest another time."))),
                Outbound(ToStaff(None), Reply(s_("The proposed time for request {id} is already booked. Please propose another time.").format(id=appt.id))),
            ]
        except AppointmentError:
            return self._reply(ctx, Reply(_("This proposal is no longer valid: it was changed or answered already. Nothing was changed.")))
        return [
            Outbound(ToResident(ctx.resident), self.wording.outcome_confirmed(done, ctx.now)),
            Outbound(ToStaff(None), Reply(s_("Request {id} is confirmed: the resident accepted {when}.").format(id=done.id, when=self.wording.slot(when, self.staff_locale)))),
        ]


def remind_at(start: datetime, now: datetime) -> datetime | None:
    """When to remind: a day before; no reminder when the meeting is less than a day away."""
    due = start - REMIND_BEFORE
    return due if due > now else None


# ---------------------------------------------------------------------------------------------
# The staff group


def staff_buttons(appt: Appointment, wording: Wording, i18n: I18n, locale: str) -> list[list[Choice]]:
    _ = i18n.gettext_for(locale)
    rows = [
        [Choice(button(STAFF, "c", appt.id, stamp(t)), "✅ " + wording.slot(t, locale))]
        for t in sorted(appt.preferred)
    ]
    rows.append([Choice(button(STAFF, "p", appt.id), _("🕑 Propose another time"))])
    rows.append([Choice(button(STAFF, "d", appt.id), _("✖️ Decline"))])
    return rows


def staff_card(appt: Appointment, wording: Wording, i18n: I18n, locale: str) -> Outbound:
    """The request as the staff group sees it: no name, the phone only if the resident shared it."""
    _ = i18n.gettext_for(locale)
    contact = _("answer in the bot chat") if appt.contact != "phone" else _("phone {phone}").format(phone=appt.phone)
    lines = [
        _("📅 Appointment request {id}").format(id=appt.id),
        _("Topic: {topic}").format(topic=wording.topic(appt.topic, locale)),
        _("Times: {times}").format(times=wording.times(appt.preferred, appt.any_time, locale)),
        _("Language: {needs}").format(needs=wording.needs(appt.interpreter, appt.romani_speaker, locale)),
        _("Resident's language: {locale}").format(locale=language_name(appt.locale)),
        _("Contact: {contact}").format(contact=contact),
    ]
    if appt.note:
        lines.append(_("Note: {note}").format(note=escape(appt.note)))
    return Outbound(ToStaff(None), Reply("\n".join(lines), staff_buttons(appt, wording, i18n, locale)))


_DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[/.](?P<m>\d{1,2})(?:[/.](?P<y>\d{4}))?\.?$"),
)
_TIME_FORM = re.compile(r"^(?:kl\.?)?(?P<h>\d{1,2})(?:[:.](?P<mi>\d{2}))?$")


def parse_local_time(text: str, *, now: datetime, tz: str) -> datetime | None:
    """Read "2026-12-08 10:00", "8/12 10:00" or "8.12.2026 kl 10" in the local zone; None if unreadable."""
    parts = text.lower().replace("kl ", "kl").split()
    if len(parts) != 2:
        return None
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    for form in _DATE_FORMS:
        m = form.match(parts[0])
        if m:
            break
    else:
        return None
    t = _TIME_FORM.match(parts[1])
    if not t:
        return None
    try:
        year = int(m.group("y")) if m.group("y") else local_now.year
        day = date(year, int(m.group("m")), int(m.group("d")))
        at = time(int(t.group("h")), int(t.group("mi") or 0))
    except ValueError:
        return None
    if not m.group("y") and day < local_now.date():
        try:
            day = day.replace(year=year + 1)  # "8/1" in December means next January
        except ValueError:
            return None
    return datetime.combine(day, at, zone).astimezone(UTC)


@dataclass(slots=True)
class AppointmentStaff:
    """Bridge-builders confirm, propose, decline and list appointment requests in the staff group."""

    content: Content | ContentSource
    store: AppointmentStore
    hours: OpeningHours
    i18n: I18n
    tz: str = "Europe/Stockholm"
    locale: str = "sv"
    slot_minutes: int = 60
    commands: frozenset[str] = STAFF_COMMANDS
    prefixes: frozenset[str] = frozenset({STAFF})
    wording: Wording = field(init=False)

    def __post_init__(self) -> None:
        self.wording = Wording(self.content, self.i18n, self.tz)

    def _(self, msgid: str) -> str:
        return self.i18n.gettext(self.locale, msgid)

    def _say(self, text: str, rows: list[list[Choice]] | None = None) -> list[Outbound]:
        return [Outbound(ToStaff(None), Reply(text, rows or []))]

    def handle_staff(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        if incoming.kind == Kind.COMMAND:
            if incoming.command == "appointments":
                return self._list(now)
            if incoming.command == "propose":
                return self._propose_command(incoming, now)
            if incoming.command == "decline":
                return self._decline_command(incoming, now)
            return []
        if incoming.kind != Kind.CHOICE:
            return []
        parts = parse_button(incoming.choice, STAFF)
        if not parts or len(parts) < 2 or _int(parts[1]) is None:
            return []
        action, appt_id, rest = parts[0], int(parts[1]), parts[2:]
        appt = self.store.get(appt_id)
        if appt is None:
            return self._say(self._("Appointment request {id} does not exist.").format(id=appt_id))
        if action == "v":
            return [staff_card(appt, self.wording, self.i18n, self.locale)]
        if action in ("done", "ns"):
            return self._finish(appt, incoming, now, Status.DONE if action == "done" else Status.NO_SHOW)
        if appt.status != Status.REQUESTED:
            return self._say(self._("Request {id} is already {status}; nothing was changed.").format(id=appt.id, status=self._(STATUS_LABELS[appt.status])))
        if action == "c" and rest:
            when = parse_stamp(rest[0])
            if when is None or when not in appt.preferred:
                return self._say(self._("That time is not one of the request's preferred times."))
            return self._confirm(appt, when, incoming, now)
        if action == "p":
            return self._propose_menu(appt, incoming, now)
        if action == "o" and rest:
            when = parse_stamp(rest[0])
            if when is None:
                return []
            return self._propose(appt, when, incoming, now)
        if action == "d":
            rows = [[Choice(button(STAFF, "r", appt.id, code), self._(text))] for code, text in DECLINE_REASONS.items()]
            return self._say(self._("Why decline request {id}? Pick a reason, or write /decline {id} followed by your own reason.").format(id=appt.id), rows)
        if action == "r" and rest and rest[0] in DECLINE_REASONS:
            reason = self.i18n.gettext(appt.locale, DECLINE_REASONS[rest[0]])
            return self._decline(appt, reason, incoming, now)
        return []

    def _confirm(self, appt: Appointment, when: datetime, who: StaffIncoming, now: datetime) -> list[Outbound]:
        if when <= now:
            return self._say(self._("That time has already passed. Propose a new time instead."))
        try:
            done = self.store.confirm(
                appt.id, start=when, handler=who.staff_id, handler_name=who.first_name,
                place=self.wording.place(appt.locale), remind_at=remind_at(when, now), now=now,
            )
        except AlreadyBooked:
            return self._say(self._("You already have an appointment at {when}. Choose another time or propose one.").format(when=self.wording.slot(when, self.locale)))
        except WrongStatus as exc:
            return self._say(self._("Request {id} is already {status}; nothing was changed.").format(id=appt.id, status=self._(STATUS_LABELS[exc.status])))
        log.info("appointment %s confirmed", done.id)
        return [
            *self._say(self._("Request {id} confirmed by {name} for {when}.").format(id=done.id, name=escape(who.first_name), when=self.wording.slot(when, self.locale))),
            Outbound(ToResident(done.resident), self.wording.outcome_confirmed(done, now)),
        ]

    def _free_slots(self, who: StaffIncoming, now: datetime) -> list[datetime]:
        slots = self.hours.slots(now, days=14, minutes=self.slot_minutes)
        if not slots:
            return []
        taken = self.store.booked_starts(who.staff_id, start=slots[0], end=slots[-1] + timedelta(minutes=1))
        return [s for s in slots if s not in taken][:PROPOSE_BUTTONS]

    def _propose_menu(self, appt: Appointment, who: StaffIncoming, now: datetime) -> list[Outbound]:
        free = self._free_slots(who, now)
        buttons = [Choice(button(STAFF, "o", appt.id, stamp(s)), self.wording.slot(s, self.locale)) for s in free]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        text = self._("Which time do you propose for request {id}? Pick one of your free guidance hours, or write /propose {id} 2026-12-08 10:00 for any other time.").format(id=appt.id)
        return self._say(text, rows)

    def _propose(self, appt: Appointment, when: datetime, who: StaffIncoming, now: datetime) -> list[Outbound]:
        if when <= now:
            return self._say(self._("That time has already passed. Please propose a time in the future."))
        if when in self.store.booked_starts(who.staff_id, start=when, end=when + timedelta(minutes=1)):
            return self._say(self._("You already have an appointment at {when}. Choose another time or propose one.").format(when=self.wording.slot(when, self.locale)))
        try:
            done = self.store.propose(appt.id, start=when, handler=who.staff_id, handler_name=who.first_name, now=now)
        except WrongStatus as exc:
            return self._say(self._("Request {id} is already {status}; nothing was changed.").format(id=appt.id, status=self._(STATUS_LABELS[exc.status])))
        _ = self.i18n.gettext_for(done.locale)
        place = self.wording.place(done.locale)
        text = _("A bridge-builder proposes a meeting on {when}.").format(when=self.wording.when(when, done.locale))
        if place:
            text += "\n" + _("Where: {place}").format(place=place)
        text += "\n\n" + _("Does this time suit you?")
        rows = [[
            Choice(button(FLOW, "pa", done.id, stamp(when)), _("✅ Yes, that suits me")),
            Choice(button(FLOW, "pr", done.id, stamp(when)), _("✖️ No, another time")),
        ]]
        return [
            *self._say(self._("{name} proposed {when} for request {id}; waiting for the resident.").format(name=escape(who.first_name), when=self.wording.slot(when, self.locale), id=done.id)),
            Outbound(ToResident(done.resident), Reply(text, rows)),
        ]

    def _decline(self, appt: Appointment, reason: str, who: StaffIncoming, now: datetime) -> list[Outbound]:
        reason = reason.strip()[:REASON_MAX]
        try:
            done = self.store.decline(appt.id, reason=reason, handler=who.staff_id, handler_name=who.first_name, now=now)
        except WrongStatus as exc:
            return self._say(self._("Request {id} is already {status}; nothing was changed.").format(id=appt.id, status=self._(STATUS_LABELS[exc.status])))
        _ = self.i18n.gettext_for(done.locale)
        text = _("We are sorry, but we cannot offer a meeting for your request number {id}.").format(id=done.id)
        text += "\n" + escape(reason) + "\n\n" + _("You are welcome to ask your question here in the chat.")
        return [
            *self._say(self._("Request {id} declined by {name}.").format(id=done.id, name=escape(who.first_name))),
            Outbound(ToResident(done.resident), Reply(text)),
        ]

    def _finish(self, appt: Appointment, who: StaffIncoming, now: datetime, status: Status) -> list[Outbound]:
        if appt.status != Status.CONFIRMED or appt.confirmed_start is None or appt.confirmed_start > now:
            return self._say(self._("Only a confirmed meeting that has taken place can be marked done or missed."))
        try:
            done = self.store.finish(appt.id, status=status, handler=who.staff_id, now=now)
        except AppointmentError:
            return self._say(self._("Only a confirmed meeting that has taken place can be marked done or missed."))
        return self._say(self._("Request {id} marked {status}.").format(id=done.id, status=self._(STATUS_LABELS[done.status])))

    def _request_arg(self, incoming: StaffIncoming) -> tuple[Appointment | None, str, list[Outbound]]:
        head, _sep, rest = incoming.args.strip().partition(" ")
        appt_id = _int(head.lstrip("#"))
        appt = self.store.get(appt_id) if appt_id is not None else None
        if appt is None:
            return None, "", self._say(self._("Which request? Write the number first, e.g. /propose 12 2026-12-08 10:00 or /decline 12 reason."))
        if appt.status != Status.REQUESTED:
            return None, "", self._say(self._("Request {id} is already {status}; nothing was changed.").format(id=appt.id, status=self._(STATUS_LABELS[appt.status])))
        return appt, rest.strip(), []

    def _propose_command(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        appt, rest, error = self._request_arg(incoming)
        if appt is None:
            return error
        when = parse_local_time(rest, now=now, tz=self.tz)
        if when is None:
            return self._say(self._("I cannot read that date and time. Write it like /propose {id} 2026-12-08 10:00 (a real date, local time).").format(id=appt.id))
        return self._propose(appt, when, incoming, now)

    def _decline_command(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        appt, rest, error = self._request_arg(incoming)
        if appt is None:
            return error
        if not rest:
            return self._say(self._("Please add a short reason for the resident, e.g. /decline {id} We have no free time this month.").format(id=appt.id))
        return self._decline(appt, rest, incoming, now)

    def _list(self, now: datetime) -> list[Outbound]:
        items = self.store.for_staff(now)
        if not items:
            return self._say(self._("No appointment requests are waiting and no meetings are coming up."))
        waiting = [a for a in items if a.status == Status.REQUESTED]
        upcoming = [a for a in items if a.status == Status.CONFIRMED and a.confirmed_start and a.confirmed_start > now]
        past = [a for a in items if a.status == Status.CONFIRMED and a.confirmed_start and a.confirmed_start <= now]
        lines: list[str] = []
        rows: list[list[Choice]] = []
        if waiting:
            lines.append(self._("Waiting for an answer:"))
            for a in waiting:
                extra = self._(" (proposed {when})").format(when=self.wording.slot(a.proposed_start, self.locale)) if a.proposed_start else ""
                lines.append(f"#{a.id} {self.wording.topic(a.topic, self.locale)}: {self.wording.times(a.preferred, a.any_time, self.locale)}{extra}")
                rows.append([Choice(button(STAFF, "v", a.id), self._("Handle {id}").format(id=a.id))])
        if upcoming:
            lines += ["", self._("Coming up:")]
            lines += [f"#{a.id} {self.wording.slot(a.confirmed_start, self.locale)} {escape(a.handler_name or '')}".rstrip() for a in upcoming if a.confirmed_start]
        if past:
            lines += ["", self._("Took place? Mark them:")]
            for a in past:
                assert a.confirmed_start is not None
                lines.append(f"#{a.id} {self.wording.slot(a.confirmed_start, self.locale)} {escape(a.handler_name or '')}".rstrip())
                rows.append([
                    Choice(button(STAFF, "done", a.id), self._("#{id} done").format(id=a.id)),
                    Choice(button(STAFF, "ns", a.id), self._("#{id} missed").format(id=a.id)),
                ])
        return self._say("\n".join(lines).strip(), rows)


# ---------------------------------------------------------------------------------------------
# Reminders


@dataclass(slots=True)
class AppointmentReminders:
    """The day before a confirmed meeting, remind the resident and the staff group; from the DB."""

    content: Content | ContentSource
    store: AppointmentStore
    i18n: I18n
    tz: str = "Europe/Stockholm"
    staff_locale: str = "sv"
    name: str = "appointment_reminders"
    wording: Wording = field(init=False)

    def __post_init__(self) -> None:
        self.wording = Wording(self.content, self.i18n, self.tz)

    def tick(self, now: datetime) -> list[Outbound]:
        out = []
        for appt in self.store.take_due_reminders(now):
            if appt.confirmed_start is None:
                continue
            _ = self.i18n.gettext_for(appt.locale)
            place = appt.place or self.wording.place(appt.locale)
            text = _("⏰ Reminder: you have a meeting with a bridge-builder on {when}.").format(when=self.wording.when(appt.confirmed_start, appt.locale))
            if place:
                text += "\n" + _("Where: {place}").format(place=place)
            text += "\n\n" + _("If you cannot come, please cancel with /appointments.")
            out.append(Outbound(ToResident(appt.resident), Reply(text)))
            s_ = self.i18n.gettext_for(self.staff_locale)
            out.append(Outbound(ToStaff(None), Reply(s_("⏰ Tomorrow: meeting {id} ({topic}) on {when} with {name}.").format(
                id=appt.id, topic=self.wording.topic(appt.topic, self.staff_locale),
                when=self.wording.slot(appt.confirmed_start, self.staff_locale), name=escape(appt.handler_name or "")))))
        if out:
            log.info("sent %s appointment reminders", len(out) // 2)
        return out


@dataclass(slots=True)
class AppointmentPrivacy:
    """The appointment part of /mydata and /forget (a bot.core.privacy.DataHolder)."""

    store: AppointmentStore
    i18n: I18n
    staff_locale: str = "sv"

    def describe(self, resident: str, ctx: Ctx) -> list[str]:
        mine = self.store.for_resident(resident)
        if not mine:
            return []
        return [
            ctx.ngettext(
                "{n} appointment request: topic, preferred times, language needs, how to reach you and your note. Open requests are cancelled by /forget.",
                "{n} appointment requests: topic, preferred times, language needs, how to reach you and your note. Open requests are cancelled by /forget.",
                len(mine),
            ).format(n=len(mine))
        ]

    def forget(self, resident: str, now: datetime) -> list[Outbound]:
        cancelled = self.store.forget(resident, now=now)
        _ = self.i18n.gettext_for(self.staff_locale)
        return [
            Outbound(ToStaff(None), Reply(_("Appointment request {id} was cancelled by the resident.").format(id=a.id)))
            for a in cancelled
        ]


def build(
    *,
    content: Content | ContentSource,
    store: AppointmentStore,
    hours: OpeningHours,
    i18n: I18n,
    tz: str,
    staff_locale: str = "sv",
    analytics: Analytics | None = None,
) -> tuple[AppointmentFlow, AppointmentStaff, AppointmentReminders]:
    """The flow, staff handler and reminder job, sharing one store (for bootstrap)."""
    return (
        AppointmentFlow(content, store, hours, i18n, tz, staff_locale, analytics),
        AppointmentStaff(content, store, hours, i18n, tz, staff_locale),
        AppointmentReminders(content, store, i18n, tz, staff_locale),
    )

