"""Content reload while running: on SIGHUP and by the staff group's /reload command.

The ContentHolder keeps serving the last good content when the new files are broken; this
module says why, to the log and (for /reload) to the staff group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.content.loader import Problem
from bot.content.reload import ContentHolder
from bot.core.i18n import I18n
from bot.core.messages import Outbound, Reply, StaffIncoming, ToStaff
from bot.markup import escape

log = logging.getLogger(__name__)

SHOWN_PROBLEMS = 10  # a staff message stays readable; the log has all of them


@dataclass(slots=True)
class ReloadResult:
    ok: bool
    entries: int  # entries served after the attempt
    errors: list[Problem]
    warnings: list[Problem]


def _where(problem: Problem, root: Path) -> str:
    path = problem.path
    with contextlib.suppress(ValueError):
        path = path.relative_to(root)
    return f"{path}:{problem.line}: {problem.message}"


def reload_content(holder: ContentHolder) -> ReloadResult:
    """Reload the content folder; on errors keep the old content and log each problem."""
    try:
        problems = holder.reload()
    except Exception as exc:  # an unreadable folder must not take the bot down
        log.exception("content reload failed; still serving the previous content")
        problems = [Problem(holder.directory, 0, f"{type(exc).__name__}: {exc}")]
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    for p in errors:
        log.warning("content reload: %s", _where(p, holder.directory))
    return ReloadResult(not errors, len(holder.content.entries), errors, warnings)


def report(result: ReloadResult, _: Callable[[str], str], root: Path) -> str:
    """What a reload did, for the staff group (Markdown subset, problems escaped)."""
    if result.ok:
        text = _("Content reloaded: {n} entries are served now.").format(n=result.entries)
        if result.warnings:
            text += " " + _("Warnings: {n}.").format(n=len(result.warnings))
        return text
    lines = [
        "⚠️ " + _("The new content has errors, so it was not loaded. The previous content is "
                  "still served ({n} entries).").format(n=result.entries),
        "",
    ]
    lines += ["- " + escape(_where(p, root)) for p in result.errors[:SHOWN_PROBLEMS]]
    if len(result.errors) > SHOWN_PROBLEMS:
        lines.append(_("… and {n} more (see the log).").format(
            n=len(result.errors) - SHOWN_PROBLEMS))
    return "\n".join(lines)


class ReloadStaff:
    """The staff group's /reload command (the channel has already checked membership)."""

    commands = frozenset({"reload"})
    prefixes: frozenset[str] = frozenset()

    def __init__(self, holder: ContentHolder, i18n: I18n, *, locale: str) -> None:
        self.holder, self.i18n, self.locale = holder, i18n, locale

    def handle_staff(self, incoming: StaffIncoming, now: datetime) -> list[Outbound]:
        if incoming.command != "reload":
            return []
        log.info("content reload asked by staff %s", incoming.staff_id)
        result = reload_content(self.holder)
        text = report(result, self.i18n.gettext_for(self.locale), self.holder.directory)
        return [Outbound(ToStaff(None), Reply(text))]


def install_sighup(holder: ContentHolder) -> bool:
    """Reload content on SIGHUP (off the event loop); False where signals are unsupported."""
    loop = asyncio.get_running_loop()

    def on_hup() -> None:
        log.info("SIGHUP: reloading content")
        loop.run_in_executor(None, reload_content, holder)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_hup)
    except (NotImplementedError, AttributeError, RuntimeError):  # Windows, or not the main thread
        return False
    return True
