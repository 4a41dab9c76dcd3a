"""Activities: what's on, calendar files, reminders, subscriptions, proposals and announcements.

The resident flow `act` (menu button "What's on") lists upcoming activities from the activity
files; `ActivityIntents` catches "när är nästa kafé?" and `/stop` for subscribers; `ActivityStaff`
owns `/announce` (preview, then confirm) and `/proposals`; `ReminderJob` sends "Remind me"
messages the day before; `AnnouncementReportJob` tells staff how a broadcast went. Delivery of
announcements is bot.broadcast's work (it needs the channel).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from icalendar import Alarm, Calendar, Event

from bot.content.activities import KINDS, Activities, Activity
from bot.content.model import SUPPORTED_LOCALES
from bot.core.dates import format_date_local, format_datetime_local, format_slot_local
from bot.core.flows import Ctx
from bot.core.i18n import I18n, language_name
from bot.core.intents import fold
from bot.core.messages import (
    Attachment,
    Choice,
    Incoming,
    Kind,
    Media,
    Outbound,
    Reply,
    StaffIncoming,
    ToStaff,
    to,
)
from bot.core.privacy import log_id
from bot.core.scrub import scrub
from bot.markup import escape

log = logging.getLogger(__name__)

NAME = "act"
ALL = "all"  # an announcement to everyone who subscribed to anything
THEMES = ("school", "health", "work", "housing", "meeting", "rights", "other")
MAX_LISTED = 6
MAX_PROPOSAL = 1500  # characters
VOICE_KINDS = ("voice", "audio", "video_note")
STOP_COMMANDS = frozenset({"stop", "stopp", "lopeta", "opreste"})
PRODID = "-//samvag//activities//EN"


def N_(msgid: str) -> str:  # noqa: N802 - gettext marker: translated where shown
    return msgid


KIND_NAMES = {
    "cafe": N_("Meeting-place café"),
    "women": N_("Women's group"),
    "mothers": N_("Mothers' group"),
    "girls": N_("Girls' group"),
    "boys": N_("Boys' group"),
    "information": N_("Information meetings"),
    "consultation": N_("Consultations (samråd)"),
    "other": N_("Other activities"),
    ALL: N_("All activities"),
}
THEME_NAMES = {
    "school": N_("School and preschool"),
    "health": N_("Health and child health care"),
    "work": N_("Work, studies and money"),
    "housing": N_("Housing"),
    "meeting": N_("Meeting places and culture"),
    "rights": N_("Rights and discrimination"),
    "other": N_("Something else"),
}


# --- ports -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    resident: str
    activity_key: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    created_at: datetime
    locale: str
    theme: str
    text: str | None
    media_kind: str | None
    media_ref: str | None
    first_name: str | None


@dataclass(frozen=True, slots=True)
class AnnouncementInfo:
    id: int
    kind: str
    texts: dict[str, str]
    status: str  # draft | sending | done | cancelled


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    id: int
    kind: str
    counts: dict[str, int]  # recipient status -> how many


class ActivityStore(Protocol):
    """What the activities need from storage (bot.db.activities_store implements it)."""

    def kinds_of(self, resident: str) -> set[str]: ...
    def subscribe(self, resident: str, kind: str, *, now: datetime) -> None: ...
    def unsubscribe(self, resident: str, kind: str | None = None) -> int: ...
    def subscribers(self, kind: str) -> list[str]: ...
    def add_reminder(
        self, resident: str, key: str, *, remind_at: datetime, starts_at: datetime, now: datetime
    ) -> bool: ...
    def has_reminder(self, resident: str, key: str) -> bool: ...
    def due_reminders(self, now: datetime) -> list[Reminder]: ...
    def claim_reminder(self, reminder_id: int, *, now: datetime) -> bool: ...
    def add_proposal(
        self, *, locale: str, theme: str, text: str | None, media_kind: str | None,
        media_ref: str | None, first_name: str | None, resident: str | None, now: datetime,
    ) -> int: ...  # fmt: skip
    def proposals(self, *, since: datetime, limit: int = 30) -> list[Proposal]: ...
    def create_announcement(
        self, *, kind: str, texts: dict[str, str], staff: str, now: datetime
    ) -> int: ...
    def announcement(self, announcement_id: int) -> AnnouncementInfo | None: ...
    def confirm_announcement(
        self, announcement_id: int, recipients: list[tuple[str, str]], *, now: datetime
    ) -> bool: ...
    def cancel_announcement(self, announcement_id: int) -> bool: ...
    def finished_unreported(self) -> list[BroadcastResult]: ...
    def mark_reported(self, announcement_id: int, *, now: datetime) -> bool: ...


# --- free text -----------------------------------------------------------------------------------

# Folded (lower case, no accents, no apostrophes) phrases, matched on word boundaries.
# Strong phrases always mean "what's on"; weak ones ("vad händer", "activities") also start
# ordinary questions ("Vad händer om jag inte betalar hyran?"), so they count only in a short
# message or with a time ("i veckan"), and never with "if".
_STRONG = (
    "whats on", "what is on", "vad ar pa gang", "vad finns det att gora", "upcoming events",
    "mita on tulossa", "ce urmeaza", "kalendarium",
)  # fmt: skip
_WEAK = (
    "vad hander", "aktiviteter", "evenemang", "traffar",
    "whats happening", "what is happening", "events", "activities", "upcoming",
    "mita tapahtuu", "tapahtumat", "tapahtumia", "aktiviteetit",
    "ce se intampla", "activitati", "evenimente",
    "so kerdjola", "so kerdjol", "so cerdjola", "so cerdjol", "so avela", "so ka ovel", "so ovela",
    "so si nevo", "aktivitetura",
)  # fmt: skip
_IF = ("om", "if", "jos", "daca", "ako")
_KIND_WORDS = {
    "cafe": ("kafe", "kafeet", "cafe", "cafeet", "kahvila", "kahvilaan", "cafenea", "cafeneaua",
             "cafeneua", "kafana", "kafanava", "kafeja"),
    "consultation": ("samrad", "samradet", "samraden", "consultation", "kuuleminen",
                     "kuulemistilaisuus", "consultare", "consultarea", "vakeriba e romenca"),
    "mothers": ("mammagrupp", "mammagruppen", "mothers group", "mums group", "aitiryhma",
                "grupul mamelor", "grupa e dejengi", "grupa le dejengi"),
    "women": ("kvinnogrupp", "kvinnogruppen", "womens group", "naisryhma", "grupul femeilor",
              "grupa e dzuvljengi", "grupa le zhuvlyengi"),
    "girls": ("tjejgrupp", "tjejgruppen", "girls group", "tyttojen ryhma", "tyttoryhma",
              "grupul fetelor", "grupa e cejengi", "grupa le sejengi"),
    "boys": ("killgrupp", "killgruppen", "boys group", "poikien ryhma", "poikaryhma",
             "grupul baietilor", "grupa e cavorengi", "grupa le shavorengi"),
    "information": ("informationsmote", "informationsmotet", "information meeting",
                    "tiedotustilaisuus", "intalnire de informare", "informaciako sastanok"),
}  # fmt: skip
_WHEN_WORDS = (
    "nar", "nasta", "naste", "when", "next", "milloin", "seuraava", "seuraavan", "seuraavaan",
    "cand", "urmatoarea", "urmatorul", "urmatoare", "kana", "kad", "avutno", "avutni",
)  # fmt: skip
_WEEK = ("denna vecka", "den har veckan", "i veckan", "this week", "talla viikolla",
         "saptamana asta", "saptamana aceasta", "akava kurko", "kadja kurko", "akaja kurko")
_MONTH = ("denna manad", "den har manaden", "i manad", "this month", "tassa kuussa",
          "luna asta", "luna aceasta", "akava masek", "kadja shon", "akava ciklo")
MAX_QUESTION = 100


def _any_of(phrases: Iterable[str]) -> re.Pattern[str]:
    """One pattern for a list of phrases, each as whole words: one search instead of many."""
    # Longest first, so an alternation never stops at a shorter phrase that is a prefix.
    alts = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)")


# Compiled once: detect() runs on every free-text message.
_KIND_RE = {kind: _any_of(words) for kind, words in _KIND_WORDS.items()}
_WHEN_RE, _WEEK_RE, _MONTH_RE = _any_of(_WHEN_WORDS), _any_of(_WEEK), _any_of(_MONTH)
_STRONG_RE, _WEAK_RE = _any_of(_STRONG), _any_of(_WEAK)


@dataclass(frozen=True, slots=True)
class WhatsOn:
    """A free-text request for the activity list, with what it narrows to."""

    kind: str | None = None
    within: timedelta | None = None


def detect(text: str) -> WhatsOn | None:
    """'när är nästa kafé?' -> WhatsOn('cafe'); 'what's on this week' -> WhatsOn(within=7 days)."""
    if not text or len(text) > MAX_QUESTION:
        return None
    folded = fold(text.replace("'", "").replace("’", ""))
    kind = next((k for k, pattern in _KIND_RE.items() if pattern.search(folded)), None)
    when = _WHEN_RE.search(folded) is not None
    within = None
    if _WEEK_RE.search(folded):
        within = timedelta(days=7)
    elif _MONTH_RE.search(folded):
        within = timedelta(days=31)
    words = folded.split()
    asks = _STRONG_RE.search(folded) is not None or (
        _WEAK_RE.search(folded) is not None
        and not any(w in _IF for w in words)
        and (len(words) <= 4 or within is not None)
    )
    if asks or (kind is not None and (when or within is not None)):
        return WhatsOn(kind, within)
    return None


# --- wording -----------------------------------------------------------------------------------


class Wording:
    """Activity texts in a resident's language, with dates in their locale's format."""

    def __init__(self, tz: str, fill: Callable[[str, str], str] | None = None) -> None:
        self.tz = tz
        self.fill = fill or (lambda text, locale: text)

    def when(self, a: Activity, locale: str) -> str:
        end = format_slot_local(a.ends, locale, self.tz).rsplit(" ", 1)[-1]
        return f"{format_datetime_local(a.starts, locale, self.tz)}–{end}"

    def slot(self, a: Activity, locale: str) -> str:
        return format_slot_local(a.starts, locale, self.tz)

    def field(self, a: Activity, what: str, locale: str) -> str:
        text, shown = a.text(what, locale)
        return self.fill(text, shown or locale)

    def kind(self, kind: str, _: Callable[[str], str]) -> str:
        return _(KIND_NAMES.get(kind, KIND_NAMES["other"]))


def activity_ics(a: Activity, *, title: str, place: str, description: str, now: datetime) -> Attachment:
    """One VEVENT in UTC with a reminder the evening before, named after the activity and date."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{a.key}@samvag")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", a.starts.astimezone(UTC))
    event.add("dtend", a.ends.astimezone(UTC))
    event.add("summary", title)
    if place:
        event.add("location", place)
    if description:
        event.add("description", description)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", title)
    alarm.add("trigger", timedelta(hours=-3))
    event.add_component(alarm)
    cal.add_component(event)
    name = f"{a.id}-{a.starts.astimezone(UTC):%Y%m%d}.ics"
    return Attachment(filename=name, data=cal.to_ical(), mime="text/calendar")


def announcement_reply(
    kind: str, texts: dict[str, str], locale: str, _: Callable[[str], str]
) -> Reply:
    """An announcement as one resident sees it: their language, else Swedish; one-tap unsubscribe."""
    body = texts.get(locale) or texts.get("sv") or next(iter(texts.values()), "")
    header = "📣 **" + _(KIND_NAMES.get(kind, KIND_NAMES[ALL])) + "**"
    stop = Choice(f"{NAME}:unsub:{kind}", "🔕 " + _("Stop these messages"))
    return Reply(f"{header}\n\n{body}", [[Choice(f"{NAME}:list", "🎉 " + _("What's on"))], [stop]])


# --- the resident flow ---------------------------------------------------------------------------


class ActivitiesFlow:
    """`act`: what's on, details, .ics, remind me, subscriptions, proposals."""

    name = NAME
    commands = frozenset({"act", "activities", "aktiviteter", "whatson"})

    def __init__(
        self,
        *,
        activities: Callable[[], Activities],
        store: ActivityStore,
        wording: Wording,
        analytics=None,
    ) -> None:
        self.activities = activities
        self.store = store
        self.wording = wording
        self.analytics = analytics

    # -- seams --

    def menu_label(self, ctx: Ctx) -> str | None:
        return "🎉 " + ctx._("What's on")

    def start(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        ctx.leave()
        return self.listing(ctx)

    def handle(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        if incoming.kind is Kind.CHOICE and incoming.choice.startswith(NAME + ":"):
            return self._button(ctx, incoming)
        step = ctx.data.get("step") if ctx.flow == NAME else None
        if step == "prop_text":
            return self._proposal_text(ctx, incoming)
        if step in ("prop_theme", "prop_who"):
            return self._proposal_ask_again(ctx, step)
        ctx.leave()
        return self.listing(ctx)

    # -- screens --

    def _back_rows(self, ctx: Ctx) -> list[list[Choice]]:
        _ = ctx._
        return [
            [Choice(f"{NAME}:list", "🎉 " + _("All activities"))],
            [Choice("nav:menu", "🏠 " + _("Main menu"))],
        ]

    def listing(self, ctx: Ctx, want: WhatsOn | None = None) -> list[Outbound]:
        """Upcoming activities in the resident's language (narrowed by kind or time if asked)."""
        _ = ctx._
        acts = self.activities()
        want = want or WhatsOn()
        shown = acts.upcoming(ctx.now, kind=want.kind, within=want.within)
        notes: list[str] = []
        if not shown and (want.kind or want.within):
            if want.kind and want.within:
                notes.append(_("There is nothing of that kind in that time. This is what is coming up."))
            elif want.kind:
                notes.append(_("Nothing is planned right now for: {kind}. This is what is coming "
                               "up.").format(kind=self.wording.kind(want.kind, _)))
            else:
                notes.append(_("Nothing is planned in that time. This is what is coming up next."))
            shown = acts.upcoming(ctx.now)
        shown = shown[:MAX_LISTED]
        rows: list[list[Choice]] = []
        if not shown:
            text = _("No activities are planned right now. Subscribe to news and you will hear "
                     "when something is coming up.")
        else:
            parts = []
            for a in shown:
                title = self.wording.field(a, "title", ctx.locale)
                place = self.wording.field(a, "place", ctx.locale)
                parts.append(f"**{title}**\n- 🗓 {self.wording.when(a, ctx.locale)}\n- 📍 {place}")
                label = f"{self.wording.slot(a, ctx.locale)} · {title}"
                rows.append([Choice(f"{NAME}:d:{a.key}", _label(label))])
            heading = "**" + _("What's on") + "**"
            text = "\n\n".join([heading, *notes, *parts, _("Choose one to see more, add it to your "
                                                           "calendar or get a reminder.")])
        rows.append([Choice(f"{NAME}:subs", "🔔 " + _("News about activities"))])
        rows.append([Choice(f"{NAME}:prop", "💡 " + _("Suggest a topic for the next consultation"))])
        rows.append([Choice("nav:menu", "🏠 " + _("Main menu"))])
        return to(ctx.resident, Reply(text, rows))

    def details(self, ctx: Ctx, a: Activity) -> list[Outbound]:
        _ = ctx._
        loc = ctx.locale
        title, title_loc = a.text("title", loc)
        lines = [f"**{self.wording.field(a, 'title', loc)}**", ""]
        lines.append("- 🗓 " + self.wording.when(a, loc))
        lines.append("- 📍 " + self.wording.field(a, "place", loc))
        audience = self.wording.field(a, "for", loc)
        if audience:
            lines.append("- 👥 " + audience)
        lines.append("- ✍️ " + (_("Please sign up with the bridge-builders.") if a.signup
                              else _("No need to sign up: just come.")))  # fmt: skip
        contact = self.wording.fill(a.contact, loc) if a.contact else ""
        if contact:
            lines.append("- ☎️ " + contact)
        description, desc_loc = a.text("description", loc)
        if description:
            lines += ["", self.wording.fill(description, desc_loc)]
            if desc_loc != loc:
                lines += ["", "*" + _("This description is not available in {language} yet.").format(
                    language=language_name(loc)) + "*"]
        elif title_loc != loc:
            lines += ["", "*" + _("This activity is not described in {language} yet.").format(
                language=language_name(loc)) + "*"]
        rows = [[Choice(f"{NAME}:ics:{a.key}", "📆 " + _("Add to my calendar"))]]
        if self.store.has_reminder(ctx.resident, a.key):
            rows.append([Choice(f"{NAME}:rem:{a.key}", "✅ " + _("Reminder is set"))])
        else:
            rows.append([Choice(f"{NAME}:rem:{a.key}", "⏰ " + _("Remind me the day before"))])
        if a.kind not in self.store.kinds_of(ctx.resident):
            rows.append([Choice(f"{NAME}:sub:{a.kind}", "🔔 " + _("News about: {kind}").format(
                kind=self.wording.kind(a.kind, _)))])
        if a.kind == "consultation":
            rows.append([Choice(f"{NAME}:prop", "💡 " + _("Suggest a topic for the next consultation"))])
        rows += self._back_rows(ctx)
        return to(ctx.resident, Reply("\n".join(lines), rows))

    def _gone(self, ctx: Ctx) -> list[Outbound]:
        _ = ctx._
        return to(ctx.resident, Reply(
            _("That activity is no longer in the calendar: it is over or has been changed."))
        ) + self.listing(ctx)

    def _ics(self, ctx: Ctx, a: Activity) -> list[Outbound]:
        _ = ctx._
        title = self.wording.field(a, "title", ctx.locale)
        att = activity_ics(
            a, title=title, place=self.wording.field(a, "place", ctx.locale),
            description=self.wording.field(a, "description", ctx.locale), now=ctx.now,
        )  # fmt: skip
        text = _("Here is a calendar file for **{title}**. Open it to add the activity to your "
                 "phone's calendar.").format(title=title)
        return to(ctx.resident, Reply(text, self._back_rows(ctx), attachment=att))

    def _remind(self, ctx: Ctx, a: Activity) -> list[Outbound]:
        _ = ctx._
        remind_at = a.starts - timedelta(days=1)
        title = self.wording.field(a, "title", ctx.locale)
        if remind_at <= ctx.now:
            text = _("**{title}** is less than a day away, so I will not send a reminder. "
                     "Welcome!").format(title=title)
        elif self.store.add_reminder(ctx.resident, a.key, remind_at=remind_at,
                                     starts_at=a.starts, now=ctx.now):  # fmt: skip
            text = _("Done! I will remind you about **{title}** on {date}.").format(
                title=title, date=format_date_local(remind_at, ctx.locale, self.wording.tz))
            if self.analytics is not None:
                self.analytics.record(kind="activity_reminder", resident=ctx.resident,
                                      locale=ctx.locale, now=ctx.now, category=a.kind)
        else:
            text = _("You already have a reminder for **{title}**.").format(title=title)
        return to(ctx.resident, Reply(text, self._back_rows(ctx)))

    # -- subscriptions --

    def subscriptions(self, ctx: Ctx, note: str = "") -> list[Outbound]:
        _ = ctx._
        mine = self.store.kinds_of(ctx.resident)
        rows = [
            [Choice(f"{NAME}:sub:{k}", ("✅ " if k in mine else "⬜ ") + self.wording.kind(k, _))]
            for k in KINDS
        ]
        if mine:
            rows.append([Choice(f"{NAME}:unsub:{ALL}", "🔕 " + _("Stop all news"))])
        rows += self._back_rows(ctx)
        text = _("Choose which activities you want news about. Tap again to stop. You can also "
                 "write /stop at any time.")
        if note:
            text = note + "\n\n" + text
        return to(ctx.resident, Reply(text, rows, edit=True))

    def _toggle(self, ctx: Ctx, kind: str) -> list[Outbound]:
        _ = ctx._
        name = self.wording.kind(kind, _)
        if kind in self.store.kinds_of(ctx.resident):
            self.store.unsubscribe(ctx.resident, kind)
            note = _("You will no longer get news about: {kind}.").format(kind=name)
        else:
            self.store.subscribe(ctx.resident, kind, now=ctx.now)
            note = _("You will get news about: {kind}.").format(kind=name)
            if self.analytics is not None:
                self.analytics.record(kind="activity_subscribed", resident=ctx.resident,
                                      locale=ctx.locale, now=ctx.now, category=kind)
        return self.subscriptions(ctx, note)

    def unsubscribe(self, ctx: Ctx, kind: str) -> list[Outbound]:
        _ = ctx._
        if kind == ALL or kind not in KINDS:
            removed = self.store.unsubscribe(ctx.resident, None)
            text = (_("Done: you will get no more news about activities.") if removed
                    else _("You do not get any news about activities."))  # fmt: skip
        else:
            self.store.unsubscribe(ctx.resident, kind)
            text = _("Done: you will get no more news about: {kind}.").format(
                kind=self.wording.kind(kind, _))
        text += " " + _("You can subscribe again under \"What's on\".")
        return to(ctx.resident, Reply(text, [[Choice(f"{NAME}:subs", "🔔 " + _("News about activities"))],
                                             [Choice("nav:menu", "🏠 " + _("Main menu"))]]))

    # -- proposals --

    def _proposal_start(self, ctx: Ctx) -> list[Outbound]:
        _ = ctx._
        ctx.enter(NAME, {"step": "prop_text"})
        text = _("What should the municipality talk about at the next consultation with Roma "
                 "residents? Write your proposal in your own language, or send a voice message.\n\n"
                 "Please do not write your personal identity number or anyone's private details.")
        return to(ctx.resident, Reply(text, [[Choice(f"{NAME}:pcancel", "✖ " + _("Cancel"))]]))

    def _proposal_text(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        _ = ctx._
        if incoming.kind is Kind.MEDIA and incoming.media and incoming.media.kind in VOICE_KINDS:
            ctx.data.update(step="prop_theme", media=[incoming.media.kind, incoming.media.ref])
        elif incoming.kind is Kind.TEXT and incoming.text.strip():
            if len(incoming.text) > MAX_PROPOSAL:
                return to(ctx.resident, Reply(_("That is a bit long for me. Please write your "
                                                "proposal in at most {n} characters.").format(n=MAX_PROPOSAL),
                                              [[Choice(f"{NAME}:pcancel", "✖ " + _("Cancel"))]]))
            # Scrubbed before it is stored anywhere, even in the flow state.
            ctx.data.update(step="prop_theme", text=scrub(incoming.text.strip()))
        else:
            return to(ctx.resident, Reply(_("Please write your proposal, or send a voice message."),
                                          [[Choice(f"{NAME}:pcancel", "✖ " + _("Cancel"))]]))
        return self._proposal_ask_again(ctx, "prop_theme")

    def _proposal_ask_again(self, ctx: Ctx, step: str) -> list[Outbound]:
        _ = ctx._
        cancel = [Choice(f"{NAME}:pcancel", "✖ " + _("Cancel"))]
        if step == "prop_theme":
            rows = [[Choice(f"{NAME}:th:{t}", _(THEME_NAMES[t]))] for t in THEMES]
            return to(ctx.resident, Reply(_("Thank you! What is your proposal mostly about?"),
                                          rows + [cancel]))
        rows = [
            [Choice(f"{NAME}:who:a", "🕶 " + _("Send anonymously"))],
            [Choice(f"{NAME}:who:n", "🙂 " + _("Send with my first name"))],
            cancel,
        ]
        text = _("Do you want to send it anonymously, or with your first name? Anonymous "
                 "proposals are not linked to you in any way.")
        return to(ctx.resident, Reply(text, rows))

    def _proposal_theme(self, ctx: Ctx, theme: str) -> list[Outbound]:
        if ctx.flow != NAME or ctx.data.get("step") not in ("prop_theme", "prop_who"):
            return self._proposal_start(ctx)
        ctx.data.update(step="prop_who", theme=theme if theme in THEMES else "other")
        return self._proposal_ask_again(ctx, "prop_who")

    def _proposal_send(self, ctx: Ctx, incoming: Incoming, named: bool) -> list[Outbound]:
        _ = ctx._
        if ctx.flow != NAME or ctx.data.get("step") != "prop_who":
            return self._proposal_start(ctx)
        data = ctx.data
        media = data.get("media") or [None, None]
        first = (incoming.first_name or "").strip()[:64] if named else ""
        self.store.add_proposal(
            locale=ctx.locale, theme=data.get("theme", "other"), text=data.get("text"),
            media_kind=media[0], media_ref=media[1], first_name=first or None,
            resident=ctx.resident if named else None, now=ctx.now,
        )  # fmt: skip
        if self.analytics is not None:
            self.analytics.record(kind="proposal", resident=ctx.resident, locale=ctx.locale,
                                  now=ctx.now, category=data.get("theme", "other"))
        log.info("consultation proposal stored (%s)", "named" if first else "anonymous")
        ctx.leave()
        text = _("Thank you! Your proposal goes to the bridge-builders, who bring it to the "
                 "next consultation. Subscribe to news about consultations to hear what came of it.")
        rows = [[Choice(f"{NAME}:sub:consultation", "🔔 " + _("News about: {kind}").format(
            kind=self.wording.kind("consultation", _)))]] if "consultation" not in self.store.kinds_of(
                ctx.resident) else []  # fmt: skip
        return to(ctx.resident, Reply(text, rows + self._back_rows(ctx), edit=True))

    # -- buttons --

    def _button(self, ctx: Ctx, incoming: Incoming) -> list[Outbound]:
        _prefix, _sep, rest = incoming.choice.partition(":")
        action, _sep, arg = rest.partition(":")
        if action == "prop":
            return self._proposal_start(ctx)
        if action == "th":
            return self._proposal_theme(ctx, arg)
        if action == "who":
            return self._proposal_send(ctx, incoming, named=arg == "n")
        if action == "pcancel":
            ctx.leave()
            return to(ctx.resident, Reply(ctx._("Nothing was sent."), self._back_rows(ctx), edit=True))
        if ctx.flow == NAME:
            ctx.leave()  # any other button ends an unfinished proposal
        if action == "subs":
            return self.subscriptions(ctx)
        if action == "sub" and arg in KINDS:
            return self._toggle(ctx, arg)
        if action == "unsub":
            return self.unsubscribe(ctx, arg)
        if action in ("d", "ics", "rem"):
            a = self.activities().get(arg)
            if a is None or a.ends <= ctx.now:
                return self._gone(ctx)
            if action == "d":
                return self.details(ctx, a)
            if action == "ics":
                return self._ics(ctx, a)
            return self._remind(ctx, a)
        if action == "k" and arg in KINDS:
            return self.listing(ctx, WhatsOn(kind=arg))
        return self.listing(ctx)


def _label(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class ActivityIntents:
    """Interceptor: "när är nästa kafé?" shows the list; /stop unsubscribes a subscriber."""

    def __init__(self, flow: ActivitiesFlow) -> None:
        self.flow = flow

    def intercept(self, ctx: Ctx, incoming: Incoming) -> list[Outbound] | None:
        if incoming.kind is Kind.COMMAND and incoming.command in STOP_COMMANDS:
            if not self.flow.store.kinds_of(ctx.resident):
                return None  # the conversation's own /stop
            ctx.leave()
            return self.flow.unsubscribe(ctx, ALL)
        if incoming.kind is Kind.TEXT and ctx.flow is None:
            want = detect(incoming.text)
            if want is not None:
                return self.flow.listing(ctx, want)
        return None


# --- staff ---------------------------------------------------------------------------------------

_LANG_LINE = re.compile(rf"^\s*({'|'.join(SUPPORTED_LOCALES)})\s*:\s?(.*)$", re.IGNORECASE)


def parse_announcement(text: str) -> tuple[str, dict[str, str]]:
    """'/announce cafe\\nsv: ...\\nen: ...' -> ('cafe', {'sv': ..., 'en': ...}); kind 'all' if none."""
    body = text.strip()
    if body.startswith("/"):
        body = body.split(None, 1)[1] if len(body.split(None, 1)) > 1 else ""
    first, _nl, rest = body.partition("\n")
    words = first.split(None, 1)
    kind = ALL
    if words and words[0].lower() in (*KINDS, ALL):
        kind = words[0].lower()
        body = ((words[1] if len(words) > 1 else "") + "\n" + rest).strip()
    texts: dict[str, list[str]] = {}
    current = "sv"
    for line in body.splitlines():
        m = _LANG_LINE.match(line)
        if m:
            current = m.group(1).lower()
            line = m.group(2)
        texts.setdefault(current, []).append(line)
    clean = {loc: "\n".join(lines).strip() for loc, lines in texts.items()}
    return kind, {loc: t for loc, t in clean.items() if t}


class ActivityStaff:
    """`/announce` (preview, confirm, cancel) and `/proposals` in the staff group."""

    commands = frozenset({"announce", "proposals"})
    prefixes = frozenset({"ann"})

    def __init__(
        self,
        *,
        store: ActivityStore,
        i18n: I18n,
        locale_of: Callable[[str], str],
        staff_locale: str = "sv",
        on_confirm: Callable[[], None] | None = None,
        tz: str = "Europe/Stockholm",
    ) -> None:
        self.store = store
        self.i18n = i18n
        self.locale_of = locale_of
        self.staff_locale = staff_locale
        self.on_confirm = on_confirm
        self.tz = tz

    def _(self, msgid: str) -> str:
        return self.i18n.gettext_for(self.staff_locale)(msgid)

    def _audience(self, kind: str) -> str:
        return self._(KIND_NAMES.get(kind, KIND_NAMES[ALL]))

    def handle_staff(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        if incoming.kind is Kind.COMMAND and incoming.command == "announce":
            return self._announce(incoming, now)
        if incoming.kind is Kind.COMMAND and incoming.command == "proposals":
            return self._proposals(incoming, now)
        if incoming.kind is Kind.CHOICE:
            parts = incoming.choice.split(":")
            if len(parts) == 3 and parts[0] == "ann" and parts[2].isdigit():
                return self._decide(parts[1], int(parts[2]), incoming, now)
        return []

    def _reply(self, text: str, rows: list[list[Choice]] | None = None, *, edit: bool = False) -> list[Outbound]:
        return [Outbound(ToStaff(None), Reply(text, rows or [], edit=edit))]

    def _announce(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        _ = self._
        raw = incoming.text or f"/announce {incoming.args}"
        kind, texts = parse_announcement(raw)
        if "sv" not in texts:
            kinds = ", ".join((*KINDS, ALL))
            return self._reply(_(
                "How to send an announcement: `/announce <kind>` on the first line, then the "
                "text. Lines starting with `sv:`, `en:`, `fi:`, `ro:`, `rmn:` or `rmy:` give the "
                "text in that language; residents whose language is missing get the Swedish text, "
                "so Swedish is needed. Kinds: {kinds}."
            ).format(kinds=kinds))
        ann_id = self.store.create_announcement(kind=kind, texts=texts, staff=incoming.staff_id,
                                                now=now)  # fmt: skip
        n = len(self.store.subscribers(kind))
        parts = [_("**Preview of announcement {id}** to subscribers of: {audience} ({n}).").format(
            id=ann_id, audience=self._audience(kind), n=n)]
        missing = [loc for loc in SUPPORTED_LOCALES if loc not in texts]
        if missing:
            parts.append(_("Residents who use {languages} get the Swedish text.").format(
                languages=", ".join(language_name(loc) for loc in missing)))
        for loc in SUPPORTED_LOCALES:
            if loc in texts:
                parts.append(f"— {language_name(loc)} —\n{texts[loc]}")
        rows = [[Choice(f"ann:ok:{ann_id}", "✅ " + _("Send to {n}").format(n=n)),
                 Choice(f"ann:no:{ann_id}", "✖ " + _("Cancel"))]]  # fmt: skip
        return self._reply("\n\n".join(parts), rows)

    def _decide(self, action: str, ann_id: int, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        _ = self._
        info = self.store.announcement(ann_id)
        if info is None or info.status != "draft":
            return self._reply(_("Announcement {id} has already been sent or cancelled.").format(id=ann_id))
        if action == "no":
            self.store.cancel_announcement(ann_id)
            return self._reply(_("Announcement {id} was cancelled; nothing was sent.").format(id=ann_id),
                               edit=True)
        if action != "ok":
            return []
        recipients = [(r, self.locale_of(r)) for r in self.store.subscribers(info.kind)]
        if not self.store.confirm_announcement(ann_id, recipients, now=now):
            return self._reply(_("Announcement {id} has already been sent or cancelled.").format(id=ann_id))
        log.info("announcement %s confirmed for %d recipients", ann_id, len(recipients))
        if self.on_confirm is not None:
            self.on_confirm()
        return self._reply(_("Sending announcement {id} to {n} subscribers. I will report here "
                             "when it is done.").format(id=ann_id, n=len(recipients)), edit=True)

    def _proposals(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        _ = self._
        days = int(incoming.args) if incoming.args.strip().isdigit() else 180
        found = self.store.proposals(since=now - timedelta(days=days), limit=30)
        if not found:
            return self._reply(_("No proposals for the consultation in the last {days} days.").format(days=days))
        counts = Counter(p.theme for p in found)
        head = _("**Proposals for the consultation** (last {days} days, newest first):").format(days=days)
        summary = ", ".join(f"{_(THEME_NAMES.get(t, THEME_NAMES['other']))}: {n}"
                            for t, n in counts.most_common())  # fmt: skip
        out: list[Outbound] = []
        items: list[str] = []
        for p in found:
            who = escape(p.first_name) if p.first_name else _("anonymous")
            meta = (f"#{p.id} · {format_date_local(p.created_at, self.staff_locale, self.tz)} · "
                    f"{_(THEME_NAMES.get(p.theme, THEME_NAMES['other']))} · "
                    f"{language_name(p.locale)} · {who}")  # fmt: skip
            if p.text:
                items.append(f"{meta}\n{escape(p.text)}")
            elif p.media_ref:
                items.append(f"{meta}\n" + _("(voice message, copied below)"))
                out.append(Outbound(ToStaff(None), Reply(copy=Media(p.media_kind or "voice", p.media_ref))))
        return self._reply("\n\n".join([head, summary, *items])) + out


# --- jobs ----------------------------------------------------------------------------------------


class ReminderJob:
    """Sends "Remind me" messages when due; planned from the database, so restarts lose none."""

    name = "activity-reminders"

    def __init__(
        self,
        *,
        store: ActivityStore,
        activities: Callable[[], Activities],
        wording: Wording,
        ctx_for: Callable[[str, datetime], Ctx],
    ) -> None:
        self.store = store
        self.activities = activities
        self.wording = wording
        self.ctx_for = ctx_for

    def tick(self, now: datetime) -> list[Outbound]:
        out: list[Outbound] = []
        acts = self.activities()
        for r in self.store.due_reminders(now):
            a = acts.get(r.activity_key)
            # Claimed first: a crash after this loses one reminder rather than sending two.
            if not self.store.claim_reminder(r.id, now=now):
                continue
            if a is None or a.starts <= now:
                continue  # cancelled or moved (a new date is a new key), or already begun
            ctx = self.ctx_for(r.resident, now)
            _ = ctx._
            title = self.wording.field(a, "title", ctx.locale)
            text = _("⏰ Reminder: **{title}**\n\n- 🗓 {when}\n- 📍 {place}\n\nWelcome!").format(
                title=title, when=self.wording.when(a, ctx.locale),
                place=self.wording.field(a, "place", ctx.locale))  # fmt: skip
            rows = [[Choice(f"{NAME}:d:{a.key}", "ℹ️ " + _("More about it"))]]
            out += to(r.resident, Reply(text, rows))
            log.info("activity reminder for %s", log_id(r.resident))
        return out


class AnnouncementReportJob:
    """Tells the staff group how many received a finished announcement (once per announcement)."""

    name = "announcement-reports"

    def __init__(self, *, store: ActivityStore, i18n: I18n, staff_locale: str = "sv") -> None:
        self.store = store
        self.i18n = i18n
        self.staff_locale = staff_locale

    def tick(self, now: datetime) -> list[Outbound]:
        _ = self.i18n.gettext_for(self.staff_locale)
        ngettext = self.i18n.ngettext_for(self.staff_locale)
        out: list[Outbound] = []
        for result in self.store.finished_unreported():
            if not self.store.mark_reported(result.id, now=now):
                continue
            c = result.counts
            total = sum(c.values())
            lines = [ngettext("Announcement {id} is done: {sent} of {total} subscriber received it.",
                              "Announcement {id} is done: {sent} of {total} subscribers received it.",
                              total).format(id=result.id, sent=c.get("sent", 0), total=total)]  # fmt: skip
            if c.get("blocked"):
                lines.append(_("Blocked the bot: {n}.").format(n=c["blocked"]))
            if c.get("failed"):
                lines.append(_("Could not be reached: {n}.").format(n=c["failed"]))
            if c.get("skipped"):
                lines.append(_("Unsubscribed before it was their turn: {n}.").format(n=c["skipped"]))
            if c.get("unknown"):
                lines.append(_("Unsure, because samvag restarted while sending (not sent again): "
                               "{n}.").format(n=c["unknown"]))
            out.append(Outbound(ToStaff(None), Reply(" ".join(lines))))
        return out


# --- wiring --------------------------------------------------------------------------------------


@dataclass(slots=True)
class ActivitiesParts:
    flow: ActivitiesFlow
    interceptor: ActivityIntents
    staff: ActivityStaff
    jobs: list


def build(
    *,
    activities: Callable[[], Activities],
    store: ActivityStore,
    i18n: I18n,
    ctx_for: Callable[[str, datetime], Ctx],
    tz: str,
    staff_locale: str = "sv",
    fill: Callable[[str, str], str] | None = None,
    analytics=None,
    on_confirm: Callable[[], None] | None = None,
    now: Callable[[], datetime] | None = None,
) -> ActivitiesParts:
    """The flow, its interceptor, the staff handler and the jobs, wired to one store."""
    wording = Wording(tz, fill)
    flow = ActivitiesFlow(activities=activities, store=store, wording=wording, analytics=analytics)
    clock = now or (lambda: datetime.now(UTC))
    staff = ActivityStaff(
        store=store, i18n=i18n, locale_of=lambda r: ctx_for(r, clock()).locale,
        staff_locale=staff_locale, on_confirm=on_confirm, tz=tz,
    )  # fmt: skip
    jobs = [
        ReminderJob(store=store, activities=activities, wording=wording, ctx_for=ctx_for),
        AnnouncementReportJob(store=store, i18n=i18n, staff_locale=staff_locale),
    ]
    return ActivitiesParts(flow, ActivityIntents(flow), staff, jobs)


def kinds_named(kinds: Iterable[str], _: Callable[[str], str]) -> list[str]:
    """Kind names in a language (for /mydata)."""
    return [_(KIND_NAMES.get(k, KIND_NAMES["other"])) for k in kinds]
