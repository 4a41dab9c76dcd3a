"""Small talk and navigation words (greeting, thanks, help, menu, stop, a person) in every locale."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Intent(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    HELP = "help"
    MENU = "menu"
    STOP = "stop"
    HUMAN = "human"  # talk to a bridge-builder
    LANGUAGE = "language"
    START = "start"


# Whole messages (after folding case, accents and punctuation) that mean one intent.
# Several languages share a word ("stop", "menu"), which is fine: the meaning is the same.
_PHRASES: dict[Intent, tuple[str, ...]] = {
    Intent.GREETING: (
        # sv
        "hej", "hej hej", "hejsan", "hallå", "tjena", "god morgon", "god dag", "god kväll",
        # en
        "hi", "hello", "hey", "good morning", "good afternoon", "good evening",
        # fi
        "moi", "moikka", "hei", "terve", "päivää", "hyvää päivää", "huomenta", "hyvää huomenta",
        # ro
        "salut", "bună", "buna ziua", "bună ziua", "bună dimineața", "bună seara", "servus",
        # rmn / rmy
        "sastipe", "sar san", "so keres", "lačho dive", "lačho dives", "t'aven baxtale",
        "te aven baxtale", "baxtalo dives", "devlesa", "drago dives", "lasho dyes",
    ),
    Intent.THANKS: (
        "tack", "tack så mycket", "tusen tack", "tackar", "tack tack",
        "thanks", "thank you", "thank you very much", "thx", "ty",
        "kiitos", "kiitti", "kiitos paljon",
        "mulțumesc", "mersi", "mulțumesc frumos", "mersi mult", "mulțumiri",
        "nais tuke", "najis tuke", "palikerav", "paliķerav", "nais", "najis",
    ),
    Intent.HELP: (
        "hjälp", "hjälp mig", "jag behöver hjälp", "hur funkar det", "hur fungerar det",
        "help", "help me", "i need help", "how does this work",
        "apua", "auta", "auttakaa", "tarvitsen apua",
        "ajutor", "ajută-mă", "am nevoie de ajutor",
        "žutipe", "ažutipe", "ažutisar man", "žutisar man", "pomožin", "pomoć",
    ),
    Intent.MENU: (
        "meny", "menyn", "huvudmeny", "start", "börja om", "tillbaka",
        "menu", "main menu", "back", "start over",
        "valikko", "päävalikko", "alkuun", "takaisin",
        "meniu", "meniul", "meniu principal", "înapoi", "de la început",
        "meniuo", "palpale",
    ),
    Intent.STOP: (
        "stopp", "sluta", "avbryt", "hejdå", "hej då",
        "stop", "cancel", "quit", "bye", "goodbye",
        "lopeta", "peruuta", "heippa", "näkemiin",
        "oprește", "anulează", "gata", "la revedere", "pa",
        "ačh", "ačhav", "mukh", "ačhen devlesa", "ž devlesa", "dža devlesa",
    ),
    Intent.HUMAN: (
        "brobyggare", "brobyggaren", "prata med brobyggare", "prata med en brobyggare",
        "prata med en människa", "människa", "en människa", "person", "personal",
        "bridge-builder", "bridge builder", "talk to a bridge-builder", "talk to a person",
        "talk to a human", "a human", "human", "real person",
        "siltarakentaja", "ihminen", "puhu ihmisen kanssa", "haluan puhua ihmisen kanssa",
        "mediator", "mediatorul", "om", "un om", "vreau să vorbesc cu un om",
        "vorbește cu un om", "manuš", "jekh manuš", "te vakerav manušesa", "te dav duma manušesa",
    ),
    Intent.LANGUAGE: (
        "språk", "byt språk", "välj språk", "svenska",
        "language", "change language", "english",
        "kieli", "vaihda kieli", "suomi", "suomeksi",
        "limbă", "schimbă limba", "limba", "română", "romana",
        "čhib", "šib", "romani", "romanes",
    ),
}

# Telegram commands are ASCII (a-z, 0-9, _), so each local name appears without accents.
COMMANDS: dict[str, Intent] = {
    "start": Intent.START,
    "menu": Intent.MENU, "meny": Intent.MENU, "valikko": Intent.MENU, "meniu": Intent.MENU,
    "help": Intent.HELP, "hjalp": Intent.HELP, "apua": Intent.HELP, "ajutor": Intent.HELP,
    "zhutipe": Intent.HELP, "azhutipe": Intent.HELP,
    "language": Intent.LANGUAGE, "sprak": Intent.LANGUAGE, "kieli": Intent.LANGUAGE,
    "limba": Intent.LANGUAGE, "chib": Intent.LANGUAGE, "lang": Intent.LANGUAGE,
    "stop": Intent.STOP, "stopp": Intent.STOP, "lopeta": Intent.STOP, "opreste": Intent.STOP,
    "human": Intent.HUMAN, "brobyggare": Intent.HUMAN, "person": Intent.HUMAN,
}

_WORD = re.compile(r"[\w'-]+")


def fold(text: str) -> str:
    """Lower case without accents or punctuation, single-spaced: 'Hej!!' -> 'hej'."""
    # Compatibility forms first ('𝓐' -> 'A'), then case, then accents.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = (w.strip("-'") for w in _WORD.findall(bare))
    return " ".join(w for w in words if w)


_TABLE: dict[str, Intent] = {fold(p): intent for intent, ps in _PHRASES.items() for p in ps}
# Messages such as "hej tack" or "hello, thanks!" are all small talk: the last word decides.
_SMALL_TALK = {Intent.GREETING, Intent.THANKS}


def detect(text: str) -> Intent | None:
    """The intent a short message means as a whole, or None for anything else (a question)."""
    folded = fold(text)
    if not folded or len(folded) > 60:
        return None
    if folded in _TABLE:
        return _TABLE[folded]
    words = folded.split()
    found = [_TABLE.get(w) for w in words]
    if len(words) <= 4 and all(f in _SMALL_TALK for f in found):
        return found[-1]
    return None


def command(name: str) -> Intent | None:
    """The intent of a /command in any supported language."""
    return COMMANDS.get(fold(name).replace(" ", ""))
