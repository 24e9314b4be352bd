"""Destination-country information from content/countries/."""
from __future__ import annotations

from functools import lru_cache

from bot.content import Content
from bot.dialogue import actions
from bot.dialogue.menu import back_to_menu_button
from bot.dialogue.messages import Button, Reply
from bot.nlu.normalise import normalise
from db.chat_state import ConversationState

FLOW = "country"


def country_in_text(content: Content, text: str) -> str | None:
    """The code of the first country named in the text (by any of its names, one to three words), or None."""
    named = countries_in_text(content, text)
    return named[0] if named else None


def countries_in_text(content: Content, text: str) -> list[str]:
    """The codes of the countries named in the text, each once, longer names first (one to three words)."""
    names = _normalised_names(tuple((n, code) for code, c in content.countries.items() for n in c.all_names))
    words = normalise(text).split()
    found: list[str] = []
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            code = names.get(" ".join(words[start:start + size]))
            if code is not None and code not in found:
                found.append(code)
    return found


# Words around a country's name that ask for nothing more than information about it ("info soal jepang dong").
# Normalised, so as slang.yml leaves them ("dong" is read as Kupang "mereka", "gimana" as "bagaimana").
ABOUT_WORDS = frozenset({"info", "informasi", "tentang", "soal", "seputar", "mengenai", "negara", "mereka",
                         "bagaimana", "dengan", "kalau", "apa", "ya", "kak", "kakak", "min", "admin", "tolong", "minta",
                         "mau", "tanya"})


def only_the_country(content: Content, text: str) -> bool:
    """Whether the message names a country and asks nothing more ("Taiwan", "info negara taiwan", "gimana dengan
    brunei"), not about working there ("dubai bisa kerja ga")."""
    names = _normalised_names(tuple((n, code) for code, c in content.countries.items() for n in c.all_names))
    name_words = {word for name in names for word in name.split()}
    return all(word in name_words or word in ABOUT_WORDS for word in normalise(text).split())


@lru_cache(maxsize=4)
def _normalised_names(names: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Each country name as normalised, with its code (once per content version, not per message)."""
    return {normalise(name): code for name, code in names}


def ordered_codes(content: Content) -> list[str]:
    """Country codes in the order editors gave (field `order`), the most common destinations first."""
    return sorted(content.countries, key=lambda code: content.countries[code].order)


def country_info(content: Content, state: ConversationState, code: str) -> list[Reply]:
    state.enter(FLOW, "shown", {"country": code})
    buttons = (Button(content.label("other_countries"), actions.country()), back_to_menu_button(content))
    return [Reply(content.render("country", country=content.countries[code]), buttons)]


def country_list(content: Content, state: ConversationState) -> list[Reply]:
    state.enter(FLOW, "list")
    buttons = [Button(content.countries[code].name, actions.country(code)) for code in ordered_codes(content)]
    return [Reply(content.render("country_list"), (*buttons, back_to_menu_button(content)))]
