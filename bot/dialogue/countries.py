"""Destination-country information from content/countries/."""
from __future__ import annotations

from db.chat_state import ConversationState

from bot.content import Content
from bot.dialogue import actions
from bot.dialogue.menu import back_to_menu_button
from bot.dialogue.messages import Button, Reply
from bot.nlu.normalise import normalise

FLOW = "country"


def find_country(content: Content, name: str) -> str | None:
    """The code of the country one of whose names is `name` (as typed, any case, slang-normalised)."""
    wanted = normalise(name)
    for code, country in content.countries.items():
        if wanted in {normalise(n) for n in country.get("names") or ()} | {normalise(country["name"])}:
            return code
    return None


def country_in_text(content: Content, text: str) -> str | None:
    """The code of the first country named anywhere in the text (one to three words)."""
    words = normalise(text).split()
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            code = find_country(content, " ".join(words[start:start + size]))
            if code is not None:
                return code
    return None


def country_info(content: Content, state: ConversationState, code: str) -> list[Reply]:
    state.flow, state.step, state.data = FLOW, "shown", {"country": code}
    buttons = (Button(content.label("other_countries"), actions.country()), back_to_menu_button(content))
    return [Reply(content.render("country", country=content.countries[code]), buttons)]


def country_list(content: Content, state: ConversationState) -> list[Reply]:
    state.flow, state.step, state.data = FLOW, "list", {}
    ordered = sorted(content.countries.items(), key=lambda item: item[1].get("order", 99))
    buttons = [Button(country["name"], actions.country(code)) for code, country in ordered]
    return [Reply(content.render("country_list"), (*buttons, back_to_menu_button(content)))]
