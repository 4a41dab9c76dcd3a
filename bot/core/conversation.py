"""The resident's journey, the same on every channel: language, menu, topics, free text, feedback.

Routing for one event (see bot.core.flows): interceptors first; then a button whose id starts
with a registered flow's name; then the flow the resident is in (our own commands and buttons
take the resident out of it); then the journey below. State lives in a StateStore.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.content.model import Content, Entry
from bot.core import intents
from bot.core.flows import Ctx, Flow, Interceptor
from bot.core.i18n import LANGUAGE_NAMES, I18n, language_name
from bot.core.intents import Intent
from bot.core.messages import Choice, Incoming, Kind, Outbound, Reply, to
from bot.core.ports import Analytics, Clock, ResidentState, StateStore, system_clock
from bot.markup import escape

log = logging.getLogger(__name__)

MAX_TEXT = 1000  # characters; longer messages are not questions we can match
MAX_LABEL = 60  # characters shown on a button
MAX_BUTTON_ID = 64  # bytes, Telegram's callback_data limit
HANDOFF = "handoff"  # the flow that puts a resident in touch with a bridge-builder


class Matcher(Protocol):
    def match(self, text: str, locale: str):  # -> bot.core.search.Decision
        ...


class ContentSource(Protocol):
    """Where the current content comes from (bot.content.reload.ContentHolder swaps it)."""

    @property
    def content(self) -> Content: ...

    @property
    def matcher(self) -> Matcher: ...


def short_key(ident: str) -> str:
    """A button-safe key for a content id: the id itself when short and plain, else a hash."""
    raw = ident.encode()
    if len(raw) <= 40 and ident.isascii() and ":" not in ident and not ident.startswith("~"):
        return ident
    return "~" + hashlib.blake2b(raw, digest_size=8).hexdigest()


class Keys:
    """Two-way map between content ids and the short keys used in button ids."""

    def __init__(self, content: Content) -> None:
        self.entries = {short_key(i): i for i in content.entries}
        self.categories = {short_key(i): i for i in content.categories}

    def entry(self, key: str) -> str | None:
        return self.entries.get(key)

    def category(self, key: str) -> str | None:
        return self.categories.get(key)


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def _clean(text: str) -> str:
    """Drop control characters (keeping line breaks) and surrounding space."""
    kept = (c if c == "\n" or unicodedata.category(c) != "Cc" else " " for c in text)
    return "".join(kept).strip()


class Residents:
    """A Ctx for any resident (locale, gettext, flow state), for the conversation and for staff."""

    def __init__(self, states: StateStore, i18n: I18n) -> None:
        self.states = states
        self.i18n = i18n
        self._forgotten: set[str] = set()

    def bind(self, ctx: Ctx, locale: str) -> None:
        """Switch a Ctx to another locale (gettext included)."""
        ctx.locale = self.i18n.resolve(locale)
        ctx._ = self.i18n.gettext_for(ctx.locale)
        ctx.ngettext = self.i18n.ngettext_for(ctx.locale)

    def ctx_of(self, state: ResidentState, now: datetime) -> Ctx:
        loc = self.i18n.resolve(state.locale)
        return Ctx(
            resident=state.resident,
            locale=loc,
            _=self.i18n.gettext_for(loc),
            ngettext=self.i18n.ngettext_for(loc),
            now=now,
            flow=state.flow,
            data=dict(state.data),
        )

    def ctx_for(self, resident: str, now: datetime) -> Ctx:
        """The resident's Ctx in their own language (the default locale for someone unknown)."""
        state = self.states.load(resident) or ResidentState(resident=resident)
        return self.ctx_of(state, now)

    def save(self, ctx: Ctx) -> None:
        """Persist a Ctx's locale, flow and flow data (e.g. after a staff action)."""
        state = self.states.load(ctx.resident) or ResidentState(resident=ctx.resident, step="menu")
        state.locale, state.flow, state.data = ctx.locale, ctx.flow, dict(ctx.data)
        self.states.save(state, now=ctx.now)

    def forget(self, resident: str) -> None:
        """Delete the resident's state; the event being handled will not write it back."""
        self._forgotten.add(resident)
        self.states.forget(resident)


class Conversation:
    """handle(incoming) -> outbound messages, for any channel."""

    # Set by bootstrap (bot.db.retry.is_transient): such errors propagate, so the channel can
    # say "try again shortly" instead of treating a locked or restarting database as a bug.
    transient_error: Callable[[BaseException], bool] = staticmethod(lambda exc: False)
    # Set by bootstrap (bot.db.engine.unit_of_work): each event commits as a whole or not at all.
    unit_of_work: Callable[[], AbstractContextManager[object]] | None = None
    # Set by bootstrap (bot.db.engine.undo): rolls back what the event wrote so far, so a flow
    # that fails halfway leaves no half records (the event is then claimed again).
    undo: Callable[[], None] | None = None

    def __init__(
        self,
        *,
        content: Content,
        matcher: Matcher,
        i18n: I18n,
        states: StateStore,
        analytics: Analytics,
        clock: Clock = system_clock,
        residents: Residents | None = None,
        flows: Iterable[Flow] = (),
        interceptors: Iterable[Interceptor] = (),
        source: ContentSource | None = None,
    ) -> None:
        self.source = source
        self.i18n = i18n
        self.states = states
        self.analytics = analytics
        self.clock = clock
        self.residents = residents or Residents(states, i18n)
        self.flows: dict[str, Flow] = {}
        self.interceptors: list[Interceptor] = []
        self.replace_content(content, matcher)
        for flow in flows:
            self.register_flow(flow)
        for interceptor in interceptors:
            self.register_interceptor(interceptor)

    # -- wiring -------------------------------------------------------------------------------

    def replace_content(self, content: Content, matcher: Matcher) -> None:
        """Serve new content (the reloader calls this with the content and its matcher)."""
        self.content, self.matcher, self.keys = content, matcher, Keys(content)

    def register_flow(self, flow: Flow) -> None:
        own = {"lang", "nav", "go", "cat", "faq", "sug", "orig", "fb"}
        if flow.name in own or ":" in flow.name:
            raise ValueError(f"flow name {flow.name!r} clashes with the conversation's buttons")
        self.flows[flow.name] = flow

    def register_interceptor(self, interceptor: Interceptor) -> None:
        self.interceptors.append(interceptor)

    def ctx_for(self, resident: str, now: datetime | None = None) -> Ctx:
        """A Ctx for any resident, in their language: for flows, staff handlers and jobs."""
        return self.residents.ctx_for(resident, now or self.clock())

    # -- entry point ----------------------------------------------------------------------------

    def handle(self, incoming: Incoming) -> list[Outbound]:
        """One event from a resident; a redelivered event id is handled at most once."""
        now = self.clock()
        if self.source is not None and self.source.content is not self.content:
            self.replace_content(self.source.content, self.source.matcher)  # reloaded content
        if self.unit_of_work is not None:
            # One transaction: the claim, the flow's records and the state save, or nothing.
            with self.unit_of_work():
                if incoming.event_id and not self.states.claim_event(incoming.event_id, now=now):
                    log.info("duplicate event %s ignored", incoming.event_id)
                    return []
                return self._handle(incoming, now)
        if incoming.event_id and not self.states.claim_event(incoming.event_id, now=now):
            log.info("duplicate event %s ignored", incoming.event_id)
            return []
        try:
            return self._handle(incoming, now)
        except BaseException:
            # Only errors the channel should retry get here (the rest become a kind reply), so
            # the redelivered event must not be taken for a duplicate.
            if incoming.event_id:
                self._release(incoming.event_id)
            raise

    def _release(self, event_id: str) -> None:
        try:
            self.states.release_event(event_id)
        except Exception:  # the database may still be away; the id then expires with pruning
            log.warning("could not release event %s", event_id)

    def _handle(self, incoming: Incoming, now: datetime) -> list[Outbound]:
        stored = self.states.load(incoming.resident)
        is_new = stored is None
        state = stored or ResidentState(
            resident=incoming.resident, locale=self.i18n.resolve(incoming.language_hint)
        )
        ctx = self.residents.ctx_of(state, now)
        incoming = replace(incoming, text=_clean(incoming.text), choice=incoming.choice.strip())
        self.residents._forgotten.discard(incoming.resident)
        try:
            replies = self._route(state, ctx, incoming, is_new)
        except Exception as exc:
            if self.transient_error(exc):
                raise  # the database is briefly away: nothing is saved, the channel answers
            # Keep the stored state as it was, so the resident can try again or use /menu.
            log.exception("conversation failed for a %s event", incoming.kind)
            if self.undo is not None:
                # No half records of the failed flow; the event still counts as handled, so a
                # redelivery does not fail the same way again and again.
                self.undo()
                if incoming.event_id:
                    self.states.claim_event(incoming.event_id, now=now)
            _ = ctx._
            return to(incoming.resident, Reply(
                _("Sorry, something went wrong on my side. Please try again, or write /menu."),
                [[self._menu_button(ctx)]],
            ))
        if incoming.resident in self.residents._forgotten:
            self.residents._forgotten.discard(incoming.resident)
            return replies
        state.locale, state.flow, state.data = ctx.locale, ctx.flow, dict(ctx.data)
        self.states.save(state, now=now)
        return replies

    def _route(
        self, state: ResidentState, ctx: Ctx, incoming: Incoming, is_new: bool
    ) -> list[Outbound]:
        for interceptor in self.interceptors:
            taken = interceptor.intercept(ctx, incoming)
            if taken is not None:
                return taken
        if incoming.kind is Kind.CHOICE:
            prefix = incoming.choice.split(":", 1)[0]
            if prefix in self.flows:
                return self.flows[prefix].handle(ctx, incoming)
        if incoming.kind is Kind.COMMAND:
            owner = self._command_owner(incoming.command)
            if owner is not None:
                return owner.start(ctx, incoming)
        if ctx.flow is not None:
            if self._is_navigation(incoming) or ctx.flow not in self.flows:
                ctx.leave()
            else:
                return self.flows[ctx.flow].handle(ctx, incoming)
        out: list[Outbound] = []
        for item in self._journey(state, ctx, incoming, is_new):
            # The journey answers with Replies; a flow it starts answers with Outbounds.
            out.extend(to(incoming.resident, item) if isinstance(item, Reply) else [item])
        return out

    def _command_owner(self, command: str) -> Flow | None:
        """The flow that owns a /command (its name, or one of its `commands`), if any."""
        for flow in self.flows.values():
            if command == flow.name or command in getattr(flow, "commands", ()):
                return flow
        return None

    def _is_navigation(self, incoming: Incoming) -> bool:
        """Our own commands and buttons, which take a resident out of any flow."""
        if incoming.kind is Kind.COMMAND:
            return intents.command(incoming.command) is not None
        if incoming.kind is Kind.CHOICE:
            return incoming.choice.split(":", 1)[0] in {"lang", "nav", "go", "cat", "faq", "sug"}
        return False

    # -- the journey ------------------------------------------------------------------------------

    def _journey(
        self, state: ResidentState, ctx: Ctx, incoming: Incoming, is_new: bool
    ) -> list[Reply]:
        if is_new or state.step == "new":
            self.analytics.record(
                kind="conversation_start", resident=ctx.resident, locale=ctx.locale, now=ctx.now
            )
            if incoming.kind is Kind.TEXT and incoming.text and intents.detect(incoming.text) is None:
                # Keep the first question and answer it once the language is chosen.
                state.memo["pending"] = incoming.text[:MAX_TEXT]
            state.step = "language"
            return [self._welcome(ctx)]
        if incoming.kind is Kind.COMMAND:
            return self._command(state, ctx, incoming)
        if incoming.kind is Kind.CHOICE:
            return self._choice(state, ctx, incoming)
        if incoming.kind is Kind.TEXT:
            return self._text(state, ctx, incoming.text)
        _ = ctx._
        if incoming.kind is Kind.CONTACT:
            return [Reply(
                _("Thank you, but I do not need your phone number here."),
                [[self._menu_button(ctx)]],
            )]
        return [Reply(
            _("I can only read written messages. Please write your question in a few words, "
              "or talk to a bridge-builder."),
            [[self._human_button(ctx)], [self._menu_button(ctx)]],
        )]

    def _command(self, state: ResidentState, ctx: Ctx, incoming: Incoming) -> list[Reply]:
        intent = intents.command(incoming.command)
        if intent is None:
            _ = ctx._
            return [Reply(_("I do not know that command."), []), self._help(ctx)]
        if intent is Intent.START:
            if state.step == "language":
                return [self._welcome(ctx)]
            return [self._menu(ctx, state, greeting=True)]
        return self._intent(state, ctx, intent, incoming)

    def _intent(
        self, state: ResidentState, ctx: Ctx, intent: Intent, incoming: Incoming
    ) -> list[Reply]:
        _ = ctx._
        if intent is Intent.LANGUAGE:
            return [self._language_choice(ctx)]
        if intent is Intent.HELP:
            return [self._help(ctx)]
        if intent is Intent.HUMAN:
            return self._human(ctx, incoming, state)
        if intent is Intent.STOP:
            state.step = "menu"
            state.memo.pop("q", None)
            return [Reply(_("All right. I am here whenever you need me: just write, or send /start."))]
        if intent is Intent.THANKS:
            return [Reply(_("You are welcome! Is there anything else I can help you with?"),
                          [[self._menu_button(ctx)]])]
        if intent is Intent.GREETING:
            return [self._menu(ctx, state, greeting=True)]
        return [self._menu(ctx, state)]

    def _choice(self, state: ResidentState, ctx: Ctx, incoming: Incoming) -> list[Reply]:
        prefix, _sep, payload = incoming.choice.partition(":")
        if prefix == "lang":
            if payload in LANGUAGE_NAMES:
                return self._set_language(state, ctx, payload)
            return [self._language_choice(ctx)]
        if prefix == "nav":
            if payload == "menu":
                state.memo.pop("q", None)
                return [self._menu(ctx, state)]
            if payload == "ask":
                state.step = "ask"
                return [self._ask_prompt(ctx)]
            if payload == "human":
                return self._human(ctx, incoming, state)
            if payload == "help":
                return [self._help(ctx)]
        if prefix == "go" and payload in self.flows:
            return self._start_flow(ctx, self.flows[payload], incoming)
        if prefix == "cat":
            category = self.keys.category(payload)
            if category is not None:
                return [self._topic(state, ctx, category)]
        if prefix in ("faq", "sug", "orig"):
            entry = self.content.entries.get(self.keys.entry(payload) or "")
            if entry is not None:
                if prefix == "orig":
                    return [self._original(ctx, entry)]
                if prefix == "sug":
                    self.analytics.record(
                        kind="suggestion_taken", resident=ctx.resident, locale=ctx.locale,
                        now=ctx.now, entry_id=entry.id, category=entry.category,
                    )
                else:
                    state.memo.pop("q", None)  # browsed, not asked
                return [self._answer(state, ctx, entry, record=prefix == "faq")]
        if prefix == "fb":
            key, _sep, verdict = payload.rpartition(":")
            entry = self.content.entries.get(self.keys.entry(key) or "")
            if entry is not None and verdict in ("y", "n"):
                return [self._feedback(state, ctx, entry, helpful=verdict == "y")]
        return self._stale(state, ctx)

    def _text(self, state: ResidentState, ctx: Ctx, text: str) -> list[Reply]:
        _ = ctx._
        if not text:
            return [Reply(_("I did not get any text. Please write your question in words."),
                          [[self._menu_button(ctx)]])]
        if len(text) > MAX_TEXT:
            return [Reply(
                _("That message is too long for me. Please ask one short question at a time, "
                  "or talk to a bridge-builder."),
                [[self._human_button(ctx)], [self._menu_button(ctx)]],
            )]
        chosen = _language_named(text)
        if chosen is not None:  # "svenska", "Română", "fi": the resident names a language
            return self._set_language(state, ctx, chosen)
        before: list[Reply] = []
        if not state.memo.get("privacy"):
            before.append(self._privacy_note(state, ctx))
        if state.step in ("language", "new"):
            state.step = "menu"
        intent = intents.detect(text)
        if intent is not None:
            return before + self._intent(state, ctx, intent, Incoming(ctx.resident, Kind.TEXT, text=text))
        return before + self._ask(state, ctx, text)

    def _ask(self, state: ResidentState, ctx: Ctx, text: str) -> list[Reply]:
        _ = ctx._
        state.step = "menu"
        decision = self.matcher.match(text, ctx.locale)
        matches = [m for m in decision.matches if m.entry_id in self.content.entries]
        if decision.status == "answered" and matches:
            entry = self.content.entries[matches[0].entry_id]
            state.memo["q"] = text
            self.analytics.record(
                kind="answered", resident=ctx.resident, locale=ctx.locale, now=ctx.now,
                text=text, entry_id=entry.id, category=entry.category,
            )
            return [self._answer(state, ctx, entry, record=False)]
        if decision.status == "suggest" and matches:
            state.memo["q"] = text
            self.analytics.record(
                kind="suggested", resident=ctx.resident, locale=ctx.locale, now=ctx.now,
                text=text, entry_id=matches[0].entry_id,
            )
            rows = [
                [Choice(f"sug:{short_key(m.entry_id)}", _label(self._question(ctx, m.entry_id)))]
                for m in matches[:3]
            ]
            rows.append([self._human_button(ctx)])
            rows.append([self._menu_button(ctx)])
            return [Reply(_("I am not sure I understood. Did you mean one of these?"), rows)]
        state.memo.pop("q", None)
        self.analytics.record(
            kind="not_found", resident=ctx.resident, locale=ctx.locale, now=ctx.now, text=text
        )
        return [Reply(
            _("I am sorry, I do not know the answer to that. A bridge-builder can help you "
              "personally. You can also try asking in other words."),
            [[self._human_button(ctx)], [self._ask_button(ctx)], [self._menu_button(ctx)]],
        )]

    # -- screens ------------------------------------------------------------------------------

    def _welcome(self, ctx: Ctx) -> Reply:
        _ = ctx._
        text = _(
            "Welcome! I am samvag, the bridge-builders' assistant. I answer common questions "
            "about the municipality's services in your language, and I can put you in touch "
            "with a bridge-builder.\n\nWhich language do you want to use?"
        )
        return Reply(text, self._language_rows(ctx))

    def _language_rows(self, ctx: Ctx) -> list[list[Choice]]:
        buttons = [
            Choice(f"lang:{loc}", ("✓ " if loc == ctx.locale else "") + language_name(loc))
            for loc in self.i18n.locales
        ]
        return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]

    def _language_choice(self, ctx: Ctx) -> Reply:
        _ = ctx._
        return Reply(_("Which language do you want to use?"), self._language_rows(ctx))

    def _set_language(self, state: ResidentState, ctx: Ctx, locale: str) -> list[Reply]:
        self.residents.bind(ctx, locale)
        _ = ctx._
        replies: list[Reply] = []
        first_time = state.step in ("language", "new")
        if first_time:
            state.step = "menu"
        else:
            replies.append(Reply(_("I will speak {language} with you from now on.").format(
                language=language_name(ctx.locale))))
        if not state.memo.get("privacy"):
            replies.append(self._privacy_note(state, ctx))
        pending = state.memo.pop("pending", None)
        if pending:
            return replies + self._ask(state, ctx, pending)
        replies.append(self._menu(ctx, state))
        return replies

    def _privacy_note(self, state: ResidentState, ctx: Ctx) -> Reply:
        state.memo["privacy"] = True
        note = getattr(self.flows.get("privacy"), "note", None)
        if note is not None:
            return Reply(note(ctx))  # the privacy flow's note, which knows the retention time
        _ = ctx._
        return Reply(_(
            "**About your privacy**\n\n"
            "You do not need to tell me your name or your personal identity number. "
            "I remember only your language and where we are in our conversation.\n\n"
            "Your questions are saved without your name, so that the answers can be improved, "
            "and are deleted after a while.\n\n"
            "If you talk to a bridge-builder, they read what you write to them. They work for "
            "the municipality and keep it confidential."
        ))

    def _menu(self, ctx: Ctx, state: ResidentState, *, greeting: bool = False) -> Reply:
        _ = ctx._
        state.step = "menu"
        rows: list[list[Choice]] = []
        topics = [
            Choice(f"cat:{short_key(c.id)}", _label(f"{c.emoji} {c.name(ctx.locale)}".strip()))
            for c in self.content.categories.values()
            if self.content.entries_in(c.id)
        ]
        rows.extend(topics[i : i + 2] for i in range(0, len(topics), 2))
        rows.append([self._ask_button(ctx)])
        rows.append([self._human_button(ctx)])
        for flow in self.flows.values():
            if flow.name == HANDOFF:
                continue  # the bridge-builder button above already leads there
            label = flow.menu_label(ctx)
            if label:
                rows.append([Choice(f"go:{flow.name}", _label(label))])
        rows.append([Choice("nav:lang", "🌐 " + _("Language"))])
        if greeting:
            text = _("Hello! Choose a topic, or write your question in your own words.")
        else:
            text = _("What can I help you with? Choose a topic, or write your question in your own words.")
        return Reply(text, rows)

    def _help(self, ctx: Ctx) -> Reply:
        _ = ctx._
        return Reply(_(
            "I answer common questions about the municipality's services.\n\n"
            "- Choose a topic in the menu, or write your question in your own words.\n"
            "- Ask for a bridge-builder when you want to talk to a person.\n"
            "- /menu shows the menu, /language changes the language."
        ), [[self._menu_button(ctx)], [self._human_button(ctx)]])

    def _ask_prompt(self, ctx: Ctx) -> Reply:
        _ = ctx._
        return Reply(_(
            "Write your question in your own words, in one short sentence. For example: "
            "*How do I apply for financial assistance?*"
        ), [[self._menu_button(ctx)]])

    def _topic(self, state: ResidentState, ctx: Ctx, category_id: str) -> Reply:
        _ = ctx._
        category = self.content.categories[category_id]
        state.memo["cat"] = category_id
        entries = self.content.entries_in(category_id)
        # Answers in the resident's own language first; the others are marked with theirs.
        entries.sort(key=lambda e: ctx.locale not in e.texts)
        rows = [[Choice(f"faq:{short_key(e.id)}", _label(self._question(ctx, e.id)))] for e in entries]
        rows.append([self._menu_button(ctx)])
        title = escape(f"{category.emoji} {category.name(ctx.locale)}".strip())
        return Reply(_("**{topic}**\n\nChoose a question:").format(topic=title), rows)

    def _question(self, ctx: Ctx, entry_id: str) -> str:
        text = self.content.entries[entry_id].text_for(ctx.locale)
        if text.locale == ctx.locale:
            return text.question
        return f"{text.question} ({language_name(text.locale)})"

    def _answer(self, state: ResidentState, ctx: Ctx, entry: Entry, *, record: bool) -> Reply:
        _ = ctx._
        shown = entry.text_for(ctx.locale)
        if record:
            self.analytics.record(
                kind="answered", resident=ctx.resident, locale=ctx.locale, now=ctx.now,
                entry_id=entry.id, category=entry.category,
            )
        key = short_key(entry.id)
        notes: list[str] = []
        rows: list[list[Choice]] = [[
            Choice(f"fb:{key}:y", "👍 " + _("Yes, it helped")),
            Choice(f"fb:{key}:n", "👎 " + _("No")),
        ]]
        if shown.locale != ctx.locale:
            notes.append(_(
                "This answer is not available in {language} yet, so here it is in {other}. "
                "A bridge-builder can explain it to you in your language."
            ).format(language=language_name(ctx.locale), other=language_name(shown.locale)))
        elif not shown.reviewed:
            notes.append(_("This translation has not yet been checked by a native speaker."))
            original = next((entry.texts[loc] for loc in ("sv", "en") if loc in entry.texts
                             and loc != shown.locale), None)
            if original is not None:
                rows.append([Choice(f"orig:{key}", _("Show the original in {language}").format(
                    language=language_name(original.locale)))])
        rows.append([self._human_button(ctx)])
        category = state.memo.get("cat")
        back = [self._menu_button(ctx)]
        if category == entry.category and category in self.content.categories:
            back.insert(0, Choice(f"cat:{short_key(category)}", _("Back to the topic")))
        rows.append(back)
        body = self.content.fill(shown.body, shown.locale).strip()
        text = f"**{shown.question}**\n\n{body}\n\n" + _("Was this helpful?")
        if notes:
            text = "\n\n".join(f"*{note}*" for note in notes) + "\n\n" + text
        return Reply(text, rows, voice=shown.voice)

    def _original(self, ctx: Ctx, entry: Entry) -> Reply:
        _ = ctx._
        original = next((entry.texts[loc] for loc in ("sv", "en") if loc in entry.texts), None)
        if original is None:
            original = entry.text_for(ctx.locale)
        body = self.content.fill(original.body, original.locale).strip()
        return Reply(f"**{original.question}**\n\n{body}",
                     [[self._human_button(ctx)], [self._menu_button(ctx)]], voice=original.voice)

    def _feedback(self, state: ResidentState, ctx: Ctx, entry: Entry, *, helpful: bool) -> Reply:
        _ = ctx._
        question = state.memo.pop("q", None)
        self.analytics.record(
            kind="feedback", resident=ctx.resident, locale=ctx.locale, now=ctx.now,
            entry_id=entry.id, category=entry.category, helpful=helpful,
            text=None if helpful else question,
        )
        if helpful:
            return Reply(_("Thank you! I am glad it helped."), [[self._menu_button(ctx)]])
        return Reply(
            _("Thank you for telling me. I am sorry the answer did not help. A bridge-builder "
              "can help you personally, or you can ask in other words."),
            [[self._human_button(ctx)], [self._ask_button(ctx)], [self._menu_button(ctx)]],
        )

    def _human(
        self, ctx: Ctx, incoming: Incoming, state: ResidentState | None = None
    ) -> list[Reply | Outbound]:
        flow = self.flows.get(HANDOFF)
        if flow is not None:
            category = self.content.categories.get(state.memo.get("cat") or "") if state else None
            if category is not None and ctx.flow is None:
                # The handoff shows staff the topic area the resident was last reading.
                ctx.data = {"topic_area": category.name(self.i18n.default)}
            return self._start_flow(ctx, flow, incoming)
        _ = ctx._
        text = _("I am sorry, talking to a bridge-builder is not possible in this chat yet.")
        phone = self.content.profile_value("bridge_builders_phone", ctx.locale)
        hours = self.content.profile_value("bridge_builders_hours", ctx.locale)
        if phone and hours:
            text += "\n\n" + _("You can call the bridge-builders on {phone}, {hours}.").format(
                phone=phone, hours=hours)
        elif phone:
            text += "\n\n" + _("You can call the bridge-builders on {phone}.").format(phone=phone)
        return [Reply(text, [[self._menu_button(ctx)]])]

    def _start_flow(self, ctx: Ctx, flow: Flow, incoming: Incoming) -> list[Outbound]:
        return flow.start(ctx, incoming)

    def _stale(self, state: ResidentState, ctx: Ctx) -> list[Reply]:
        _ = ctx._
        return [
            Reply(_("That button does not work any more, perhaps because the information has "
                    "changed. Here is the menu.")),
            self._menu(ctx, state),
        ]

    # -- buttons ------------------------------------------------------------------------------

    def _menu_button(self, ctx: Ctx) -> Choice:
        return Choice("nav:menu", "🏠 " + ctx._("Main menu"))

    def _human_button(self, ctx: Ctx) -> Choice:
        return Choice("nav:human", "🙋 " + ctx._("Talk to a bridge-builder"))

    def _ask_button(self, ctx: Ctx) -> Choice:
        return Choice("nav:ask", "💬 " + ctx._("Ask a question"))


def _language_named(text: str) -> str | None:
    """The supported locale a typed language name or code means ('svenska', 'Română', 'fi')."""
    folded = intents.fold(text)
    for loc, name in LANGUAGE_NAMES.items():
        if folded in (loc, intents.fold(name)):
            return loc
    extra = {"swedish": "sv", "svenska": "sv", "engelska": "en", "finska": "fi", "suomeksi": "fi",
             "romanian": "ro", "rumanska": "ro", "romana": "ro", "arli": "rmn",
             "kelderash": "rmy", "kalderash": "rmy", "finnish": "fi"}
    return extra.get(folded)


def button_ids(replies: Sequence[Reply]) -> list[str]:
    """Every button id in some replies (tests and channels check the 64-byte limit with it)."""
    return [c.id for r in replies for row in r.choices for c in row]


class PruneEventsJob:
    """Forget handled event ids after two days: redeliveries come within minutes, not days."""

    name = "prune-events"

    def __init__(self, states: StateStore, *, keep: timedelta = timedelta(days=2)) -> None:
        self.states = states
        self.keep = keep

    def tick(self, now: datetime) -> list[Outbound]:
        removed = self.states.prune_events(before=now - self.keep)
        if removed:
            log.info("pruned %s handled event ids", removed)
        return []
