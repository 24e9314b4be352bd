"""The agency registry: import (all or nothing, history, dry run), matching, verdicts in the dialogue."""
import io
import time
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, update

from bot.app import build_app
from bot.registry.cli import import_agencies
from bot.registry.mentions import company_mentions
from bot.registry.service import VERSION_CHECK_SECONDS
from db.models import Agency
from tests.conftest import settings_for
from tests.helpers import buttons_of, press, say, text_of

HEADER = "Nama Perusahaan;No. Izin;Tanggal Izin;Status;Dasar Status;Tanggal Status;Alamat;Kota;Provinsi;Telepon;Kantor Cabang"
GOOD = [
    "PT Sinar Jaya;KEP-100/2020;01-02-2020;Aktif;;;Jl. A;Jakarta;DKI Jakarta;021-1;Kota Kupang, Nusa Tenggara Timur",
    "PT. Sinar Jaya Abadi;KEP-101/2020;2020-03-04;AKTIF;;;Jl. B;Surabaya;Jawa Timur;;",
    "PT Bumi Flobamora Sejahtera;KEP-102/2019;5 Maret 2019;penghentian sementara;Keputusan Dirjen Nomor 7 Tahun 2026;"
    "10/09/2026;Jl. C;Kupang;Nusa Tenggara Timur;;Kabupaten Belu, Nusa Tenggara Timur",
    "PT Karya Timur Mandiri;KEP-103/2018;2018-01-01;dicabut izinnya;Keputusan Menteri Nomor 9 Tahun 2026;"
    "2026-10-01;Jl. D;Bekasi;Jawa Barat;;",
    "PT Cahaya Samudra Lestari;KEP-104/2017;2017-01-01;nonaktif;;;Jl. E;Semarang;Jawa Tengah;;",
]


def write_csv(tmp_path: Path, lines: list[str], name="daftar.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def run_import(settings, path: Path, dry_run=False, source="Daftar P3MI KP2MI (uji)") -> tuple[int, str]:
    out = io.StringIO()
    return import_agencies(settings, path, source, dry_run, out=out), out.getvalue()


@pytest.fixture
def imported(tmp_path, sqlite_url):
    settings = settings_for(database_url=sqlite_url)
    with build_app(settings, fallback_only=True) as app:  # seeds the sanction news and the demo list
        status, output = run_import(settings, write_csv(tmp_path, GOOD))
        assert status == 0, output
        yield app, settings, output


def after_an_import_elsewhere() -> None:
    """A running bot sees an import made by another process within VERSION_CHECK_SECONDS."""
    time.sleep(VERSION_CHECK_SECONDS)


def check(app, query: str) -> str:
    press(app, "menu:agency")
    return text_of(say(app, query))


def test_a_good_file_is_imported_with_a_summary_and_replaces_the_demo_list(tmp_path, sqlite_url):
    settings = settings_for(database_url=sqlite_url)
    with build_app(settings, fallback_only=True) as app:  # seeds the sanction news and the demo list
        assert "data contoh" in check(app, "PT Sinar Jaya")
        status, output = run_import(settings, write_csv(tmp_path, GOOD))
        assert status == 0, output
        after_an_import_elsewhere()
        assert "5 added, 0 updated" in output and "5 demo rows removed" in output
        assert "9 no longer listed" in output  # the sanction news rows are not on the official list
        text = check(app, "PT Sinar Jaya")
        assert "PT Sinar Jaya terdaftar" in text and "AKTIF" in text and "KEP-100/2020" in text
        assert "Kantor cabang terdaftar di NTT: Kota Kupang" in text
        assert "sumber: Daftar P3MI KP2MI (uji)" in text and "data contoh" not in text and "lebih dari 30 hari" not in text
        assert "tidak menemukan kantor cabang terdaftar di NTT" in check(app, "sinar jaya abadi")


def test_sanction_verdicts_say_since_when_and_on_what_decree(imported):
    app, _settings, _output = imported
    suspended = check(app, "bumi flobamora sejahtera")
    assert "DIHENTIKAN SEMENTARA" in suspended and "10 September 2026" in suspended
    assert "Keputusan Dirjen Nomor 7 Tahun 2026" in suspended and "tidak boleh merekrut" in suspended
    revoked = check(app, "PT Karya Timur Mandiri")
    assert "IZINNYA DICABUT" in revoked and "1 Oktober 2026" in revoked
    inactive = check(app, "cahaya samudra lestari")
    assert "TIDAK AKTIF" in inactive


def test_not_found_is_never_called_safe(imported):
    app, _settings, _output = imported
    press(app, "menu:agency")
    turn = say(app, "PT Rajawali Emas Nusantara")
    text = text_of(turn)
    assert "TIDAK DITEMUKAN di data kami" in text and "bukan berarti aman" in text
    assert "0800-1000" in text and "siskop2mi.bp2mi.go.id" in text
    assert ("🚨 Lapor TPPO", "menu:report") in buttons_of(turn)


def test_a_file_with_bad_rows_changes_nothing_and_names_every_problem(imported, tmp_path, capsys):
    app, settings, _output = imported
    bad = write_csv(tmp_path, [
        GOOD[0].replace("Aktif", "Sedang dicek"),
        ";KEP-200/2020;2020-01-01;Aktif;;;;;;;",
        GOOD[1].replace("2020-03-04", "31-31-2020"),
        "PT Baru Sekali;KEP-300/2020;2020-01-01;Aktif;;;;;;;",
    ], name="rusak.csv")
    status, _out = run_import(settings, bad)
    errors = capsys.readouterr().err
    assert status == 1 and "nothing was changed" in errors
    assert "row 2, column status" in errors and "row 3, column nama" in errors and "row 4, column tanggal_izin" in errors
    assert "TIDAK DITEMUKAN" in check(app, "PT Baru Sekali")
    assert "AKTIF" in check(app, "PT Sinar Jaya")


def test_dry_run_changes_nothing(imported, tmp_path):
    app, settings, _output = imported
    status, output = run_import(settings, write_csv(tmp_path, [GOOD[0]], name="kecil.csv"), dry_run=True)
    assert status == 0 and "dry run" in output and "4 no longer listed" in output
    assert "AKTIF" in check(app, "PT Sinar Jaya Abadi")


def test_reimport_records_status_changes_and_marks_dropped_companies(imported, tmp_path):
    app, settings, _output = imported
    changed = [GOOD[0].replace("Aktif;;", "dicabut;Keputusan Menteri Nomor 11 Tahun 2026;2026-11-01"), *GOOD[1:4]]
    status, output = run_import(settings, write_csv(tmp_path, changed, name="baru.csv"), source="Daftar baru")
    assert status == 0, output
    assert "1 status changes" in output and "aktif -> dicabut" in output
    assert "1 no longer listed" in output and "PT Cahaya Samudra Lestari" in output
    assert "IZINNYA DICABUT" in check(app, "PT Sinar Jaya")
    assert "tidak ada lagi di daftar resmi terbaru" in check(app, "cahaya samudra lestari")
    record_id = app.registry.lookup("PT Sinar Jaya").agency_ids[0]
    history = app.registry.repository.history(record_id)
    assert [(h[0], h[1]) for h in history] == [(None, "aktif"), ("aktif", "dicabut")]
    assert history[1][3] == "Daftar baru"


def test_rows_stored_under_older_normal_forms_are_matched_on_reimport_and_found(tmp_path, sqlite_url):
    """Names and licence numbers are compared in normal forms that may change between releases (leading zeros,
    "Int'l"): a registry imported before still gets updated in place, not doubled, and its companies are found."""
    settings = settings_for(database_url=sqlite_url)
    lines = ["PT Samudra International;KEP-0105/2020;2020-01-01;Aktif;;;Jl. F;Kupang;Nusa Tenggara Timur;;"]
    with build_app(settings, fallback_only=True):
        assert run_import(settings, write_csv(tmp_path, lines))[0] == 0
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:  # as an older release stored it
        connection.execute(update(Agency).where(Agency.name == "PT Samudra International")
                           .values(licence_key="kep01052020", normalized_name="samudra international"))
    engine.dispose()
    with build_app(settings, fallback_only=True) as app:  # a bot started on that database finds it
        for query in ("PT Samudra Intl", "izin KEP 105/2020"):
            assert "PT Samudra International terdaftar" in check(app, query), query
        status, output = run_import(settings, write_csv(tmp_path, lines, name="lagi.csv"))
        assert status == 0 and "0 added, 1 updated" in output and "0 no longer listed" in output


def test_xlsx_files_are_read_too(tmp_path, sqlite_url):
    book = Workbook()
    sheet = book.active
    sheet.append(["NAMA", "NOMOR_IZIN", "STATUS", "PROVINSI", "Nama Lain"])
    sheet.append(["PT Xlsx Makmur", "KEP 9/2021", "AKTIF", "Bali", "Bali Jaya Tenaga; BJT Group"])
    path = tmp_path / "daftar.xlsx"
    book.save(path)
    settings = settings_for(database_url=sqlite_url)
    status, output = run_import(settings, path)
    assert status == 0 and "1 added" in output, output
    with build_app(settings, fallback_only=True) as app:
        assert "AKTIF" in check(app, "kep-9-2021")
        assert "PT Xlsx Makmur" in check(app, "bali jaya tenaga")  # found by its brand name


@pytest.mark.parametrize("query, expected", [
    ("PT Sinar Jaya", "PT Sinar Jaya terdaftar"),
    ("pt. sinar jaya", "PT Sinar Jaya terdaftar"),
    ("sinar jaya resmi gk?", "PT Sinar Jaya terdaftar"),
    ("PT Sinar Jaya Abadi di Kupang", "Sinar Jaya Abadi terdaftar"),
    ("sinar jaya abadi", "Sinar Jaya Abadi terdaftar"),
    ("abadi sinar jaya", "Sinar Jaya Abadi terdaftar"),
    ("sinar jyaa abadi", "Sinar Jaya Abadi terdaftar"),
    ("KEP 100 2020", "PT Sinar Jaya terdaftar"),
    ("kep.101.2020", "Sinar Jaya Abadi terdaftar"),
    ("bumi flobamora", "Bumi Flobamora Sejahtera"),
    ("PT Garuda Langit Biru", "TIDAK DITEMUKAN"),
    ("kaka sa pung ade daftar di PT Garuda Langit Biru, dong minta 5 juta, resmi ko?", "❓ Garuda Langit Biru TIDAK"),
    ("Garuda Sinar Jaya", "TIDAK DITEMUKAN"),  # a longer name typed at the agency step is another company
    ("PT Sinar Harapan Makmur Sentosa", "TIDAK DITEMUKAN"),
])
def test_matching_tolerates_what_people_type(imported, query, expected):
    app, _settings, _output = imported
    assert expected in check(app, query)


NAME_DIFFERS = "Perhatikan namanya"


@pytest.mark.parametrize("query, differs", [
    ("PT Sinar Jaya Abadi di Kupang", False),
    ("abadi sinar jaya", True),  # every word of the registered name, in another order: maybe another company
    ("KEP 100 2020", False),  # a licence number names the company exactly
    ("sinar jyaa abadi", True),
    ("bumi flobamora", True),  # a part of the name: the sanctioned company's verdict says so too
    ("P.T. Sinar Jaya", False),
    ("sy sdh kirim cv ke PT Sinar Jaya, resmi kah", False),  # a curriculum vitae, not another company
])
def test_a_verdict_for_a_name_not_written_as_registered_says_so(imported, query, differs):
    # Calo borrow licensed names with a word left out or a letter changed: the user is told to compare the names.
    app, _settings, _output = imported
    reply = check(app, query)
    assert reply.startswith(("✅", "⛔")) and (NAME_DIFFERS in reply) == differs


@pytest.mark.parametrize("query, differs", [
    ("Sinar Jaya Abadi minta CV dan paspor, aman?", False),  # a curriculum vitae, not another company
    ("pt bumi flobamora msh boleh rekrut?", True),
    ("PT Bumi Flobamora Sejahtera msh boleh rekrut?", False),
])
def test_a_name_in_free_text_not_written_as_registered_says_so_too(imported, query, differs):
    app, _settings, _output = imported
    reply = text_of(say(app, query))
    assert reply.startswith(("✅", "⛔")) and (NAME_DIFFERS in reply) == differs


@pytest.mark.parametrize("query, asked", [
    ("CV Sinar Jaya", "CV Sinar Jaya"),
    ("CV Sinar Jaya Abadi resmi?", "CV Sinar Jaya Abadi"),
    ("yayasan sinar jaya abadi aman kah", "Yayasan Sinar Jaya Abadi"),
    ("c.v. bumi flobamora sejahtera msh rekrut?", "CV Bumi Flobamora Sejahtera"),
    ("Sinar Jaya CV resmi?", "CV Sinar Jaya"),  # the form after the name, shown once
    ("yayasan: sinar jaya", "Yayasan Sinar Jaya"),  # a colon after the form, as in a form or a poster
])
def test_a_registered_name_under_another_legal_form_is_not_that_company(imported, query, asked):
    # A placement company must be a PT: "CV Sinar Jaya" is another company, never told PT Sinar Jaya's licence.
    app, _settings, _output = imported
    turn = say(app, query)
    reply = text_of(turn)
    assert reply.startswith(f"❓ {asked} TIDAK DITEMUKAN") and "harus berbentuk PT" in reply
    assert "AKTIF" not in reply and turn.meaning == "agency:?"
    offered = [data for label, data in buttons_of(turn) if asked.split(" ", 1)[1].lower() in label.lower()]
    picked = text_of(press(app, offered[0]))  # the registered one, shown as another company
    assert picked.startswith(("✅", "⛔")) and NAME_DIFFERS in picked and "harus berbentuk PT" in picked


@pytest.mark.parametrize("query", ["SJA", "anak sa daftar di PT SJA, resmi ko?"])
def test_an_acronym_is_a_guess_that_asks_did_you_mean(imported, query):
    # "SMK" is a school too, and a recruiter's "PT TWP" may be any company: the company is offered, never the verdict.
    app, _settings, _output = imported
    press(app, "menu:agency")
    turn = say(app, query)
    assert not text_of(turn).startswith(("✅", "⛔")) and "maksud Anda" in text_of(turn)
    offered = [data for label, data in buttons_of(turn) if "Sinar Jaya Abadi" in label]
    picked = text_of(press(app, offered[0]))
    assert picked.startswith(("✅", "⛔")) and NAME_DIFFERS in picked


def test_a_name_typed_apart_from_a_longer_one_that_contains_it_is_a_second_company(imported):
    app, _settings, _output = imported
    assert say(app, "sinar jaya deng sinar jaya abadi tu satu perusahaan ko beda?").meaning.count("|") == 1
    assert "|" not in say(app, "sinar jaya abadi, sinar jaya abadi resmi?").meaning


@pytest.mark.parametrize("query, verdict", [
    # Found by a second review: a comma ends a name, so the word after it does not make the name a longer one ...
    ("CV Sinar Jaya, Intan adik saya mau daftar di situ. resmi kah?", "not found"),
    ("CV Sinar Jaya. Alfa bilang resmi, benar kah?", "not found"),
    # ... both forms named, even side by side or by the first two words of a longer name: the PT, with the note ...
    ("PT Sinar Jaya, CV Sinar Jaya juga ada, mana yang benar?", "with note"),
    ("PT Sinar Jaya CV Sinar Jaya resmi?", "with note"),
    ("CV Alwihda Jaya atau PT Alwihda Jaya Sentosa, mana yang resmi?", "with note"),
    # ... a form written after a name that ends there is read too ...
    ("Sinar Jaya CV resmi?", "not found"),
    ("sinar jaya pt resmi ko?", "plain"),
    # ... and a curriculum vitae before a comma or after the name is no legal form.
    ("Saya sudah kirim CV, Sinar Jaya resmi kah?", "plain"),
    ("Saya sudah kirim CV: Sinar Jaya, resmi kah?", "plain"),  # a colon after a resume is no legal form
    ("di Sinar Jaya CV saya sudah masuk, resmi kah?", "plain"),
    ("ke Sinar Jaya CV, KTP dan ijazah sudah sa kirim, resmi kah?", "plain"),
    ("Sinar Jaya CV masih bisa dikirim lewat email? resmi kah", "plain"),
    ("sa kirim ke Sinar Jaya CV ya kak, aman?", "plain"),
    ("Sinar Jaya CV itu resmi kah?", "not found"),
    ("Sinar Jaya CV.", "not found"),
    ("lamaran ke Sinar Jaya cv-nya pakai bahasa inggris ko?", "plain"),
])
def test_legal_forms_are_read_where_they_stand(sqlite_url, query, verdict):
    with build_app(settings_for(database_url=sqlite_url), fallback_only=True) as app:  # the seeded registry: PT Alwihda Jaya Sentosa too
        reply = text_of(say(app, query))
    if verdict == "not found":
        assert "TIDAK DITEMUKAN" in reply and "harus berbentuk PT" in reply and "AKTIF" not in reply
    else:
        assert reply.startswith("✅") and (NAME_DIFFERS in reply) == (verdict == "with note")


@pytest.mark.parametrize("query", ["bintang sinar jaya resmi ko", "mitra sinar jaya abadi aman?",
                                   "sy daftar di garuda sinar jaya makmur, resmi?"])
def test_a_registered_name_with_another_company_name_word_before_or_after_it_is_not_that_company(fallback_app, query):
    turn = say(fallback_app, query)
    assert not turn.meaning.split(":")[-1].isdigit() and "AKTIF" not in text_of(turn)


@pytest.mark.parametrize("query, verdict", [("ade daftar bersama multi intan amanah internasional", "DICABUT"),
                                            ("sa mau berangkat bersama sinar jaya, resmi ko?", "PT Sinar Jaya terdaftar")])
def test_a_registered_name_after_bersama_is_that_company(fallback_app, query, verdict):
    assert verdict in text_of(say(fallback_app, query))


@pytest.mark.parametrize("query, shown", [
    # A foundation or a training centre named in lower case is asked about like a company (session 16) ...
    ("yayasan pelita kasih bisa kirim org kerja ke luar negeri ya?", "Yayasan pelita kasih"),
    ("lpk sakura bisa ke jepang?", "LPK sakura"),
    # ... and any name under another legal form, found or not, is said to be no placement company.
    ("CV Maju Terus Abadi resmi?", "CV Maju Terus Abadi"),
])
def test_a_name_under_another_legal_form_that_is_not_found_is_no_placement_company(fallback_app, query, shown):
    turn = say(fallback_app, query)
    reply = text_of(turn)
    assert turn.meaning == "agency:?" and f"{shown} TIDAK DITEMUKAN" in reply and "harus berbentuk PT" in reply


@pytest.mark.parametrize("query", ["yayasan itu apa", "yayasan sosial boleh rekrut pmi?", "lpk bahasa jepang yg resmi dmn",
                                   "daftar di lpk dulu", "lewat yayasan gereja", "daftar di yayasan dekat rumah",
                                   "yayasan tempat sa kerja dulu", "yayasan milik gereja boleh kirim tkw?",
                                   "lpk tempat ade belajar masak", "yayasan harapan kita", "lpk mandiri kupang"])
def test_a_foundation_or_training_centre_without_a_name_is_no_company_asked_about(query):
    assert company_mentions(query) == []


@pytest.mark.parametrize("story", [
    "ada om satu ngaku orang PT. Sponsor Lapangan Yanto bilang gratis semua, itu calo ko?",
    "dia kasi kartu nama PT. Sponsor Kupang Rikus bilang bisa berangkat bulan depan",
    "katanya staf PT. Petugas itu minta uang 5 juta"])
def test_a_role_word_after_pt_ending_a_sentence_is_no_company_name(story):
    assert company_mentions(story) == []


def test_two_companies_one_under_another_legal_form(imported):
    app, _settings, _output = imported
    turn = say(app, "CV Sinar Jaya atau Sinar Jaya Abadi, mana yang resmi?")
    assert turn.meaning.count("|") == 1 and "?" in turn.meaning.split(":")[1].split("|")
    assert "❓ CV Sinar Jaya TIDAK DITEMUKAN" in text_of(turn)
    verdicts = [reply.text for reply in turn.replies if reply.text.startswith("✅")]
    assert len(verdicts) == 1 and "Sinar Jaya Abadi" in verdicts[0] and NAME_DIFFERS not in verdicts[0]


@pytest.mark.parametrize("query", ["PT Sinar Jaya Gemilang", "PT Jaya Abadi"])
def test_a_company_picked_from_the_names_offered_for_another_name_is_told_the_names_differ(imported, query):
    # "Did you mean PT Sinar Jaya?" or "other companies": a tap must not turn the name typed into a licensed one,
    # whichever button is pressed, in whatever order, however late.
    app, _settings, _output = imported
    press(app, "menu:agency")
    offered = [data for label, data in buttons_of(say(app, query)) if "Sinar Jaya" in label]
    assert offered
    for data in [*offered, offered[0]]:
        picked = text_of(press(app, data))
        assert picked.startswith(("✅", "⛔")) and NAME_DIFFERS in picked, data
    verdict_button = "agency:" + offered[0].split(":")[1]  # the same company from a verdict's own button
    assert NAME_DIFFERS not in text_of(press(app, verdict_button))


def test_companies_offered_beside_another_verdict_still_warn_when_picked(imported):
    app, _settings, _output = imported
    turn = say(app, "PT Sinar Jaya Gemilang atau PT Bumi Flobamora Sejahtera, mana yg resmi?")
    assert turn.meaning.count("|") == 1
    offered = [data for _label, data in buttons_of(turn) if data.startswith("offered:")]
    assert offered
    for data in offered:
        assert NAME_DIFFERS in text_of(press(app, data))


@pytest.mark.parametrize("data", ["offered:999999999", "offered:10_xx", "offered:10_", "offered:abc", "offered:",
                                  "offered:1234567890_cv"])
def test_forged_offered_company_buttons_are_expired_buttons(imported, data):
    app, _settings, _output = imported
    assert "tidak berlaku" in text_of(press(app, data))


@pytest.mark.parametrize("query", ["PT Jaya Abadi", "pt sinar abadi resmi?", "PT Jaya Abadi Kupang msh aktif ga"])
def test_a_part_of_a_licensed_name_in_common_words_is_never_told_that_licence(imported, query):
    # Scams borrow licensed names: "PT Jaya Abadi" may be another company than PT Sinar Jaya Abadi.
    app, _settings, _output = imported
    press(app, "menu:agency")
    turn = say(app, query)
    assert "TIDAK DITEMUKAN" in text_of(turn) and "AKTIF" not in text_of(turn)
    assert any("Sinar Jaya Abadi" in label for label, _data in buttons_of(turn))  # shown as another company
    assert "Multi Intan Amanah" in text_of(say(app, "pt multi intan resmi?"))  # a word few names share: that one


@pytest.mark.parametrize("query", ["a", "PT", "pt.", "😀😀", "!!!"])
def test_too_little_to_search_asks_for_more(imported, query):
    app, _settings, _output = imported
    assert "terlalu pendek" in check(app, query)


def test_hostile_names_are_escaped_and_change_nothing(imported):
    app, _settings, _output = imported
    press(app, "menu:agency")
    turn = say(app, "PT <b>Maju</b> & Co'; DROP TABLE agency; --")
    assert "&lt;b&gt;Maju&lt;/b&gt; &amp; Co" in turn.replies[0].text
    assert "<b>Maju</b>" not in turn.replies[0].text
    assert "AKTIF" in check(app, "PT Sinar Jaya")
    long_text = check(app, "PT " + "Sinar " * 1000)
    assert len(long_text) < 3500


def test_demo_data_says_so_and_old_seed_data_warns_it_may_be_out_of_date(fallback_app):
    demo = check(fallback_app, "PT Sinar Jaya")
    assert "data contoh, bukan data resmi" in demo
    seeded = check(fallback_app, "PT Multi Intan Amanah Internasional")
    assert "IZINNYA DICABUT" in seeded and "Keputusan Menteri Nomor 96 Tahun 2026" in seeded
    assert "Data per 29 Januari 2026" in seeded and "lebih dari 30 hari" in seeded


def test_a_question_with_a_company_name_is_answered_at_once(fallback_app):
    turn = say(fallback_app, "cek perusahaan")
    assert "Ketik nama perusahaannya" in text_of(turn)


def test_asked_for_a_name_but_asking_a_faq_gets_the_faq(fallback_app):
    press(fallback_app, "menu:agency")
    assert "minimal 18 tahun" in text_of(say(fallback_app, "syarat jadi PMI apa aja?"))


def test_import_and_lookup_on_postgresql(postgres_url, tmp_path):
    settings = settings_for(database_url=postgres_url)
    status, output = run_import(settings, write_csv(tmp_path, GOOD))
    assert status == 0, output
    with build_app(settings, fallback_only=True) as app:
        assert "DIHENTIKAN SEMENTARA" in check(app, "bumi flobamora sejahtera")
        assert "Sinar Jaya Abadi terdaftar" in check(app, "sinar jaya abadi di kupang")


def test_the_import_command_line(tmp_path, sqlite_url):
    import os
    import subprocess
    import sys

    from bot.settings import PROJECT_ROOT

    env = {**os.environ, "DATABASE_URL": sqlite_url, "BOT_VAR_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "bot", "agencies", "import", str(write_csv(tmp_path, GOOD)), "--dry-run"]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Would change (dry run, nothing saved): 5 added" in result.stdout
    bad = write_csv(tmp_path, ["PT Tanpa Status;;;;;;;;;;"], name="bad.csv")
    result = subprocess.run(command[:-2] + [str(bad)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "row 2, column status: empty" in result.stderr


def test_the_fast_shortlist_is_the_one_scoring_every_name_gives(tmp_path, sqlite_url):
    # token_set_ratio is computed only for names sharing a word with the query (bot/registry/service.py); which
    # names are shortlisted decides verdicts, so it must not change (session 17's review found a first version did).
    import random

    from rapidfuzz import fuzz, process

    from bot.registry.service import PREFILTER, clean_query
    rng = random.Random(3)
    words = ("sinar", "jaya", "abadi", "bintang", "timur", "karya", "mandiri", "cahaya", "nusantara", "gemilang",
             "utama", "bumi", "putra", "anugerah", "samudra", "lestari", "harapan", "makmur")
    names = sorted({" ".join(rng.choice(words) for _ in range(rng.choice((2, 3, 3, 4)))) for _ in range(400)})
    lines = [f"PT {name.title()};KEP-{i}/2020;2020-01-01;Aktif;;;Jl. A;Jakarta;DKI Jakarta;;"
             for i, name in enumerate(names)]
    settings = settings_for(database_url=sqlite_url)
    with build_app(settings, fallback_only=True) as app:
        assert run_import(settings, write_csv(tmp_path, lines))[0] == 0
        registry = app.registry
        registry.lookup("warm up")

        def slip(word: str) -> str:
            at = rng.randrange(len(word))
            return word[:at] + rng.choice("aeiouknrst") + word[at + 1:]

        for _ in range(300):
            picked = rng.choice(names).split()
            query = clean_query(" ".join(slip(w) if rng.random() < 0.5 else w for w in picked))
            every_name = {i for scorer in (fuzz.token_set_ratio, fuzz.token_sort_ratio)
                          for _n, _s, i in process.extract(query, registry._names, scorer=scorer, limit=PREFILTER)}
            assert registry._shortlist(query) == every_name, query
