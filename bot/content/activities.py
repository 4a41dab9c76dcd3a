"""Activity files (`content/activities/<id>.yaml`): model, loader with path:line problems, check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import yaml

from bot.content.loader import Problem
from bot.content.model import FALLBACK_LOCALES, SUPPORTED_LOCALES

# Kinds residents can subscribe to; their names are translated in the activities domain.
KINDS: tuple[str, ...] = (
    "cafe", "women", "mothers", "girls", "boys", "information", "consultation", "other",
)  # fmt: skip
ACTIVITY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # short: it goes into button ids
TEXT_KEYS = ("title", "description", "place", "for")
KNOWN_KEYS = {*TEXT_KEYS, "kind", "when", "minutes", "signup", "contact", "reviewed"}
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
DEFAULT_MINUTES = 120


def _pick(texts: dict[str, str], locale: str) -> tuple[str, str]:
    """(text, its locale) in `locale`, else Swedish, else English, else any; ('', '') if none."""
    for loc in (locale, *FALLBACK_LOCALES):
        if texts.get(loc):
            return texts[loc], loc
    for loc, text in texts.items():
        if text:
            return text, loc
    return "", ""


@dataclass(frozen=True, slots=True)
class Activity:
    """One occurrence of an activity (a file with several dates gives several occurrences)."""

    id: str
    kind: str
    starts: datetime  # aware, UTC
    minutes: int
    title: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)
    place: dict[str, str] = field(default_factory=dict)
    audience: dict[str, str] = field(default_factory=dict)
    signup: bool = False
    contact: str = ""
    reviewed: bool = True
    path: Path | None = None

    @property
    def key(self) -> str:
        """Stable, button-safe id of this occurrence: `<id>@<UTC yyyymmddHHMM>`."""
        return f"{self.id}@{self.starts.astimezone(UTC):%Y%m%d%H%M}"

    @property
    def ends(self) -> datetime:
        return self.starts + timedelta(minutes=self.minutes)

    def text(self, what: str, locale: str) -> tuple[str, str]:
        """(text, locale shown) of `title`, `description`, `place` or `for` with fallbacks."""
        texts = {"title": self.title, "description": self.description, "place": self.place,
                 "for": self.audience}[what]  # fmt: skip
        return _pick(texts, locale)


@dataclass(frozen=True, slots=True)
class Activities:
    """Every occurrence from the activity files, sorted by start."""

    items: tuple[Activity, ...] = ()

    def upcoming(
        self, now: datetime, *, kind: str | None = None, within: timedelta | None = None
    ) -> list[Activity]:
        """Occurrences not yet over (past ones disappear by themselves), soonest first."""
        return [
            a for a in self.items
            if a.ends > now and (kind is None or a.kind == kind)
            and (within is None or a.starts <= now + within)
        ]  # fmt: skip

    def get(self, key: str) -> Activity | None:
        return next((a for a in self.items if a.key == key), None)


def _line_of(lines: list[str], key: str) -> int:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
    return next((i + 1 for i, line in enumerate(lines) if pattern.match(line)), 1)


class _Reader:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.problems: list[Problem] = []

    def error(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, "error"))

    def warn(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, "warning"))

    def texts(self, path: Path, line: int, key: str, value: Any) -> dict[str, str] | None:
        """A text per locale (mapping) or one text for every locale (a plain string)."""
        if isinstance(value, str):
            return {"*": value.strip()}
        if not isinstance(value, dict) or not value:
            self.error(path, line, f"'{key}' must be a text or a mapping of language code to text")
            return None
        out: dict[str, str] = {}
        for loc, text in value.items():
            if not isinstance(text, str) or not text.strip():
                self.error(path, line, f"'{key}' in '{loc}' must be a non-empty text")
                continue
            if str(loc) not in SUPPORTED_LOCALES:
                self.warn(path, line, f"'{key}' has unknown language code '{loc}'")
            out[str(loc)] = text.strip()
        return out

    def when(self, path: Path, line: int, value: Any) -> list[datetime]:
        values = value if isinstance(value, list) else [value]
        out: list[datetime] = []
        for raw in values:
            parsed: datetime | None = None
            if isinstance(raw, datetime):
                parsed = raw
            elif isinstance(raw, date):
                self.error(path, line, f"'when' needs a time as well as a date: '{raw} 17:00'")
                continue
            elif isinstance(raw, str):
                for fmt in TIME_FORMATS:
                    try:
                        parsed = datetime.strptime(raw.strip(), fmt)
                        break
                    except ValueError:
                        continue
            if parsed is None:
                self.error(path, line, f"'when' has '{raw}', which is not a date and time "
                                       "like 2026-12-10 17:00")  # fmt: skip
                continue
            if parsed.tzinfo is None:  # editors write local time
                parsed = parsed.replace(tzinfo=self.tz)
            out.append(parsed.astimezone(UTC))
        if not out and not any(p.is_error and p.path == path for p in self.problems):
            self.error(path, line, "'when' lists no date")
        return out

    def read(self, path: Path) -> list[Activity]:
        activity_id = path.stem
        try:
            raw_text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.error(path, 1, "file is not UTF-8 text")
            return []
        try:
            doc = yaml.safe_load(raw_text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            self.error(path, line, f"invalid YAML: {getattr(exc, 'problem', exc)}")
            return []
        lines = raw_text.splitlines()
        if not ACTIVITY_ID.match(activity_id):
            self.error(path, 1, "file name must be a short id (a-z, 0-9, - and _, at most 40 "
                                "characters) followed by .yaml")  # fmt: skip
            return []
        if not isinstance(doc, dict):
            self.error(path, 1, "an activity file must be a mapping of keys to values")
            return []
        errors_before = sum(p.is_error for p in self.problems)
        for key in doc:
            if key not in KNOWN_KEYS:
                self.warn(path, _line_of(lines, str(key)), f"unknown key '{key}' (ignored)")
        kind = doc.get("kind")
        if kind not in KINDS:
            self.error(path, _line_of(lines, "kind"),
                       f"'kind' must be one of: {', '.join(KINDS)}")  # fmt: skip
        if "when" not in doc:
            self.error(path, 1, "missing 'when' (the date and time, e.g. 2026-12-10 17:00)")
            starts: list[datetime] = []
        else:
            starts = self.when(path, _line_of(lines, "when"), doc["when"])
        minutes = doc.get("minutes", DEFAULT_MINUTES)
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 1440:
            self.error(path, _line_of(lines, "minutes"), "'minutes' must be a whole number 1-1440")
            minutes = DEFAULT_MINUTES
        texts: dict[str, dict[str, str]] = {}
        for key in TEXT_KEYS:
            if key in doc:
                texts[key] = self.texts(path, _line_of(lines, key), key, doc[key]) or {}
        for key in ("title", "place"):
            if key not in doc:
                self.error(path, 1, f"missing '{key}'")
        title = texts.get("title", {})
        if title and "sv" not in title and "*" not in title:
            self.error(path, _line_of(lines, "title"),
                       "'title' needs Swedish (sv): residents whose language is missing see it")
        elif title and "*" not in title and "en" not in title:
            self.warn(path, _line_of(lines, "title"), "'title' has no English (en)")
        for key in ("signup", "reviewed"):
            if key in doc and not isinstance(doc[key], bool):
                self.error(path, _line_of(lines, key), f"'{key}' must be true or false")
        contact = doc.get("contact", "")
        if not isinstance(contact, str | int):
            self.error(path, _line_of(lines, "contact"), "'contact' must be a text")
            contact = ""
        if sum(p.is_error for p in self.problems) > errors_before:
            return []

        def spread(t: dict[str, str]) -> dict[str, str]:
            return {loc: t["*"] for loc in SUPPORTED_LOCALES} if "*" in t else t

        return [
            Activity(
                id=activity_id, kind=str(kind), starts=start, minutes=minutes,
                title=spread(title), description=spread(texts.get("description", {})),
                place=spread(texts.get("place", {})), audience=spread(texts.get("for", {})),
                signup=bool(doc.get("signup", False)), contact=str(contact).strip(),
                reviewed=bool(doc.get("reviewed", True)), path=path,
            )
            for start in starts
        ]  # fmt: skip


def validate_activities(
    folder: Path, *, tz: str = "Europe/Stockholm"
) -> tuple[Activities, list[Problem]]:
    """Load every `*.yaml` in `folder` (missing folder: none), collecting problems."""
    reader = _Reader(ZoneInfo(tz))
    items: list[Activity] = []
    folder = Path(folder)
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.name.startswith((".", "_")) or path.name.lower().startswith("readme"):
                continue
            if path.suffix not in (".yaml", ".yml"):
                reader.warn(path, 0, "not an activity file (expected <id>.yaml); ignored")
                continue
            items.extend(reader.read(path))
    items.sort(key=lambda a: (a.starts, a.id))
    return Activities(tuple(items)), reader.problems


class ActivityFolder:
    """The activities of a content folder, reloaded when a file changes; keeps the last good."""

    def __init__(self, folder: Path, *, tz: str = "Europe/Stockholm") -> None:
        self.folder = Path(folder)
        self.tz = tz
        self._stamp: tuple = ()
        self._current = Activities()
        self.problems: list[Problem] = []
        self.refresh()

    def _signature(self) -> tuple:
        if not self.folder.is_dir():
            return ()
        return tuple(
            (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(self.folder.iterdir())
        )

    def refresh(self) -> Activities:
        """Reload if any file changed; on errors keep serving what loaded last."""
        try:
            stamp = self._signature()
        except OSError:
            return self._current
        if stamp != self._stamp:
            self._stamp = stamp
            loaded, self.problems = validate_activities(self.folder, tz=self.tz)
            if not any(p.is_error for p in self.problems) or not self._current.items:
                self._current = loaded
        return self._current


def check_activities(content_dir: Path, out: TextIO, *, now: datetime | None = None) -> int:
    """`samvag content check` for `content_dir/activities`: print problems; return the errors."""
    folder = Path(content_dir) / "activities"
    activities, problems = validate_activities(folder)
    for p in sorted(problems, key=lambda p: (str(p.path), p.line)):
        print(f"{p.level}: {p}", file=out)
    now = now or datetime.now(UTC)
    upcoming = activities.upcoming(now)
    if folder.is_dir():
        print(f"\nActivities: {len(upcoming)} upcoming of {len(activities.items)} dates", file=out)
        for a in upcoming:
            missing = [loc for loc in SUPPORTED_LOCALES if loc not in a.title]
            note = f" (title missing: {', '.join(missing)})" if missing else ""
            print(f"  {a.starts:%Y-%m-%d %H:%M} UTC  {a.id}  [{a.kind}]{note}", file=out)
    return sum(p.is_error for p in problems)
