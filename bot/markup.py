"""The content Markdown subset rendered for a channel: Telegram HTML (escaped once) or plain text.

The subset: paragraphs (blank line between), `**bold**`, `*italic*`, `[text](https://...)`,
`- ` bullet lists, and `\\*` for a literal character. Lines inside a paragraph are joined, so
editors may wrap lines as they like. Everything else is shown literally.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_INLINE = re.compile(
    r"\\(?P<esc>[\\*_\[\]()`#-])"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<url>[^)\s]+)\)"
    r"|\*\*(?P<bold>(?:\\.|[^*])+?)\*\*"
    r"|\*(?P<italic>(?=\S)(?:\\.|[^*])+?(?<=\S))\*"
)
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")
# A mention of a Telegram user by id (staff announcements name bridge-builders this way so
# they are notified); nothing but digits may follow.
_MENTION = re.compile(r"tg://user\?id=\d{1,20}")


def _blocks(md: str) -> list[tuple[str, list[str]]]:
    """Split into ("p", [one joined line]) and ("ul", [items]) blocks."""
    blocks: list[tuple[str, list[str]]] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(("p", [" ".join(para)]))
            para.clear()
        if items:
            blocks.append(("ul", list(items)))
            items.clear()

    for raw in md.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
            continue
        bullet = _BULLET.match(raw)
        if bullet and not line.startswith("**"):
            if para:
                flush()
            items.append(bullet.group(1).strip())
        elif items and raw[:1].isspace():
            items[-1] += " " + line  # a wrapped list item continues on an indented line
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return blocks


def _inline(text: str, *, esc: Callable[[str], str], wrap: dict[str, Callable[..., str]]) -> str:
    out: list[str] = []
    pos = 0
    for m in _INLINE.finditer(text):
        out.append(esc(text[pos : m.start()]))
        if m.group("esc") is not None:
            out.append(esc(m.group("esc")))
        elif m.group("label") is not None:
            label = _inline(m.group("label"), esc=esc, wrap=wrap)
            url = m.group("url")
            if url.lower().startswith(_SAFE_SCHEMES) or _MENTION.fullmatch(url):
                out.append(wrap["a"](label, url))
            else:
                out.append(label)  # an unsafe or relative link keeps only its text
        elif m.group("bold") is not None:
            out.append(wrap["b"](_inline(m.group("bold"), esc=esc, wrap=wrap)))
        else:
            out.append(wrap["i"](_inline(m.group("italic"), esc=esc, wrap=wrap)))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _render(md: str, *, esc: Callable[[str], str], wrap: dict[str, Callable[..., str]]) -> str:
    parts: list[str] = []
    for kind, lines in _blocks(md):
        if kind == "p":
            parts.append(_inline(lines[0], esc=esc, wrap=wrap))
        else:
            parts.append("\n".join("• " + _inline(item, esc=esc, wrap=wrap) for item in lines))
    return "\n\n".join(parts)


def _html_escape(text: str) -> str:
    return html.escape(text, quote=False)


_HTML = {
    "a": lambda label, url: f'<a href="{html.escape(url, quote=True)}">{label}</a>',
    "b": lambda inner: f"<b>{inner}</b>",
    "i": lambda inner: f"<i>{inner}</i>",
}


def _plain_link(label: str, url: str) -> str:
    shown = url.removeprefix("mailto:").removeprefix("tel:")
    return label if label in (url, shown) else f"{label} ({shown})"


_PLAIN = {"a": _plain_link, "b": lambda inner: inner, "i": lambda inner: inner}


def to_telegram_html(md: str) -> str:
    """Telegram HTML (parse_mode=HTML): only <b>, <i>, <a>; every text piece escaped once."""
    return _render(md, esc=_html_escape, wrap=_HTML)


def to_plain(md: str) -> str:
    """Plain text for a terminal or SMS: markers removed, links as 'text (url)'."""
    return _render(md, esc=lambda s: s, wrap=_PLAIN)


def escape(text: str) -> str:
    """Make arbitrary text (a name, a resident's words) literal inside the Markdown subset."""
    return re.sub(r"([\\*\[\]])", r"\\\1", text)
