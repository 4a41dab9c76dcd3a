"""Checks a Bot API call the way Telegram does: method, parameters, types, HTML and limits."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

# A copy of the machine-readable Bot API spec ships with the tests (see SPEC-README.md for
# its source and licence), so a fresh clone runs them without anything beside it.
SPEC_PATH = Path(
    os.environ.get("SAMVAG_BOT_API_SPEC", Path(__file__).resolve().parent / "bot-api-spec.json")
)
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


class ApiError(Exception):
    """An error answer: HTTP code, Telegram description and optional response parameters."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> dict:
    p = Path(path) if path else SPEC_PATH
    return json.loads(p.read_text(encoding="utf-8"))


class UploadedFile:
    """A file part of a multipart request."""

    def __init__(self, filename: str, data: bytes, content_type: str) -> None:
        self.filename = filename
        self.data = data
        self.content_type = content_type


# --- decoding the form values PTB sends (strings whose values are JSON) ---------------------


def decode_value(raw: Any, types: list[str]) -> Any:
    """Turn one form value into a Python value guided by the field's declared types."""
    if isinstance(raw, UploadedFile):
        return raw
    if types == ["String"]:
        return raw
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        if "String" in types or "InputFile" in types:
            return raw
        raise bad(f"can't parse parameter value {raw[:20]!r}") from None


# --- type checking against the spec ---------------------------------------------------------

_PRIMITIVES = {
    "String": lambda v: isinstance(v, str),
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
}


def _check_type(value: Any, tname: str, spec: dict, path: str) -> str | None:
    """None when `value` fits `tname`, else a reason."""
    if tname.startswith("Array of "):
        if not isinstance(value, list):
            return f"{path} must be an array"
        inner = tname[len("Array of ") :]
        for i, item in enumerate(value):
            err = _check_type(item, inner, spec, f"{path}[{i}]")
            if err:
                return err
        return None
    if tname in _PRIMITIVES:
        if tname == "Integer" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return None
        return None if _PRIMITIVES[tname](value) else f"{path} must be {tname}"
    if tname == "InputFile":
        ok = isinstance(value, UploadedFile) or (
            isinstance(value, str) and value.startswith("attach://")
        )
        return None if ok else f"{path} must be a file"
    t = spec["types"].get(tname)
    if t is None:
        return None  # a type the spec does not describe: accept
    if t.get("subtypes"):
        reasons = [_check_type(value, sub, spec, path) for sub in t["subtypes"]]
        return None if any(r is None for r in reasons) else reasons[0]
    if not isinstance(value, dict):
        return f"{path} must be an object ({tname})"
    return check_fields(value, t.get("fields", []), spec, path)


def check_fields(obj: dict, fields: list[dict], spec: dict, path: str = "") -> str | None:
    """Required fields present, no unknown fields, every value of a declared type."""
    known = {f["name"]: f for f in fields}
    for name in obj:
        if name not in known:
            return f"unknown field {path + '.' if path else ''}{name}"
    for f in fields:
        name = f["name"]
        if name not in obj or obj[name] is None:
            if f["required"]:
                return f"field {path + '.' if path else ''}{name} is required"
            continue
        reasons = [
            _check_type(obj[name], t, spec, f"{path + '.' if path else ''}{name}")
            for t in f["types"]
        ]
        if all(r is not None for r in reasons):
            return reasons[0]
    return None


def parse_params(method: str, form: dict[str, Any], spec: dict) -> dict[str, Any]:
    """Decode and validate a call's parameters; raises ApiError like Telegram would."""
    m = spec["methods"].get(method)
    if m is None:
        # Telegram answers unknown methods with 404, but PTB turns 404 into InvalidToken,
        # so the fake answers 400 to keep the failure visible in tests.
        raise ApiError(400, "Bad Request: method not found")
    fields = {f["name"]: f for f in m.get("fields", [])}
    params: dict[str, Any] = {}
    for name, raw in form.items():
        if name not in fields:
            # multipart uploads are referenced as attach://<name>
            if isinstance(raw, UploadedFile):
                params[name] = raw
                continue
            raise bad(f"unknown parameter {name}")
        params[name] = decode_value(raw, fields[name]["types"])
    # attach://name references resolve to the uploaded part
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            part = params.get(value[len("attach://") :])
            if not isinstance(part, UploadedFile):
                raise bad(f"file {value} not found in request")
            params[name] = part
    declared = {k: v for k, v in params.items() if k in fields}
    err = check_fields(declared, list(fields.values()), spec)
    if err:
        raise bad(err)
    return params


# --- Telegram HTML ---------------------------------------------------------------------------

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote", "tg-time",
}  # fmt: skip
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.out: list[str] = []
        self.error: str | None = None

    def _fail(self, msg: str) -> None:
        if self.error is None:
            self.error = msg

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self._fail(f'unsupported start tag "{tag}"')
            return
        if tag == "a" and not any(k == "href" for k, _ in attrs):
            self._fail("a tag without href")
        self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._fail(f'unsupported self-closing tag "{tag}"')

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self._fail(f'unexpected end tag "{tag}"')
            return
        self.stack.pop()

    def handle_data(self, data):
        if "&" in data or "<" in data or ">" in data:
            # HTMLParser leaves a lone "&" or a stray "<" in data; Telegram refuses both
            self._fail("unescaped character in text")
        self.out.append(data)

    def handle_entityref(self, name):
        if name not in NAMED_ENTITIES:
            self._fail(f'unsupported entity "&{name};"')
            return
        self.out.append(NAMED_ENTITIES[name])

    def handle_charref(self, name):
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self.out.append(chr(code))
        except (ValueError, OverflowError):
            self._fail(f'bad character reference "&#{name};"')

    def handle_comment(self, data):
        self._fail("comments are not supported")

    def handle_decl(self, decl):
        self._fail("declarations are not supported")

    def unknown_decl(self, data):
        self._fail("declarations are not supported")


_ENTITY_SHAPE = re.compile(r"&(?:[A-Za-z]+|#\d+|#[xX][0-9A-Fa-f]+);")


def parse_html(text: str) -> str:
    """The visible text of a Telegram-HTML message; raises ApiError when Telegram would."""
    # HTMLParser accepts "&amp" without ";" and lone "&"; Telegram does not.
    for m in re.finditer("&", text):
        if not _ENTITY_SHAPE.match(text, m.start()):
            raise bad(f"can't parse entities: unescaped '&' at byte offset {m.start()}")
    p = _TelegramHTML()
    p.feed(text)
    p.close()
    if p.error is None and p.stack:
        p._fail(f'can\'t find end tag corresponding to start tag "{p.stack[-1]}"')
    if p.error:
        raise bad(f"can't parse entities: {p.error}")
    return "".join(p.out)


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def visible_text(text: str, parse_mode: str | None) -> str:
    """Text after entity parsing."""
    if parse_mode is None:
        return text
    if parse_mode.upper() == "HTML":
        return parse_html(text)
    raise bad(f"unsupported parse_mode {parse_mode} in this fake")


def check_text(text: str, parse_mode: str | None, *, limit: int, what: str = "message") -> str:
    shown = visible_text(text, parse_mode)
    if what == "message" and not shown.strip():
        raise bad("message text is empty")
    if utf16_len(shown) > limit:
        raise bad("message is too long" if what == "message" else "message caption is too long")
    return shown


def check_markup(markup: Any) -> None:
    """Keyboard rules the spec does not express."""
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []) or []:
        for button in row:
            if not button.get("text"):
                raise bad("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not (1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA):
                raise bad("BUTTON_DATA_INVALID")
    for row in markup.get("keyboard", []) or []:
        for button in row:
            if not (button.get("text") if isinstance(button, dict) else button):
                raise bad("keyboard button text is empty")
