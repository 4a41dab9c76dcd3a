"""Drive the appointment flow, staff handler and reminder job as the conversation would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.content.model import Category, Content
from bot.core.appointments import AppointmentFlow, AppointmentReminders, AppointmentStaff, build
from bot.core.flows import Ctx
from bot.core.hours import OpeningHours
from bot.core.i18n import I18n
from bot.core.messages import Contact, Incoming, Kind, Outbound, StaffIncoming, ToResident, ToStaff

TZ = "Europe/Stockholm"
PLACE_SV = "Medborgarkontoret, Storgatan 1"
PLACE_EN = "the Citizens' Office, Storgatan 1"


def content() -> Content:
    cats = {
        "social-services": Category("social-services", "🤝", 1, {"sv": "Socialtjänst", "en": "Social services"}),
        "school": Category("school", "🏫", 2, {"sv": "Förskola och skola", "en": "Preschool and school"}),
    }
    return Content(
        root=Path("."),
        categories=cats,
        entries={},
        municipality={"bridge_builders_place": {"sv": PLACE_SV, "en": PLACE_EN}},
    )


@dataclass
class World:
    flow: AppointmentFlow
    staff: AppointmentStaff
    job: AppointmentReminders
    i18n: I18n


def world(store, i18n: I18n | None = None, staff_locale: str = "en", source=None) -> World:
    i18n = i18n or I18n()
    hours = OpeningHours.parse("tue 09:00-12:00; thu 09:00-12:00", tz=TZ)
    flow, staff, job = build(
        content=source or content(), store=store, hours=hours, i18n=i18n, tz=TZ, staff_locale=staff_locale
    )
    return World(flow, staff, job, i18n)


def ids(outs: list[Outbound]) -> list[str]:
    return [c.id for o in outs for row in o.reply.choices for c in row]


def texts(outs: list[Outbound]) -> str:
    return "\n".join(o.reply.text for o in outs)


def for_resident(outs: list[Outbound]) -> list[Outbound]:
    return [o for o in outs if isinstance(o.target, ToResident)]


def for_staff(outs: list[Outbound]) -> list[Outbound]:
    return [o for o in outs if isinstance(o.target, ToStaff)]


@dataclass
class Resident:
    """The conversation's side: keeps the flow state between events, as JSON, like the DB would."""

    w: World
    resident: str = "tg:1"
    locale: str = "en"
    flow_name: str | None = None
    state: str = "{}"
    last: list[Outbound] = field(default_factory=list)

    def _ctx(self, now: datetime) -> Ctx:
        return Ctx(
            resident=self.resident, locale=self.locale, _=self.w.i18n.gettext_for(self.locale),
            ngettext=self.w.i18n.ngettext_for(self.locale), now=now, flow=self.flow_name,
            data=json.loads(self.state),
        )

    def _run(self, now: datetime, incoming: Incoming, *, start: bool = False) -> list[Outbound]:
        ctx = self._ctx(now)
        fn = self.w.flow.start if start else self.w.flow.handle
        outs = fn(ctx, incoming)
        self.flow_name, self.state = ctx.flow, json.dumps(ctx.data)
        self.last = outs
        return outs

    def start(self, now: datetime) -> list[Outbound]:
        return self._run(now, Incoming(self.resident, Kind.CHOICE, choice="menu"), start=True)

    def command(self, now: datetime, command: str = "appointments") -> list[Outbound]:
        inc = Incoming(self.resident, Kind.COMMAND, command=command)
        return self._run(now, inc, start=self.flow_name != "appt")

    def press(self, now: datetime, choice: str) -> list[Outbound]:
        return self._run(now, Incoming(self.resident, Kind.CHOICE, choice=choice))

    def say(self, now: datetime, text: str) -> list[Outbound]:
        return self._run(now, Incoming(self.resident, Kind.TEXT, text=text))

    def share(self, now: datetime, phone: str, *, own: bool = True) -> list[Outbound]:
        return self._run(now, Incoming(self.resident, Kind.CONTACT, contact=Contact(phone, own)))

    @property
    def data(self) -> dict:
        return json.loads(self.state)


def staff_press(w: World, now: datetime, choice: str, *, staff_id: str = "tg:777", name: str = "Anna") -> list[Outbound]:
    return w.staff.handle_staff(StaffIncoming(staff_id, name, Kind.CHOICE, choice=choice), now)


def staff_command(w: World, now: datetime, command: str, args: str = "", *, staff_id: str = "tg:777", name: str = "Anna") -> list[Outbound]:
    return w.staff.handle_staff(StaffIncoming(staff_id, name, Kind.COMMAND, command=command, args=args), now)
