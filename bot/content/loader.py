"""Load a content folder and report every problem as `path:line: what is wrong`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.content.model import Category, Content, Entry, EntryText, placeholders

ENTRY_FILE = re.compile(
    r"^(?P<id>[a-z0-9][a-z0-9_-]*)\.(?P<locale>[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\.md$"
)
VOICE_FILE = re.compile(
    r"^(?P<id>[a-z0-9][a-z0-9_-]*)\.(?P<locale>[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\.ogg$"
)
CATEGORY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_VOICE_BYTES = 1024 * 1024
# libyaml's safe loader when installed: same results, much faster on thousands of files.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
KNOWN_KEYS = {"question", "alternatives", "keywords", "reviewed", "updated"}
# Top-level folders that are not FAQ categories (owned by other parts of the bot).
RESERVED_DIRS = {"activities"}
TOP_LEVEL_FILES = {"categories.yaml", "municipality.yaml", "synonyms.yaml"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or suspicious) in a content folder."""

    path: Path
    line: int
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.level == "error"


class ContentError(Exception):
    """The content folder has errors; `.problems` lists all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.is_error]
        shown = "\n".join(str(p) for p in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s) in content:\n{shown}{more}")


def load_content(path: Path) -> Content:
    """Load and validate `path`; raise ContentError listing every problem if any is an error."""
    content, problems = validate(path)
    if content is None or any(p.is_error for p in problems):
        raise ContentError(problems)
    return content


def validate(path: Path) -> tuple[Content | None, list[Problem]]:
    """Load `path`, collecting problems; the Content is None only when nothing could be loaded."""
    return _Loader(Path(path)).run()


def _key_line(lines: list[str], key: str, offset: int = 0) -> int:
    """The 1-based line where `key:` starts in a YAML block, else the block's first line."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
    for i, line in enumerate(lines):
        if pattern.match(line):
            return offset + i + 1
    return offset + 1


def _yaml_line(exc: yaml.YAMLError, offset: int = 0) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return offset + (mark.line + 1 if mark is not None else 1)


class _Loader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []

    def error(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, "error"))

    def warn(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, "warning"))

    def read_yaml(self, path: Path) -> tuple[Any, list[str]] | None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.error(path, 1, "file is not UTF-8 text")
            return None
        except OSError as exc:
            self.error(path, 1, f"cannot read file: {exc.strerror}")
            return None
        try:
            return yaml.load(text, Loader=_YAML_LOADER), text.splitlines()
        except yaml.YAMLError as exc:
            self.error(path, _yaml_line(exc), f"invalid YAML: {getattr(exc, 'problem', exc)}")
            return None

    def read_optional_mapping(self, path: Path, shape: str) -> tuple[dict, list[str]] | None:
        """An optional top-level YAML file that must be a mapping; None when absent or broken."""
        if not path.is_file():
            return None
        loaded = self.read_yaml(path)
        if loaded is None or loaded[0] is None:
            return None
        data, lines = loaded
        if not isinstance(data, dict):
            self.error(path, 1, f"{path.name} must {shape}")
            return None
        return data, lines

    def run(self) -> tuple[Content | None, list[Problem]]:
        root = self.root
        if not root.is_dir():
            self.error(root, 0, "content folder not found")
            return None, self.problems
        categories = self.load_categories(root / "categories.yaml")
        municipality = self.load_municipality(root / "municipality.yaml")
        synonyms = self.load_synonyms(root / "synonyms.yaml")
        entries: dict[str, Entry] = {}
        seen_at: dict[str, Path] = {}
        for child in sorted(root.iterdir()):
            name = child.name
            if name.startswith(".") or name.startswith("_"):
                continue
            if child.is_dir():
                if name in RESERVED_DIRS:
                    continue
                if name not in categories:
                    self.error(child, 0, f"folder '{name}' is not a category in categories.yaml")
                    continue
                self.load_category_dir(child, name, entries, seen_at)
            elif name not in TOP_LEVEL_FILES and not name.lower().startswith("readme"):
                self.warn(child, 0, "unexpected file at the top of the content folder (ignored)")
        for cat_id in categories:
            if not (root / cat_id).is_dir():
                self.warn(
                    root / "categories.yaml",
                    self._cat_lines.get(cat_id, 1),
                    f"category '{cat_id}' has no folder",
                )
        self.check_placeholders(entries, municipality)
        content = Content(
            root=root,
            categories=categories,
            entries=entries,
            municipality=municipality,
            synonyms=synonyms,
        )
        return content, self.problems

    # --- top-level files ---------------------------------------------------------------------

    _cat_lines: dict[str, int]

    def load_categories(self, path: Path) -> dict[str, Category]:
        self._cat_lines = {}
        if not path.is_file():
            self.error(path, 0, "categories.yaml is missing")
            return {}
        loaded = self.read_yaml(path)
        if loaded is None:
            return {}
        data, lines = loaded
        if not isinstance(data, dict):
            self.error(
                path, 1, "categories.yaml must map category ids to their emoji, order and name"
            )
            return {}
        found: list[Category] = []
        for cat_id, spec in data.items():
            line = _key_line(lines, str(cat_id))
            self._cat_lines[str(cat_id)] = line
            if not isinstance(cat_id, str) or not CATEGORY_ID.match(cat_id):
                self.error(
                    path, line, f"category id '{cat_id}' must be lowercase letters, digits and '-'"
                )
                continue
            if not isinstance(spec, dict):
                self.error(path, line, f"category '{cat_id}' needs emoji, order and name")
                continue
            names = spec.get("name")
            if isinstance(names, str):
                names = {"sv": names}
            if (
                not isinstance(names, dict)
                or not names
                or not all(
                    isinstance(k, str) and isinstance(v, str) and v.strip()
                    for k, v in names.items()
                )
            ):
                self.error(
                    path, line, f"category '{cat_id}': name must map language codes to names"
                )
                names = {}
            order = spec.get("order", len(found) + 1)
            if not isinstance(order, int) or isinstance(order, bool):
                self.error(path, line, f"category '{cat_id}': order must be a whole number")
                order = len(found) + 1
            emoji = spec.get("emoji", "")
            if not isinstance(emoji, str):
                self.error(path, line, f"category '{cat_id}': emoji must be text")
                emoji = ""
            found.append(Category(id=cat_id, emoji=emoji, order=order, names=dict(names)))
        found.sort(key=lambda c: c.order)
        return {c.id: c for c in found}

    def load_municipality(self, path: Path) -> dict[str, dict[str, str]]:
        mapping = self.read_optional_mapping(path, "map keys to values")
        if mapping is None:
            return {}
        data, lines = mapping
        profile: dict[str, dict[str, str]] = {}
        for key, value in data.items():
            line = _key_line(lines, str(key))
            if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_]+", key):
                self.error(path, line, f"key '{key}' must be letters, digits and '_'")
                continue
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                profile[key] = {"*": str(value)}
            elif (
                isinstance(value, dict)
                and value
                and all(
                    isinstance(k, str)
                    and isinstance(v, str | int | float)
                    and not isinstance(v, bool)
                    for k, v in value.items()
                )
            ):
                profile[key] = {k: str(v) for k, v in value.items()}
            else:
                self.error(path, line, f"'{key}' must be a text, or a text per language code")
        return profile

    def load_synonyms(self, path: Path) -> dict[str, dict[str, tuple[str, ...]]]:
        """Editors' synonyms: `locale: {word residents use: [words in the content]}`."""
        mapping = self.read_optional_mapping(path, "map language codes to 'word: [words]' lists")
        if mapping is None:
            return {}
        data, lines = mapping
        out: dict[str, dict[str, tuple[str, ...]]] = {}
        for locale, mapping in data.items():
            line = _key_line(lines, str(locale))
            if not isinstance(mapping, dict):
                self.error(path, line, f"'{locale}' must map words to lists of words")
                continue
            table: dict[str, tuple[str, ...]] = {}
            for word, targets in mapping.items():
                wline = _key_line(lines, str(word))
                if isinstance(targets, str | int):
                    targets = [targets]
                if (
                    not isinstance(word, str | int)
                    or not isinstance(targets, list)
                    or not all(isinstance(t, str | int) and str(t).strip() for t in targets)
                ):
                    self.error(path, wline, f"synonym '{word}' must list the words it means")
                    continue
                table[str(word)] = tuple(str(t) for t in targets)
            out[str(locale)] = table
        return out

    # --- entries -----------------------------------------------------------------------------

    def load_category_dir(
        self, folder: Path, cat_id: str, entries: dict[str, Entry], seen_at: dict[str, Path]
    ) -> None:
        texts: dict[str, dict[str, EntryText]] = {}
        voices: dict[tuple[str, str], Path] = {}
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_dir():
                self.warn(path, 0, "folders inside a category are ignored")
                continue
            if path.suffix == ".ogg":
                m = VOICE_FILE.match(path.name)
                if not m:
                    self.error(path, 0, "voice file name must be <entry-id>.<locale>.ogg")
                    continue
                voices[(m["id"], m["locale"])] = path
                continue
            if path.suffix != ".md":
                self.warn(path, 0, "not an entry file (<entry-id>.<locale>.md); ignored")
                continue
            m = ENTRY_FILE.match(path.name)
            if not m:
                self.error(
                    path,
                    0,
                    "file name must be <entry-id>.<locale>.md (lowercase id, language code)",
                )
                continue
            entry_id, locale = m["id"], m["locale"]
            if entry_id in seen_at and seen_at[entry_id].parent != folder:
                self.error(path, 0, f"entry id '{entry_id}' is already used in {seen_at[entry_id]}")
                continue
            seen_at.setdefault(entry_id, path)
            text = self.load_entry(path, entry_id, locale)
            if text is not None:
                texts.setdefault(entry_id, {})[locale] = text
        for (entry_id, locale), vpath in voices.items():
            if entry_id not in texts or locale not in texts[entry_id]:
                self.warn(vpath, 0, f"voice file has no matching {entry_id}.{locale}.md; ignored")
                continue
            if self.check_voice(vpath):
                t = texts[entry_id][locale]
                texts[entry_id][locale] = _replace(t, voice=vpath)
        for entry_id, by_locale in texts.items():
            entries[entry_id] = Entry(id=entry_id, category=cat_id, texts=by_locale)

    def check_voice(self, path: Path) -> bool:
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(64)
        except OSError as exc:
            self.error(path, 0, f"cannot read voice file: {exc.strerror}")
            return False
        if size > MAX_VOICE_BYTES:
            self.error(path, 0, f"voice file is {size / 1048576:.1f} MB; the limit is 1 MB")
            return False
        if not head.startswith(b"OggS"):
            self.error(path, 0, "voice file is not an OGG file (record it as OGG/Opus)")
            return False
        if b"OpusHead" not in head:
            self.warn(
                path, 0, "voice file is OGG but not Opus; Telegram plays only OGG/Opus voice notes"
            )
        return True

    def load_entry(self, path: Path, entry_id: str, locale: str) -> EntryText | None:
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.error(path, 1, "file is not UTF-8 text")
            return None
        except OSError as exc:
            self.error(path, 1, f"cannot read file: {exc.strerror}")
            return None
        raw = raw.removeprefix("\ufeff")
        lines = raw.splitlines()
        if not lines or lines[0].strip() != "---":
            self.error(path, 1, "the file must start with a '---' line (front matter)")
            return None
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            self.error(path, 1, "front matter is not closed with a second '---' line")
            return None
        fm_lines = lines[1:end]
        try:
            meta = yaml.load("\n".join(fm_lines), Loader=_YAML_LOADER)
        except yaml.YAMLError as exc:
            self.error(
                path,
                _yaml_line(exc, offset=1),
                f"invalid front matter: {getattr(exc, 'problem', exc)}",
            )
            return None
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            self.error(path, 2, "front matter must be 'key: value' lines")
            return None

        def line_of(key: str) -> int:
            return _key_line(fm_lines, key, offset=1)

        ok = True
        for key in meta:
            if key not in KNOWN_KEYS:
                self.warn(path, line_of(str(key)), f"unknown key '{key}' (ignored)")
        question = meta.get("question")
        if not isinstance(question, str) or not question.strip():
            self.error(
                path,
                line_of("question") if "question" in meta else 2,
                "'question' is required and must be text",
            )
            ok = False
        alternatives = self._text_list(meta, "alternatives", path, line_of)
        keywords = self._text_list(meta, "keywords", path, line_of)
        if alternatives is None or keywords is None:
            ok = False
        reviewed = meta.get("reviewed", True)
        if not isinstance(reviewed, bool):
            self.error(path, line_of("reviewed"), "'reviewed' must be true or false")
            ok = False
        updated = meta.get("updated")
        if updated is not None and not isinstance(updated, date):
            try:
                updated = date.fromisoformat(str(updated))
            except ValueError:
                self.error(path, line_of("updated"), "'updated' must be a date like 2026-11-01")
                ok = False
        body = "\n".join(lines[end + 1 :]).strip()
        if not body:
            self.error(path, end + 2, "the answer (text after the front matter) is empty")
            ok = False
        if not ok:
            return None
        return EntryText(
            entry_id=entry_id,
            locale=locale,
            question=question.strip(),
            body=body,
            alternatives=tuple(alternatives or ()),
            keywords=tuple(keywords or ()),
            reviewed=reviewed,
            updated=updated,
            path=path,
        )

    def _text_list(self, meta: dict, key: str, path: Path, line_of) -> list[str] | None:
        value = meta.get(key)
        if value is None:
            return []
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            self.error(path, line_of(key), f"'{key}' must be a list")
            return None
        out: list[str] = []
        for item in value:
            if (
                isinstance(item, bool)
                or not isinstance(item, str | int | float)
                or not str(item).strip()
            ):
                self.error(path, line_of(key), f"'{key}' must list texts; found {item!r}")
                return None
            out.append(str(item).strip())
        return out

    def check_placeholders(
        self, entries: dict[str, Entry], profile: dict[str, dict[str, str]]
    ) -> None:
        for entry in entries.values():
            for text in entry.texts.values():
                missing = placeholders([text.body, text.question]) - profile.keys()
                if not missing or text.path is None:
                    continue
                lines = text.path.read_text(encoding="utf-8").splitlines()
                for key in sorted(missing):
                    line = next(
                        (i + 1 for i, ln in enumerate(lines) if f"{{municipality.{key}}}" in ln), 1
                    )
                    self.error(
                        text.path,
                        line,
                        f"placeholder {{municipality.{key}}} is not in municipality.yaml",
                    )


def _replace(text: EntryText, **changes: Any) -> EntryText:
    from dataclasses import replace

    return replace(text, **changes)
