"""Handoff: a resident reaches a human bridge-builder, who answers from a staff forum topic.

Pieces, all backed by one HandoffService and a HandoffStore port (bot.db.handoff_store):
- HandoffFlow ("handoff"): the consent screen, ending a conversation, the rating afterwards.
- HandoffInterceptor: while a ticket is waiting or open, relays the resident's messages to the
  ticket's topic (the FAQ matcher is paused); catches words that signal risk at any time.
- HandoffStaff: "Take it", messages in a topic (relayed as copies; "!" notes stay internal),
  /close, /release, /take, /queue and /languages.
- Jobs: re-announcing untaken tickets, releasing relays held by the rate limit, and telling
  waiting residents when bridge-builders are back after closing time.

Staff buttons are honoured only from StaffIncoming: a resident who forges "handoff:take:1"
reaches HandoffFlow.handle, which refuses it. Resident buttons carry the ticket number and are
checked against the pressing resident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.dates import format_datetime_local
from bot.core.flows import Ctx
from bot.core.hours import OpeningHours
from bot.core.i18n import language_name
from bot.core.messages import (
    Choice,
    Incoming,
    Kind,
    Media,
    Outbound,
    Reply,
    StaffIncoming,
    ToResident,
    ToStaff,
    to,
)
from bot.core.privacy import log_id
from bot.core.risk import Risk, detect
from bot.core.scrub import scrub
from bot.markup import escape

log = logging.getLogger(__name__)

NAME = "handoff"
WAITING, OPEN, CLOSED = "waiting", "open", "closed"
# Resident commands that end a conversation (Telegram commands are latin letters only).
END_COMMANDS = frozenset({"end", "avsluta", "lopeta", "termina", "inchide", "agor"})
RATINGS = (3, 2, 1)  # helped, partly, did not help
MAX_QUESTION = 300  # characters of a recent question shown to staff
MAX_RELAY = 8000  # characters kept of one resident message (Telegram sends at most 4096)
_LANG_CODE = frozenset("abcdefghijklmnopqrstuvwxyz")


# -- the domain ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    resident: str
    locale: str
    status: str  # waiting | open | closed
    urgent: bool
    created_at: datetime
    topic_area: str | None = None
    assignee: str | None = None
    assignee_name: str | None = None
    taken_at: datetime | None = None
    closed_at: datetime | None = None
    reannounced: bool = False
    rating: int | None = None

    @property
    def active(self) -> bool:
        return self.status != CLOSED


@dataclass(frozen=True, slots=True)
class StaffMember:
    staff_id: str
    first_name: str


@dataclass(frozen=True, slots=True)
class Held:
    """A resident's message held back by the rate limit, relayed later by a job."""

    id: int
    kind: str
    text: str | None
    ref: str | None


class HandoffStore(Protocol):
    """What the handoff needs from storage; every method is its own transaction."""

    def open_ticket(
        self, *, resident: str, locale: str, topic_area: str | None, urgent: bool, now: datetime
    ) -> tuple[Ticket, bool]:
        """The resident's active ticket, or a new one; True when it was created now."""

    def get(self, ticket_id: int) -> Ticket | None: ...

    def active_for(self, resident: str) -> Ticket | None: ...

    def ticket_of_topic(self, topic: str) -> int | None:
        """The ticket whose staff topic (the channel's thread id) this is."""

    def claim(self, ticket_id: int, *, staff_id: str, name: str, now: datetime) -> bool:
        """Assign an unassigned, active ticket; exactly one of concurrent callers gets True."""

    def release(self, ticket_id: int) -> bool:
        """Put an open ticket back in the queue."""

    def close(self, ticket_id: int, *, now: datetime, by: str) -> bool:
        """Close an active ticket; False when it was already closed."""

    def make_urgent(self, ticket_id: int) -> bool:
        """Flag a ticket urgent; False when it already was."""

    def mark_notice(self, ticket_id: int, day: str) -> bool:
        """Record an hours notice for local day `day`; False when one was sent that day."""

    def mark_reannounced(self, ticket_id: int) -> bool:
        """Record the single re-announcement; False when it already happened."""

    def active_tickets(self) -> list[Ticket]:
        """Waiting and open tickets, oldest first."""

    def last_helper(self, resident: str, *, before: int) -> StaffMember | None:
        """Who was assigned the resident's latest ticket older than ticket `before`."""

    def rate(self, ticket_id: int, *, resident: str, rating: int) -> bool:
        """Store the rating of the resident's closed ticket once."""

    def record(
        self,
        *,
        ticket_id: int,
        direction: str,
        kind: str,
        text: str | None,
        ref: str | None,
        event_id: str | None,
        now: datetime,
        relayed: bool = True,
    ) -> bool:
        """Add a transcript row; False when that event was recorded before (a redelivery)."""

    def relayed_since(self, ticket_id: int, *, direction: str, since: datetime) -> int: ...

    def held(self, ticket_id: int) -> list[Held]:
        """The ticket's held messages, oldest first."""

    def tickets_with_held(self) -> list[int]: ...

    def mark_relayed(self, message_ids: list[int]) -> None: ...

    def set_languages(
        self, staff_id: str, *, first_name: str, languages: list[str], now: datetime
    ) -> None: ...

    def languages_of(self, staff_id: str) -> list[str]: ...

    def speakers(self, language: str) -> list[StaffMember]:
        """Bridge-builders who registered `language`."""

    def remember_question(self, resident: str, text: str, *, now: datetime, keep: int) -> None: ...

    def recent_questions(self, resident: str, *, since: datetime) -> list[str]: ...

    def prune_questions(self, *, before: datetime) -> int: ...

    def count_for(self, resident: str) -> tuple[int, int]:
        """How many tickets and recent questions are kept about the resident."""

    def forget(self, resident: str) -> None:
        """Delete the resident's transcripts and questions; anonymise their tickets."""


class Translations(Protocol):
    def gettext_for(self, locale: str) -> Callable[[str], str]: ...

    def ngettext_for(self, locale: str) -> Callable[[str, str, int], str]: ...


@dataclass(slots=True)
class HandoffConfig:
    hours: OpeningHours
    staff_locale: str = "sv"
    reannounce_after: timedelta = timedelta(minutes=30)
    # One resident may put this many messages into the staff group per window; more are held
    # and relayed by a job, since all topics share the group's flood budget.
    relay_limit: int = 8
    relay_window: timedelta = timedelta(minutes=1)
    keep_questions: int = 3
    questions_for: timedelta = timedelta(hours=24)


# -- button ids, built and parsed only here ----------------------------------------------------


def _button(action: str, *args: int) -> str:
    return ":".join([NAME, action, *(str(a) for a in args)])


def parse_button(choice: str) -> tuple[str, list[int]] | None:
    """("take", [12]) for "handoff:take:12"; None when it is not a well-formed handoff button."""
    parts = choice.split(":")
    if len(parts) < 2 or parts[0] != NAME:
        return None
    if any(len(p) > 18 for p in parts[2:]):
        return None  # a forged id too large for the database's integers
    try:
        return parts[1], [int(p) for p in parts[2:]]
    except ValueError:
        return None


def mention(member: StaffMember) -> str:
    """A Markdown mention that notifies the bridge-builder on Telegram, else their name."""
    name = escape(member.first_name)
    kind, _sep, ident = member.staff_id.partition(":")
    if kind == "tg" and ident.isdigit():
        return f"[{name}](tg://user?id={ident})"
    return name


def own_language(locale: str) -> str:
    """The language's name inside a sentence of that language ("svenska", "English")."""
    name = language_name(locale)
    # Swedish, Finnish and Romanian write language names in lower case mid-sentence.
    return name.lower() if locale in ("sv", "fi", "ro") else name


def first_name_only(name: str | None) -> str:
    """The first word of a first name: residents learn no more about a bridge-builder."""
    parts = (name or "").split()
    return parts[0][:32] if parts else ""


# -- the service ---------------------------------------------------------------------------------


class HandoffService:
    """The handoff rules; the flow, interceptor, staff handler and jobs delegate here."""

    def __init__(self, store: HandoffStore, i18n: Translations, config: HandoffConfig) -> None:
        self.store = store
        self.i18n = i18n
        self.config = config
        self.hours = config.hours

    # -- helpers ---------------------------------------------------------------------------------

    def gettext(self, msgid: str) -> str:
        """Staff-side text, in the staff group's language."""
        return self.i18n.gettext_for(self.config.staff_locale)(msgid)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.i18n.ngettext_for(self.config.staff_locale)(singular, plural, n)

    def _r(self, ticket: Ticket) -> Callable[[str], str]:
        return self.i18n.gettext_for(ticket.locale)

    def title(self, ticket: Ticket) -> str:
        """The forum topic title: number, language, topic area (Telegram allows 128 chars)."""
        parts = [f"#{ticket.id}", language_name(ticket.locale)]
        if ticket.topic_area:
            parts.append(ticket.topic_area)
        text = " · ".join(parts)
        return (("🚨 " if ticket.urgent else "") + text)[:128]

    def _staff(self, ticket: Ticket, text: str, choices: list[list[Choice]] | None = None,
               *, urgent: bool | None = None, copy: Media | None = None) -> Outbound:
        target = ToStaff(ticket.id, ticket.urgent if urgent is None else urgent, self.title(ticket))
        return Outbound(target, Reply(text, choices or [], copy=copy))

    def _general(self, text: str) -> Outbound:
        return Outbound(ToStaff(None), Reply(text))

    def _where(self, incoming: StaffIncoming) -> Ticket | None:
        if not incoming.topic:
            return None
        ticket_id = self.store.ticket_of_topic(incoming.topic)
        return self.store.get(ticket_id) if ticket_id is not None else None

    def _answer(self, incoming: StaffIncoming, text: str) -> list[Outbound]:
        """A reply to a staff member where they wrote: the ticket's topic or the general thread."""
        ticket = self._where(incoming)
        return [self._staff(ticket, text) if ticket else self._general(text)]

    def _end_button(self, _: Callable[[str], str], ticket: Ticket) -> Choice:
        return Choice(_button("end", ticket.id), "✖️ " + _("End the conversation"))

    def _lang_label(self, locale: str) -> str:
        return f"{language_name(locale)} ({locale})"

    def _speakers(self, locale: str) -> list[StaffMember]:
        found = {m.staff_id: m for m in self.store.speakers(locale)}
        if locale in ("rmn", "rmy"):
            # A bridge-builder may register Romani as a whole ("rom").
            for m in self.store.speakers("rom"):
                found.setdefault(m.staff_id, m)
        return list(found.values())

    def _local_day(self, now: datetime) -> str:
        return now.astimezone(self.hours.tz).date().isoformat()

    # -- resident side ---------------------------------------------------------------------------

    def start(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        """The resident asks for a person: show what will be shared, with whom, and ask."""
        _ = ctx._
        ticket = self.store.active_for(ctx.resident)
        if ticket is not None:
            ctx.leave()
            return to(ctx.resident, Reply(
                _("You are already in touch with the bridge-builders (conversation number "
                  "{number}). Just write your message here.").format(number=ticket.id),
                [[self._end_button(_, ticket)]],
            ))
        area = ctx.data.get("topic_area") if ctx.flow is None else None
        area = area if isinstance(area, str) and area.strip() else None
        ctx.enter(NAME, {"step": "consent", "area": area})
        return to(ctx.resident, self._consent(ctx, area))

    def _consent(self, ctx: Ctx, area: str | None) -> Reply:
        _ = ctx._
        shared = [
            _("the language you write in ({language})").format(language=own_language(ctx.locale)),
        ]
        if area:
            shared.append(_("the topic you were reading about ({topic})").format(topic=escape(area)))
        shared += [
            _("your last questions to me"),
            _("what you write or send from now on, until you end the conversation"),
        ]
        text = "\n\n".join([
            _("Before I put you in touch with a bridge-builder, this is what will be shared:"),
            "\n".join("- " + line for line in shared),
            _("It is shared only with the municipality's bridge-builders, in their closed "
              "work group. They do not see your phone number or your Telegram name. You can "
              "end the conversation at any time."),
            _("Do you want to talk to a bridge-builder?"),
        ])
        return Reply(text, [
            [Choice(_button("consent"), "✅ " + _("Yes, put me in touch"))],
            [Choice(_button("cancel"), _("No, thank you"))],
        ])

    def handle(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        """A resident's handoff button, or an event while they look at the consent screen."""
        _ = ctx._
        if incoming.kind is Kind.CHOICE:
            parsed = parse_button(incoming.choice)
            action, args = parsed if parsed else ("", [])
            if action == "consent" and not args:
                return self._consented(ctx)
            if action == "cancel" and not args:
                ctx.leave()
                return to(ctx.resident, Reply(
                    _("All right, nothing was shared. I am here if you change your mind."),
                ))
            if action == "end" and len(args) == 1:
                return self._resident_end(ctx, args[0])
            if action == "rate" and len(args) == 2:
                return self._rate(ctx, args[0], args[1])
            # Staff buttons ("take") and forged or stale ids: never honoured from a resident.
            log.warning("resident %s pressed a handoff button that is not theirs",
                        log_id(ctx.resident))
            return to(ctx.resident, Reply(_("Sorry, that button does not work here.")))
        if ctx.flow == NAME and ctx.data.get("step") == "consent":
            return to(ctx.resident, self._consent(ctx, ctx.data.get("area")))
        ctx.leave()
        return []

    def _consented(self, ctx: Ctx) -> list[Outbound]:
        area = ctx.data.get("area") if ctx.flow == NAME else None
        ctx.leave()
        ticket, created = self.store.open_ticket(
            resident=ctx.resident, locale=ctx.locale, topic_area=area, urgent=False, now=ctx.now
        )
        if not created:
            return self.start(ctx, Incoming(ctx.resident, Kind.CHOICE))
        log.info("handoff ticket %s opened for %s", ticket.id, log_id(ctx.resident))
        _ = ctx._
        out = to(ctx.resident, Reply(
            _("Thank you. You are now in touch with the bridge-builders: your conversation "
              "number is {number}. A bridge-builder will answer you here in this chat.\n\n"
              "Write your question now. You can also send a voice message, a photo or a "
              "document.").format(number=ticket.id),
            [[self._end_button(_, ticket)]],
        ))
        out += self._hours_notice(ticket, ctx.now)
        out.append(self._announcement(ticket, ctx.now))
        return out

    def _announcement(self, ticket: Ticket, now: datetime, *, again: bool = False) -> Outbound:
        head = self.gettext("Conversation #{number} · {language}").format(
            number=ticket.id, language=self._lang_label(ticket.locale))
        if ticket.urgent:
            head = "🚨 **" + self.gettext("URGENT") + "** · " + head
        elif again:
            head = "🔔 " + self.gettext("Still waiting") + " · " + head
        else:
            head = "🆕 " + head
        parts = [head]
        if ticket.topic_area:
            parts.append(self.gettext("Topic: {topic}").format(topic=escape(ticket.topic_area)))
        if not again:
            questions = self.store.recent_questions(
                ticket.resident, since=now - self.config.questions_for)
            if questions:
                parts.append(self.gettext("Their last questions:") + "\n"
                             + "\n".join("- " + escape(q) for q in questions))
        previous = self.store.last_helper(ticket.resident, before=ticket.id)
        if previous is not None:
            parts.append(self.gettext("Last time {name} helped this resident, so {name} is asked first.")
                         .format(name=mention(previous)))
        speakers = [m for m in self._speakers(ticket.locale)
                    if previous is None or m.staff_id != previous.staff_id]
        if speakers:
            parts.append(self.gettext("Speaks {language}: {names}").format(
                language=language_name(ticket.locale), names=", ".join(map(mention, speakers))))
        else:
            parts.append(self.gettext("Nobody has registered {language} yet (write /languages and your "
                           "language codes).").format(language=language_name(ticket.locale)))
        parts.append(self.gettext("Press “Take it” to answer. Everything you write here goes to the "
                       "resident as a copy; a message starting with ! is an internal note."))
        return self._staff(ticket, "\n\n".join(parts),
                           [[Choice(_button("take", ticket.id), "✋ " + self.gettext("Take it"))]])

    def _hours_notice(self, ticket: Ticket, now: datetime) -> list[Outbound]:
        """Outside opening hours: when bridge-builders are back; at most once a day per ticket."""
        if self.hours.is_open(now):
            return []
        if not self.store.mark_notice(ticket.id, self._local_day(now)):
            return []
        _ = self._r(ticket)
        nxt = self.hours.next_opening(now)
        parts = []
        if nxt is not None:
            when = format_datetime_local(nxt, ticket.locale, self.hours.tz)
            parts.append(_("The bridge-builders are not at work right now. They are back on "
                           "{when}.").format(when=when))
        else:
            parts.append(_("The bridge-builders are not at work right now."))
        if ticket.assignee_name:
            parts.append(_("{name} or another bridge-builder will answer you then.").format(
                name=escape(ticket.assignee_name)))
        elif self._speakers(ticket.locale):
            parts.append(_("Someone who speaks {language} will answer you then.").format(
                language=own_language(ticket.locale)))
        else:
            parts.append(_("No bridge-builder who speaks {language} is registered yet, so the "
                           "answer may come in Swedish or English.").format(
                language=own_language(ticket.locale)))
        parts.append(_("Your messages are kept, and nothing you write is lost. If someone is "
                       "in danger, call 112."))
        return to(ticket.resident, Reply("\n\n".join(parts)))

    def _resident_end(self, ctx: Ctx, ticket_id: int) -> list[Outbound]:
        _ = ctx._
        ticket = self.store.get(ticket_id)
        if ticket is None or ticket.resident != ctx.resident:
            log.warning("resident %s tried to end a ticket that is not theirs", log_id(ctx.resident))
            return to(ctx.resident, Reply(_("Sorry, that button does not work here.")))
        if not self.store.close(ticket.id, now=ctx.now, by="resident"):
            return to(ctx.resident, Reply(_("This conversation has already ended.")))
        log.info("handoff ticket %s ended by the resident", ticket.id)
        return [
            *to(ctx.resident, self._rating_question(_, ticket,
                _("You have ended the conversation with the bridge-builders."))),
            self._staff(ticket, "⏹ " + self.gettext("The resident ended the conversation. Messages "
                                               "here are no longer sent.")),
        ]

    def _rating_question(self, _: Callable[[str], str], ticket: Ticket, lead: str) -> Reply:
        labels = {3: "👍 " + _("It helped"), 2: "🤏 " + _("Partly"),
                  1: "👎 " + _("It did not help")}
        return Reply(
            lead + "\n\n" + _("How did it go? Your answer helps us do better."),
            [[Choice(_button("rate", ticket.id, n), labels[n])] for n in RATINGS],
        )

    def _rate(self, ctx: Ctx, ticket_id: int, rating: int) -> list[Outbound]:
        _ = ctx._
        if rating not in RATINGS:
            return to(ctx.resident, Reply(_("Sorry, that button does not work here.")))
        ticket = self.store.get(ticket_id)
        if ticket is None or ticket.resident != ctx.resident:
            log.warning("resident %s tried to rate a ticket that is not theirs", log_id(ctx.resident))
            return to(ctx.resident, Reply(_("Sorry, that button does not work here.")))
        if self.store.rate(ticket.id, resident=ctx.resident, rating=rating):
            return to(ctx.resident, Reply(
                _("Thank you for telling us. You can always come back and ask again.")))
        return to(ctx.resident, Reply(_("Thank you, we already have your answer.")))

    # -- interceptor -------------------------------------------------------------------------

    def intercept(self, ctx: Ctx, incoming: Incoming) -> list[Outbound] | None:
        """Relay while a ticket is active; catch risk words; remember recent questions."""
        if incoming.kind is Kind.CHOICE and parse_button(incoming.choice) is not None:
            return None  # the flow's own buttons, checked in handle
        text = incoming.text if incoming.kind in (Kind.TEXT, Kind.MEDIA) else ""
        risk = detect(text) if text else None
        ticket = self.store.active_for(ctx.resident)
        if ticket is None:
            if risk is not None:
                return self._urgent_new(ctx, incoming, risk)
            if incoming.kind is Kind.TEXT and (len(text.split()) >= 3 or "?" in text):
                # Questions, not greetings: staff see what the resident was looking for.
                self.store.remember_question(
                    ctx.resident, scrub(text)[:MAX_QUESTION], now=ctx.now,
                    keep=self.config.keep_questions)
            return None
        if incoming.kind is Kind.COMMAND:
            if incoming.command in END_COMMANDS:
                return self._resident_end(ctx, ticket.id)
            return None  # /menu, /help ...: the conversation answers; the ticket stays open
        if incoming.kind is Kind.CHOICE:
            return None
        if ctx.flow not in (None, NAME) and risk is None:
            return None  # inside another flow (an appointment form): that flow gets the text
        if ctx.flow == NAME:
            ctx.leave()
        return self._relay_in(ctx, ticket, incoming, risk)

    def _urgent_new(self, ctx: Ctx, incoming: Incoming, risk: Risk) -> list[Outbound]:
        # Out of any flow (even an appointment form): what they write next goes to a person.
        ctx.leave()
        ticket, _created = self.store.open_ticket(
            resident=ctx.resident, locale=ctx.locale, topic_area=None, urgent=True, now=ctx.now)
        log.warning("urgent handoff ticket %s (%s) for %s", ticket.id, risk, log_id(ctx.resident))
        return self._relay_in(ctx, ticket, incoming, risk, fresh=True)

    def _safety(self, ctx: Ctx, ticket: Ticket, risk: Risk) -> Reply:
        _ = ctx._
        parts = []
        if risk is Risk.SUICIDE:
            parts.append(_("Thank you for telling me. What you feel matters, and you do not "
                           "have to carry it alone."))
        else:
            parts.append(_("Thank you for telling me. I am sorry this is happening."))
        parts.append("**" + _("If you or someone else is in danger right now, call 112.") + "** "
                     + _("It is free and answers day and night."))
        parts.append(_("I have passed your message to the bridge-builders. A person will answer "
                       "you here in this chat (conversation number {number}).").format(
            number=ticket.id))
        parts.append(_("The bridge-builder is here to help you and listens first. You decide "
                       "what you tell, and you can always ask what happens with what you say."))
        return Reply("\n\n".join(parts), [[self._end_button(_, ticket)]])

    def _relay_in(self, ctx: Ctx, ticket: Ticket, incoming: Incoming, risk: Risk | None,
                  *, fresh: bool = False) -> list[Outbound]:
        """The resident's message into the ticket's topic (held back when they send too fast)."""
        kind, body, ref = _describe(incoming)
        since = ctx.now - self.config.relay_window
        # Words that signal risk are never held back by the rate limit.
        busy = risk is None and (
            self.store.relayed_since(ticket.id, direction="in", since=since)
            >= self.config.relay_limit or bool(self.store.held(ticket.id)))
        if not self.store.record(ticket_id=ticket.id, direction="in", kind=kind, text=body,
                                 ref=ref, event_id=incoming.event_id, now=ctx.now,
                                 relayed=not busy):
            return []  # this event was relayed before
        out: list[Outbound] = []
        escalated = False
        if risk is not None and not fresh:
            escalated = self.store.make_urgent(ticket.id)
            ticket = self.store.get(ticket.id) or ticket
        if risk is not None and (fresh or escalated):
            out += to(ctx.resident, self._safety(ctx, ticket, risk))
        if fresh:
            out.append(self._announcement(ticket, ctx.now))
        elif escalated:
            out.append(self._staff(ticket, "🚨 **" + self.gettext("URGENT") + "** · " + self.gettext(
                "The resident's words suggest they or someone else may be in danger.")))
        if busy:
            if len(self.store.held(ticket.id)) == 1:
                _ = ctx._
                out += to(ctx.resident, Reply(
                    _("You are sending messages quickly, so I pass them on a little more slowly. "
                      "Nothing is lost.")))
        else:
            out.append(self._relay_reply(ticket, kind, body, ref))
            if kind not in ("text", "contact") and not fresh:
                # The bot cannot read a voice note or a photo; say that a person will.
                out += to(ctx.resident, Reply("📎 " + ctx._("Passed on to the bridge-builder.")))
        out += self._hours_notice(ticket, ctx.now)
        return out

    def _relay_reply(self, ticket: Ticket, kind: str, body: str | None, ref: str | None) -> Outbound:
        if kind == "text":
            return self._staff(ticket, "💬 " + escape(body or ""))
        if kind == "contact":
            return self._staff(ticket, "📞 " + escape(body or ""))
        return self._staff(ticket, "", copy=Media(kind, ref or ""))

    # -- staff side -------------------------------------------------------------------------------

    def handle_staff(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        """A bridge-builder's button, command or message in the staff group."""
        if incoming.kind is Kind.CHOICE:
            parsed = parse_button(incoming.choice)
            if parsed and parsed[0] == "take" and len(parsed[1]) == 1:
                ticket = self.store.get(parsed[1][0])
                return self._take(incoming, ticket, now)
            return []
        if incoming.kind is Kind.COMMAND:
            command = incoming.command
            if command == "languages":
                return self._languages(incoming, now)
            if command == "queue":
                return self._queue(incoming, now)
            ticket = self._where(incoming)
            if ticket is None:
                return self._answer(incoming, self.gettext(
                    "Use this command inside a conversation's topic."))
            if command == "take":
                return self._take(incoming, ticket, now)
            if command == "close":
                return self._staff_close(incoming, ticket, now)
            if command == "release":
                return self._release(incoming, ticket, now)
            return []
        if incoming.kind in (Kind.TEXT, Kind.MEDIA):
            ticket = self._where(incoming)
            if ticket is None:
                return []  # the general thread: talk among bridge-builders
            return self._relay_out(incoming, ticket, now)
        return []

    def _take(self, incoming: StaffIncoming, ticket: Ticket | None, now: datetime) -> list[Outbound]:
        if ticket is None:
            return self._answer(incoming, self.gettext("That conversation does not exist."))
        name = first_name_only(incoming.first_name) or self.gettext("A bridge-builder")
        me = StaffMember(incoming.staff_id, name)
        if not ticket.active:
            return [self._staff(ticket, self.gettext("Conversation #{number} has already ended.").format(
                number=ticket.id))]
        if not self.store.claim(ticket.id, staff_id=incoming.staff_id, name=name, now=now):
            current = self.store.get(ticket.id) or ticket
            if current.assignee == incoming.staff_id:
                return [self._staff(current, self.gettext("{name}, you already have this conversation.")
                                    .format(name=mention(me)))]
            if not current.active:
                return [self._staff(current, self.gettext("Conversation #{number} has already ended.")
                                    .format(number=current.id))]
            return [self._staff(current, self.gettext("{name}, {other} already took this conversation.")
                                .format(name=mention(me),
                                        other=escape(current.assignee_name or "?")))]
        return self._taken(self.store.get(ticket.id) or ticket, name)

    def _taken(self, ticket: Ticket, name: str) -> list[Outbound]:
        """Tell the topic and the resident (first name only) who took the conversation."""
        log.info("handoff ticket %s taken", ticket.id)
        _ = self._r(ticket)
        return [
            self._staff(ticket, "✅ " + self.gettext("{name} took conversation #{number}.").format(
                name=escape(name), number=ticket.id)),
            *to(ticket.resident, Reply(
                _("{name}, a bridge-builder, has taken your conversation and will answer you "
                  "here.").format(name=escape(name)),
                [[self._end_button(_, ticket)]],
            )),
        ]

    def _relay_out(self, incoming: StaffIncoming, ticket: Ticket, now: datetime) -> list[Outbound]:
        text = incoming.text.lstrip()
        if text.startswith("!"):
            # Internal notes stay in the staff topic and the transcript; never sent.
            self.store.record(ticket_id=ticket.id, direction="note", kind="text", text=text,
                              ref=None, event_id=incoming.event_id, now=now)
            return []
        if not ticket.active:
            return [self._staff(ticket, self.gettext("This conversation has ended; your message was not "
                                          "sent. The resident can ask for a person again."))]
        kind = incoming.media.kind if incoming.media else "text"
        if not self.store.record(ticket_id=ticket.id, direction="out", kind=kind,
                                 text=incoming.text or None, ref=incoming.message_ref or None,
                                 event_id=incoming.event_id, now=now):
            return []  # relayed before
        out: list[Outbound] = []
        name = first_name_only(incoming.first_name) or self.gettext("A bridge-builder")
        if ticket.status == WAITING and self.store.claim(
            ticket.id, staff_id=incoming.staff_id, name=name, now=now
        ):
            # Writing to the resident is taking the conversation.
            out += self._taken(self.store.get(ticket.id) or ticket, name)
        if incoming.message_ref:
            # A copy, not a forward: the resident never sees the staff member's account.
            reply = Reply(copy=Media(kind, incoming.message_ref))
        else:
            reply = Reply(escape(incoming.text))
        out.append(Outbound(ToResident(ticket.resident), reply))
        return out

    def _staff_close(self, incoming: StaffIncoming, ticket: Ticket, now: datetime) -> list[Outbound]:
        if not self.store.close(ticket.id, now=now, by="staff"):
            return [self._staff(ticket, self.gettext("Conversation #{number} has already ended.").format(
                number=ticket.id))]
        log.info("handoff ticket %s closed by staff", ticket.id)
        _ = self._r(ticket)
        return [
            self._staff(ticket, "⏹ " + self.gettext("{name} closed conversation #{number}.").format(
                name=escape(first_name_only(incoming.first_name)), number=ticket.id)),
            *to(ticket.resident, self._rating_question(
                _, ticket, _("The bridge-builder has ended the conversation. Thank you for "
                             "writing. If you need more help, you can ask for a person again."))),
        ]

    def _release(self, incoming: StaffIncoming, ticket: Ticket, now: datetime) -> list[Outbound]:
        if not self.store.release(ticket.id):
            return [self._staff(ticket, self.gettext("Only a conversation someone has taken can be "
                                          "released."))]
        ticket = self.store.get(ticket.id) or ticket
        _ = self._r(ticket)
        return [
            self._staff(ticket, "↩️ " + self.gettext("{name} released conversation #{number}; it is "
                                          "waiting again.").format(
                name=escape(first_name_only(incoming.first_name)), number=ticket.id)),
            self._announcement(ticket, now, again=True),
            *to(ticket.resident, Reply(
                _("Another bridge-builder will continue with you. Your messages are kept; "
                  "you can keep writing here."))),
        ]

    def _languages(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        name = first_name_only(incoming.first_name)
        codes = [c for c in incoming.args.lower().replace(",", " ").split()]
        if not codes:
            mine = self.store.languages_of(incoming.staff_id)
            if not mine:
                return self._answer(incoming, self.gettext("Write the codes of the languages you speak, "
                                                "e.g. /languages sv rmn sr"))
            return self._answer(incoming, self.gettext("{name} speaks: {codes}").format(
                name=escape(name), codes=" ".join(mine)))
        bad = [c for c in codes if not (2 <= len(c) <= 3 and set(c) <= _LANG_CODE)]
        if bad or len(codes) > 12:
            return self._answer(incoming, self.gettext("Use two- or three-letter language codes, e.g. "
                                            "/languages sv rmn sr"))
        unique = list(dict.fromkeys(codes))
        self.store.set_languages(incoming.staff_id, first_name=name, languages=unique, now=now)
        return self._answer(incoming, self.gettext("{name} speaks: {codes}").format(
            name=escape(name), codes=" ".join(unique)))

    def _age(self, delta: timedelta) -> str:
        minutes = max(0, int(delta.total_seconds() // 60))
        if minutes < 60:
            return self.ngettext("{n} min", "{n} min", minutes).format(n=minutes)
        hours = minutes // 60
        if hours < 48:
            return self.ngettext("{n} hour", "{n} hours", hours).format(n=hours)
        days = hours // 24
        return self.ngettext("{n} day", "{n} days", days).format(n=days)

    def _queue(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        tickets = self.store.active_tickets()
        if not tickets:
            return self._answer(incoming, self.gettext("No waiting or open conversations."))
        lines = []
        for t in tickets:
            who = escape(t.assignee_name or "") if t.assignee else self.gettext("waiting")
            flag = "🚨 " if t.urgent else ""
            lines.append(f"- {flag}#{t.id} · {t.locale} · {who} · {self._age(now - t.created_at)}")
        head = self.gettext("Waiting and open conversations:")
        return self._answer(incoming, head + "\n" + "\n".join(lines))

    # -- for the channel, privacy and jobs -------------------------------------------------------

    def resident_blocked(self, resident: str, now: datetime) -> list[Outbound]:
        """The channel found the resident blocked the bot: close their ticket with a note."""
        ticket = self.store.active_for(resident)
        if ticket is None or not self.store.close(ticket.id, now=now, by="blocked"):
            return []
        log.info("handoff ticket %s closed: the resident blocked the bot", ticket.id)
        return [self._staff(ticket, "⛔ " + self.gettext(
            "The resident has blocked the bot, so this conversation is closed. Messages here "
            "can no longer be delivered."))]

    def describe(self, resident: str, ctx: Ctx) -> list[str]:
        """For /mydata: what the handoff keeps about the resident."""
        _ = ctx._
        tickets, questions = self.store.count_for(resident)
        lines = []
        if tickets:
            lines.append(ctx.ngettext(
                "{n} conversation with the bridge-builders, with the messages relayed in it "
                "(messages are deleted after the retention period).",
                "{n} conversations with the bridge-builders, with the messages relayed in them "
                "(messages are deleted after the retention period).", tickets).format(n=tickets))
        if questions:
            lines.append(_("Your last questions, so a bridge-builder knows what you asked "
                           "(kept for one day)."))
        return lines

    def forget(self, resident: str, now: datetime) -> list[Outbound]:
        """For /forget: close an open conversation with a note, erase transcripts and questions."""
        out: list[Outbound] = []
        ticket = self.store.active_for(resident)
        if ticket is not None and self.store.close(ticket.id, now=now, by="forget"):
            out.append(self._staff(ticket, "🗑 " + self.gettext(
                "The resident asked for their data to be erased. This conversation is closed "
                "and its messages are deleted from samvag.")))
        self.store.forget(resident)
        return out

    def reannounce_due(self, now: datetime) -> list[Outbound]:
        """Untaken tickets waiting longer than allowed during opening hours, announced once more."""
        if not self.hours.is_open(now):
            return []
        out = []
        for ticket in self.store.active_tickets():
            if ticket.status != WAITING or ticket.reannounced:
                continue
            opened = self.hours.next_opening(ticket.created_at)
            if opened is None or now - opened < self.config.reannounce_after:
                continue
            if self.store.mark_reannounced(ticket.id):
                out.append(self._announcement(ticket, now, again=True))
        return out

    def release_held(self, now: datetime) -> list[Outbound]:
        """Relay messages held by the rate limit, within each resident's budget."""
        out = []
        since = now - self.config.relay_window
        for ticket_id in self.store.tickets_with_held():
            ticket = self.store.get(ticket_id)
            if ticket is None:
                continue
            held = self.store.held(ticket_id)
            if not ticket.active:
                self.store.mark_relayed([h.id for h in held])  # nobody can read them any more
                continue
            budget = self.config.relay_limit - self.store.relayed_since(
                ticket_id, direction="in", since=since)
            batch = held[: max(0, budget)]
            if batch:
                self.store.mark_relayed([h.id for h in batch])
                out += [self._relay_reply(ticket, h.kind, h.text, h.ref) for h in batch]
        return out

    def closing_notices(self, now: datetime) -> list[Outbound]:
        """After today's hours end, residents still waiting learn when bridge-builders are back."""
        if self.hours.is_open(now):
            return []
        today = now.astimezone(self.hours.tz).date()
        step = timedelta(minutes=15)
        # Was there an opening window earlier today? (The job runs about once a minute.)
        was_open = False
        t = now - step
        while t.astimezone(self.hours.tz).date() == today:
            if self.hours.is_open(t):
                was_open = True
                break
            t -= step
        if not was_open:
            return []
        out = []
        for ticket in self.store.active_tickets():
            if ticket.status == WAITING:
                out += self._hours_notice(ticket, now)
        return out

    def prune(self, now: datetime) -> None:
        self.store.prune_questions(before=now - self.config.questions_for)


def _describe(incoming: Incoming) -> tuple[str, str | None, str | None]:
    """(kind, text, channel ref) of a resident's message for the transcript and the relay."""
    if incoming.kind is Kind.MEDIA and incoming.media is not None:
        return incoming.media.kind, incoming.text or None, incoming.media.ref or None
    if incoming.kind is Kind.CONTACT and incoming.contact is not None:
        return "contact", incoming.contact.phone, None
    return "text", incoming.text[:MAX_RELAY], None


# -- the seams ----------------------------------------------------------------------------------


class HandoffFlow:
    """The resident-side flow "handoff" (bot.core.flows.Flow)."""

    name = NAME

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    def menu_label(self, ctx: Ctx) -> str | None:
        return None  # the conversation's menu has its own "Talk to a bridge-builder" button

    def start(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        return self.service.start(ctx, incoming)

    def handle(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        return self.service.handle(ctx, incoming)


class HandoffInterceptor:
    """Relays during an open ticket and catches risk words (bot.core.flows.Interceptor)."""

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    def intercept(self, ctx: Ctx, incoming: Incoming) -> list[Outbound] | None:
        return self.service.intercept(ctx, incoming)


class HandoffStaff:
    """Staff commands and the "Take it" button (bot.core.flows.StaffHandler)."""

    commands = frozenset({"languages", "queue", "take", "close", "release"})
    prefixes = frozenset({NAME})

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    def handle_staff(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        return self.service.handle_staff(incoming, now)


class ReannounceJob:
    name = "handoff-reannounce"

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    def tick(self, now: datetime) -> list[Outbound]:
        return self.service.reannounce_due(now)


class RelayJob:
    """Relays held messages and forgets recent questions older than a day."""

    name = "handoff-relay"

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    def tick(self, now: datetime) -> list[Outbound]:
        self.service.prune(now)
        return self.service.release_held(now)


class ClosingNoticeJob:
    name = "handoff-closing"

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    def tick(self, now: datetime) -> list[Outbound]:
        return self.service.closing_notices(now)


@dataclass(slots=True)
class HandoffParts:
    """Everything bootstrap registers for the handoff."""

    service: HandoffService
    flow: HandoffFlow
    interceptor: HandoffInterceptor
    staff: HandoffStaff
    jobs: list


def build(
    *,
    store: HandoffStore,
    i18n: Translations,
    hours: OpeningHours,
    staff_locale: str = "sv",
    reannounce_after_minutes: int = 30,
) -> HandoffParts:
    """Wire the handoff's flow, interceptor, staff handler and jobs around one service."""
    service = HandoffService(store, i18n, HandoffConfig(
        hours=hours, staff_locale=staff_locale,
        reannounce_after=timedelta(minutes=reannounce_after_minutes)))
    return HandoffParts(
        service=service,
        flow=HandoffFlow(service),
        interceptor=HandoffInterceptor(service),
        staff=HandoffStaff(service),
        jobs=[ReannounceJob(service), RelayJob(service), ClosingNoticeJob(service)],
    )
