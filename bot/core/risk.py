"""Words that signal risk (violence, a child in danger, threats, suicide) in every locale we serve.

Residents often type without diacritics (a foreign keyboard, a phone without Swedish or Romanian
letters) and switch languages mid-sentence, so text is folded to plain ASCII-like letters and
checked against the phrases of every language at once. Phrases are specific enough that
everyday words which merely look alike ("vald" = elected, "hot dog", "hotell") stay quiet.
The Romani phrases follow common Arli and Kelderash romanisations and need review by native
speakers (see the README's list of unreviewed texts).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Risk(StrEnum):
    SUICIDE = "suicide"
    VIOLENCE = "violence"
    CHILD = "child"
    THREAT = "threat"


# Letters NFKD does not decompose into a base letter plus a mark.
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ł": "l", "đ": "d", "ı": "i", "ħ": "h", "ŧ": "t"})
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Each phrase is written folded (lower case, no diacritics, single spaces) and matched on word
# boundaries. The language is noted per block; every block is checked for every resident.
_PHRASES: dict[Risk, tuple[str, ...]] = {
    Risk.SUICIDE: (
        # sv
        r"sjalvmord\w*", r"ta(r)? livet av mig", r"vill (inte leva|do)", r"orkar inte leva",
        r"skada(r)? mig sjalv", r"vill inte finnas", r"orkar inte (mer med )?livet",
        # en
        r"suicid\w*", r"kill(ing)? myself", r"end(ing)? my (own )?life", r"take my (own )?life",
        r"(want|wanna|going) to die", r"(don t|do not|dont) want to (live|be alive)",
        r"hurt(ing)? myself", r"self harm\w*", r"end it all", r"no reason to live",
        # fi
        r"itsemurh\w*", r"tapa(n|a)? itseni", r"haluan kuolla", r"en halua (elaa|enaa elaa)",
        r"satuta(n)? itseani",
        # ro
        r"sinucid\w*", r"(vreau|vrea) sa mor", r"nu mai vreau sa (traiesc|trai)", r"(sa )?ma omor",
        r"(imi|sa imi) iau viata",
        # rmn, rmy
        r"mudar(av|ava) (man|ma|ma pes|pe)", r"(kamav|mangav|manglem|kamlem) te merav",
        r"na (kamav|mangav) te (trajiv|dzivdinav|zivinav|zivav)",
    ),
    Risk.VIOLENCE: (
        # sv
        r"(slar|slog|sparkar|sparkade|knuffar|stryper|strypte) (mig|oss|barnen|barnet|mitt barn|mina barn|min son|min dotter|min fru|mamma)",
        r"misshandl\w*", r"(blir|blev|blivit) slagen", r"gor (mig|oss|barnen|barnet) illa", r"valdtakt\w*", r"valdtog\w*", r"valdtagen", r"(utsatt|utsatta) for vald",
        r"vald i (nara relationer|hemmet|familjen)", r"valdet", r"sexuella overgrepp", r"overgrepp\w*",
        # en
        r"(beats|beat|beating|hits|hit|hitting|kicks|kicked|punches|punched|slaps|slapped|chokes|choked|strangled) (me|us|my (wife|child|children|kids|kid|son|daughter|mother|mum|mom))",
        r"abus(e|ed|es|ing|ive)", r"(hurts|hurt|hurting) (me|us)", r"domestic violence", r"violence", r"violent", r"rape(d|s)?",
        r"raping", r"sexual(ly)? assault\w*",
        # fi
        r"vakival\w*", r"(lyo|loi|lyovat|hakkaa|hakkasi|potkii|potki) (minua|meita|lasta|lapsia|lastani|vaimoa)",
        r"pahoinpi\w*", r"raiska\w*", r"satuttaa (minua|meita|lasta|lapsia)",
        # ro
        r"(ma|ne|il|o) bate", r"(m|ne|l) a batut", r"(ma|ne|il|o) loveste", r"(m|ne|l) a lovit", r"bate (copiii|copilul|copiii mei|copilul meu|sotia)",
        r"violen\w*", r"abuz(at|ata|ati|eaza|eaza de)\b", r"abuz sexual", r"un viol", r"violat\w*", r"agres(at|ata|ati|iune|eaza)\w*",
        # rmn, rmy
        r"mar(el|ela|ena|en|elas|da|das|dias|dyas|dja|dza|dzas|dine) (man|ma|amen|ame|men|mire|mle|murre|le|la|e cave|e chave|e save|e cavoren|e chavoren|e savoren|me cave|mire cave|mle cave)",
        r"nasilj\w*",
    ),
    Risk.CHILD: (
        # sv
        r"barn(et|en)? (ar )?i fara", r"barn(et|en)? far illa", r"(mitt barn|barnet|barnen) (blir|blev) slag(en|et|na)", r"(mitt|vart) barn ar inte trygg\w*",
        # en
        r"(child|children|kid|kids|baby|son|daughter) (is |are )?in danger",
        r"hurt(s|ing)? (my |the |our )?(child|children|kids|kid|baby)",
        r"(child|children|kids|kid|baby) (is |are )?not safe", r"touched my (child|son|daughter|kid)",
        # fi
        r"(lapsi|lapset|lapseni|lasta) (on |ovat )?vaarassa", r"lapsi ei ole turvassa",
        # ro
        r"(copil|copilul|copiii|copilul meu|copiii mei) (este |e |sunt )?in pericol",
        r"copilul (meu )?nu (este|e) in siguranta", r"(copilul|copiii) (este |e |sunt )?batut\w*",
        # rmn, rmy
        r"(o |e |mlo |miro |mo )?(cavo|chavo|savo|cave|chave|save|cavoro|chavoro|savoro) (si |isi |sa )?(ano|ando|and o|ande|ki|ko) (dar|pharipe|bibaxt|bilacipe)",
    ),
    Risk.THREAT: (
        # sv
        r"hota(r|de)? (mig|oss|barnen|att doda|att skada)", r"hot om vald", r"dodshot\w*",
        r"(ska|kommer (att )?) (doda|morda) (mig|oss|barnen)", r"doda(r)? mig",
        r"(jag ar|vi ar) i fara", r"ar radd for (honom|henne|min man|min fru)",
        # en
        r"threat(en|ens|ened|ening) (me|us|my|to (kill|hurt|beat|take))", r"death threats?", r"(going to|gonna|will|wants to|want to) kill (me|us|my|you)", r"kill (me|us)",
        r"(i am|i m|im|we are|we re) in danger", r"afraid (of|for) my (life|husband|wife|partner)",
        # fi
        r"uhka(a|si) (minua|meita|lapsia|tappaa|lyoda)", r"uhkail\w*", r"tappaa (minut|meidat|lapset)",
        r"(olen|olemme) vaarassa",
        # ro
        r"(ma|ne|il|o) ameninta", r"(m|ne|l) a amenintat", r"amenint(at|ata|ati) cu moartea", r"amenintari", r"(ma|ne) omoara", r"(sa|o sa) (ma|ne) omoare", r"(sunt|suntem) in pericol",
        # rmn, rmy
        r"mudar(el|ela|ena|en|elas|da|dias|dyas)\w* (man|ma|amen|ame|e cave|e chave|e save)",
        r"(kamel|mangel|kamela|mangela) te mudarel",
    ),
}

_PATTERNS: tuple[tuple[Risk, re.Pattern[str]], ...] = tuple(
    (risk, re.compile(r"\b(?:" + "|".join(phrases) + r")\b"))
    # Suicide first: when a message names several risks, that reply matters most.
    for risk, phrases in _PHRASES.items()
)


def fold(text: str) -> str:
    """Lower case, diacritics removed, everything but letters and digits turned into one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " " + _NON_WORD.sub(" ", plain).strip() + " "


def detect(text: str) -> Risk | None:
    """The most serious risk the text signals, or None."""
    if not text:
        return None
    folded = fold(text)
    for risk, pattern in _PATTERNS:
        if pattern.search(folded):
            return risk
    return None
