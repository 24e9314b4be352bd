"""The dialogue engine through the whole app (real SQLite, real content), NLU by the local classifier."""
from bot.app import build_app
from bot.dialogue.decision import CLARIFY, decide
from bot.dialogue.engine import usable_labels
from tests.conftest import settings_for
from tests.helpers import buttons_of, press, say, text_of, vague_message

MENU = ["menu:faq", "menu:agency", "menu:offer", "menu:report", "menu:emergency"]


def test_start_greets_and_shows_the_main_menu(fallback_app):
    turn = say(fallback_app, "/start")
    assert "selamat datang" in text_of(turn).lower()
    assert [data for _label, data in buttons_of(turn)] == MENU


def test_menu_faq_lists_topic_groups_then_topics_and_a_topic_button_answers_with_legal_basis_and_date(fallback_app):
    groups = press(fallback_app, "menu:faq")
    assert "ketik pertanyaan" in text_of(groups).lower()
    assert ("📋 Syarat dan pendaftaran", "group:persiapan") in buttons_of(groups)
    topics = press(fallback_app, "group:persiapan")
    assert ("Syarat menjadi PMI", "faq:syarat") in buttons_of(topics)
    assert [data for _label, data in buttons_of(topics)][-2:] == ["menu:faq", "menu"]
    answer = press(fallback_app, "faq:syarat")
    text = text_of(answer)
    assert "minimal 18 tahun" in text
    checked = fallback_app.content.current().topics["syarat"].last_verified  # the day an editor checked it
    assert "Dasar hukum: UU 18/2017 Pasal 5" in text and f"diperbarui {checked.day} " in text and str(checked.year) in text
    assert ("Dokumen yang harus disiapkan", "faq:dokumen") in buttons_of(answer)
    assert buttons_of(answer)[-1][1] == "menu"


def test_a_clear_question_gets_its_answer(fallback_app):
    turn = say(fallback_app, "syarat jadi PMI apa aja?")
    assert turn.intent == "faq/syarat"
    assert "minimal 18 tahun" in text_of(turn)


def test_emergency_shows_the_numbers_exactly_as_in_the_sources(fallback_app):
    text = text_of(press(fallback_app, "menu:emergency"))
    for number in ("110", "0800-1000", "+62 21 29244800", "0811-8080-141", "129", "08111-129-129"):
        assert number in text


def test_without_a_key_and_a_task_force_chat_reports_are_refused_honestly(fallback_app):
    """Reports switched off (no REPORT_ENCRYPTION_KEY / TASKFORCE_CHAT_ID): say so and give working channels."""
    report = text_of(press(fallback_app, "menu:report"))
    assert "belum aktif" in report and "110" in report and "0800-1000" in report
    assert "belum aktif" in text_of(say(fallback_app, "/status TPPO-2026-7K3Q9M"))


def test_out_of_scope_and_foreign_language_never_get_a_faq_answer(fallback_app):
    for text in ("siapa presiden indonesia", "what is the weather today in london", "x", "asdfghjkl qwerty"):
        turn = say(fallback_app, text)
        assert "Dasar hukum" not in text_of(turn), text


def test_a_message_only_guessed_to_be_out_of_scope_is_not_understood(fallback_app):
    """"I only help with ..." is for what is surely out of scope. Typos, gibberish or a new way to ask that merely lean
    that way, or a close call between out of scope and something else, get "not understood, or not something I help
    with; say it another way", with the other guesses as buttons: never a question with one option."""
    sure = say(fallback_app, "siapa presiden indonesia")
    assert sure.meaning == "out_of_scope" and "hanya bisa membantu" in text_of(sure)
    usable = usable_labels(fallback_app.content.current())
    leaning = []
    for text in ("zxqv blorp qwrt", "zxqv blorp Yohana 0812345999", "mnbv lkjh poiu", "xkcd wqer plmk",
                 "hp sy rusak, bisa bantu?", "cara bikin paspor untuk umroh"):
        decision = decide(fallback_app.nlu.understand(text), usable)
        if "out_of_scope" in decision.labels and (decision.kind == CLARIFY or not decision.sure):
            leaning.append((text, decision))
    assert len(leaning) >= 3  # which ones lean out of scope depends on the training data
    for text, decision in leaning:
        turn = say(fallback_app, text)
        assert turn.meaning == "not_understood" and "belum mengerti" in text_of(turn), text
        assert "hanya bisa membantu" not in text_of(turn) and "kurang yakin" not in text_of(turn), text
        offered = [button.data for reply in turn.replies[1:] for button in reply.buttons]
        topics = [f"faq:{label[4:]}" for label in decision.labels if label.startswith("faq/")]
        assert offered == topics, text  # the topics NLU also guessed, nothing else


def test_an_unclear_question_is_clarified_and_the_choice_survives_a_restart(sqlite_url):
    settings = settings_for(database_url=sqlite_url)
    with build_app(settings, fallback_only=True) as first:
        _word, turn = vague_message(first)
        options = [(label, data) for label, data in buttons_of(turn) if data.startswith("faq:")]
        assert "kurang yakin" in text_of(turn) and len(options) >= 2  # never a question with one option
    with build_app(settings, fallback_only=True) as second:  # a new process: state comes from the database
        label, data = options[0]
        answer = say(second, "1")
        assert "Dasar hukum" in text_of(answer)
        assert text_of(answer) == text_of(press(second, data))


def test_cancel_and_help_commands(fallback_app):
    assert "tidak ada yang dibatalkan" in text_of(say(fallback_app, "/batal")).lower()
    press(fallback_app, "menu:faq")
    assert "dibatalkan" in text_of(say(fallback_app, "/batal")).lower()
    assert "/menu" in text_of(say(fallback_app, "/bantuan"))


def test_country_buttons_show_status_and_contacts(fallback_app):
    listing = press(fallback_app, "country")
    labels = [label for label, _data in buttons_of(listing)]
    assert labels[0] == "Malaysia" and labels.index("Singapura") < labels.index("Kamboja")
    cambodia = text_of(press(fallback_app, "country:kh"))
    assert "BUKAN negara tujuan" in cambodia and "0800-1000" in cambodia
    assert "menurut KP2MI" in cambodia
    thailand = text_of(press(fallback_app, "country:th"))  # a status known only from ministers quoted by media
    assert "BUKAN negara tujuan" in thailand and "menurut pernyataan Menteri P2MI" in thailand
    assert "menurut KP2MI" not in thailand and "sebelum bertanya ke KP2MI" in thailand
    hong_kong = text_of(press(fallback_app, "country:hk"))
    assert "Negara tujuan penempatan resmi" in hong_kong and "+852 5242 2240 (per September 2025)" in hong_kong
    assert "tidak berlaku" in text_of(press(fallback_app, "country:xx"))


def test_danger_words_get_the_emergency_numbers_even_when_not_understood(fallback_app):
    for text in ("nomor polisi brp cepat", "sy disekap di rmh", "zzz bahaya"):
        turn = say(fallback_app, text)
        assert "Polisi 110" in text_of(turn), text
