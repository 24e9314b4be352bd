"""Bad input gets a friendly Indonesian reply and changes nothing else."""
import pytest

from tests.helpers import buttons_of, press, say, send, text_of

MENU = ["menu:faq", "menu:agency", "menu:offer", "menu:report", "menu:emergency"]


@pytest.mark.parametrize("text, expected", [
    ("", "kosong"),
    ("   \n\t ", "kosong"),
    ("😀😂👍🙏", "kata-kata"),
    ("?!...", "kata-kata"),
    ("/hapus_semua", "tidak saya kenal"),
])
def test_odd_text_gets_a_friendly_reply_with_the_menu(fallback_app, text, expected):
    turn = say(fallback_app, text)
    assert expected in text_of(turn)
    assert [data for _label, data in buttons_of(turn)] == MENU


def test_a_5000_character_message_is_answered(fallback_app):
    turn = say(fallback_app, "syarat jadi pmi apa saja " + "tolong " * 700)
    assert turn.replies and len(text_of(turn)) < 4000


@pytest.mark.parametrize("kind, expected", [("sticker", "stiker"), ("photo", "foto"), ("voice", "pesan suara")])
def test_attachments_outside_a_flow(fallback_app, kind, expected):
    turn = send(fallback_app, kind)
    assert expected in text_of(turn)
    assert [data for _label, data in buttons_of(turn)] == MENU


@pytest.mark.parametrize("data", [
    "faq:tidak_ada", "faq:'; DROP TABLE chat_state; --", "<b>x</b>", "menu:" + "a" * 80, "", "group:tidak_ada", "x" * 300,
])
def test_forged_button_data_is_refused_politely(fallback_app, data):
    turn = press(fallback_app, data)
    assert "tombol itu sudah tidak berlaku" in text_of(turn)
    assert [d for _label, d in buttons_of(turn)] == MENU
    assert "minimal 18 tahun" in text_of(press(fallback_app, "faq:syarat"))  # the database is intact


def test_markup_typed_by_the_user_is_escaped(fallback_app):
    turn = say(fallback_app, "/<script>alert(1)</script>")
    assert "&lt;script&gt;" in turn.replies[0].text and "<script>" not in turn.replies[0].text
