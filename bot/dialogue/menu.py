"""The main menu and the simple replies around it."""
from __future__ import annotations

from bot.content import Content
from bot.dialogue import actions
from bot.dialogue.messages import Button, Reply


def main_menu_buttons(content: Content) -> tuple[Button, ...]:
    return (
        Button(content.label("menu_faq"), actions.MENU_FAQ),
        Button(content.label("menu_agency"), actions.MENU_AGENCY),
        Button(content.label("menu_offer"), actions.MENU_OFFER),
        Button(content.label("menu_report"), actions.MENU_REPORT),
        Button(content.label("menu_emergency"), actions.MENU_EMERGENCY),
    )


def back_to_menu_button(content: Content) -> Button:
    return Button(content.label("main_menu"), actions.MENU)


def with_menu(content: Content, template: str, **context: object) -> Reply:
    """A message followed by the full main menu."""
    return Reply(content.render(template, **context), main_menu_buttons(content))


def with_menu_link(content: Content, template: str, **context: object) -> Reply:
    """A message with one button back to the main menu."""
    return Reply(content.render(template, **context), (back_to_menu_button(content),))
