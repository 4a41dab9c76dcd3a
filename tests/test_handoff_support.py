"""A small world for handoff tests: the real service and store, a resident driver, topic map."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

from bot.core.flows import Ctx
from bot.core.handoff import (
    HandoffConfig,
    HandoffFlow,
    HandoffInterceptor,
    HandoffService,
    HandoffStaff,
)
from bot.core.hours import OpeningHours
from bot.core.i18n import I18n
from bot.core.messages import Incoming, Kind, Media, Outbound, StaffIncoming, ToResident, ToStaff
from bot.db.handoff_store import SqlHandoffStore
from bot.db.telegram_store import TelegramStore

# Tuesday 1 December 2026: open 09-12 Stockholm time (08-11 UTC).
TUE_OPEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WED_CLOSED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
STAFF_CHAT = -1001234

_I18N: I18n | None = None
_events = count(1)


def i18n() -> I18n:
    global _I18N
    if _I18N is None:
        _I18N = I18n()
    return _I18N


def make_service(engine, *, staff_locale: str = "en", **config) -> HandoffService:
    hours = OpeningHours.parse("tue 09:00-12:00; thu 09:00-12:00")
    return HandoffService(SqlHandoffStore(engine), i18n(),
                          HandoffConfig(hours=hours, staff_locale=staff_locale, **config))


def staff_text(outs: list[Outbound]) -> str:
    return "\n".join(o.reply.text for o in outs if isinstance(o.target, ToStaff))


def resident_text(outs: list[Outbound], resident: str | None = None) -> str:
    return "\n".join(o.reply.text for o in outs if isinstance(o.target, ToResident)
                     and (resident is None or o.target.resident == resident))


def buttons(outs: list[Outbound]) -> list[str]:
    return [c.id for o in outs for row in o.reply.choices for c in row]


@dataclass
class World:
    """Residents and staff talking through the real handoff service, as the conversation would."""

    engine: object
    service: HandoffService
    now: datetime = TUE_OPEN
    ctxs: dict[str, Ctx] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.flow = HandoffFlow(self.service)
        self.interceptor = HandoffInterceptor(self.service)
        self.staff = HandoffStaff(self.service)
        self.topics = TelegramStore(self.engine)

    def restart(self, **config) -> None:
        """A new process on the same database: nothing but the database survives."""
        self.service = make_service(self.engine, **config)
        self.__post_init__()

    def ctx(self, resident: str, locale: str = "en") -> Ctx:
        ctx = self.ctxs.get(resident)
        if ctx is None:
            tr = i18n()
            ctx = Ctx(resident, locale, tr.gettext_for(locale), tr.ngettext_for(locale), self.now)
            self.ctxs[resident] = ctx
        ctx.now = self.now
        return ctx

    def _deliver(self, outs: list[Outbound]) -> list[Outbound]:
        # What the Telegram channel does: a ticket's first staff message opens its topic.
        for o in outs:
            if isinstance(o.target, ToStaff) and o.target.ticket is not None:
                assert o.target.title
                if self.topics.topic(o.target.ticket) is None:
                    self.topics.set_topic(o.target.ticket, chat_id=STAFF_CHAT,
                                          thread_id=1000 + o.target.ticket)
        return outs

    def send(self, resident: str, incoming: Incoming, locale: str = "en") -> list[Outbound] | None:
        """Route like bot.core.conversation; None means the FAQ journey would have answered."""
        ctx = self.ctx(resident, locale)
        taken = self.interceptor.intercept(ctx, incoming)
        if taken is not None:
            return self._deliver(taken)
        if incoming.kind is Kind.CHOICE and incoming.choice.startswith("handoff:"):
            return self._deliver(self.flow.handle(ctx, incoming))
        if ctx.flow == "handoff":
            return self._deliver(self.flow.handle(ctx, incoming))
        return None

    def says(self, resident: str, text: str, locale: str = "en", event: str | None = None):
        return self.send(resident, Incoming(resident, Kind.TEXT, text=text,
                                            event_id=event or f"e{next(_events)}"), locale)

    def presses(self, resident: str, choice: str, locale: str = "en"):
        return self.send(resident, Incoming(resident, Kind.CHOICE, choice=choice,
                                            event_id=f"e{next(_events)}"), locale)

    def media(self, resident: str, kind: str, ref: str, locale: str = "en"):
        return self.send(resident, Incoming(resident, Kind.MEDIA, media=Media(kind, ref),
                                            event_id=f"e{next(_events)}"), locale)

    def command(self, resident: str, command: str, locale: str = "en"):
        return self.send(resident, Incoming(resident, Kind.COMMAND, command=command,
                                            event_id=f"e{next(_events)}"), locale)

    def ask_person(self, resident: str, locale: str = "en") -> list[Outbound]:
        """The conversation's "Talk to a bridge-builder" button, then consent."""
        ctx = self.ctx(resident, locale)
        self._deliver(self.flow.start(ctx, Incoming(resident, Kind.CHOICE, choice="nav:human")))
        return self.presses(resident, "handoff:consent", locale)

    def topic(self, ticket: int) -> str:
        thread = self.topics.topic(ticket)
        assert thread is not None
        return str(thread)

    def staff_event(self, staff: str, name: str, kind: Kind, *, ticket: int | None = None,
                    **kw) -> list[Outbound]:
        incoming = StaffIncoming(staff, name, kind,
                                 topic=self.topic(ticket) if ticket is not None else None,
                                 event_id=f"s{next(_events)}", **kw)
        return self._deliver(self.staff.handle_staff(incoming, self.now))

    def take(self, staff: str, name: str, ticket: int) -> list[Outbound]:
        return self.staff_event(staff, name, Kind.CHOICE, ticket=ticket,
                                choice=f"handoff:take:{ticket}")

    def staff_says(self, staff: str, name: str, ticket: int, text: str) -> list[Outbound]:
        return self.staff_event(staff, name, Kind.TEXT, ticket=ticket, text=text,
                                message_ref=f"{STAFF_CHAT}:{next(_events)}")

    def staff_command(self, staff: str, name: str, command: str, args: str = "",
                      ticket: int | None = None) -> list[Outbound]:
        return self.staff_event(staff, name, Kind.COMMAND, ticket=ticket, command=command,
                                args=args)

    def later(self, **delta) -> None:
        self.now = self.now + timedelta(**delta)


def ticket_of(outs: list[Outbound]) -> int:
    for o in outs:
        if isinstance(o.target, ToStaff) and o.target.ticket is not None:
            return o.target.ticket
    raise AssertionError("no ticket in these messages")
