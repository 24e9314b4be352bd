"""Content files: the check editors run, and edits reaching users without a restart."""
import io
import re
import shutil

import pytest

from bot.app import build_app
from bot.content import Content
from bot.content_check import check_content
from bot.settings import PROJECT_ROOT
from tests.conftest import settings_for
from tests.helpers import press, text_of


@pytest.fixture
def content_copy(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", target)
    return target


def run_check(root, tmp_path) -> tuple[int, str]:
    out = io.StringIO()
    return check_content(root, var_dir=tmp_path / "var", out=out), out.getvalue()


def test_the_shipped_content_passes(tmp_path):
    status, output = run_check(PROJECT_ROOT / "content", tmp_path)
    assert status == 0, output


def test_every_answer_ends_with_its_legal_basis_and_date():
    content = Content(PROJECT_ROOT / "content")
    for topic in content.topics.values():
        last_line = content.render_answer(topic.id).splitlines()[-1]
        assert topic.legal_basis in last_line and "diperbarui" in last_line, topic.id


def test_a_reference_to_an_unknown_contact_is_an_error_naming_the_file_and_line(content_copy, tmp_path):
    path = content_copy / "faq" / "syarat.yml"
    path.write_text(path.read_text().replace("contacts.kp2mi_call_center.number", "contacts.tidak_ada.number"))
    status, output = run_check(content_copy, tmp_path)
    assert status == 1
    assert f"{path}:" in output and "does not render" in output


def test_a_question_under_two_topics_is_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "dokumen.yml"
    path.write_text(path.read_text().replace("  - dokumen wajib cpmi", "  - syarat jadi pmi apa aja"))
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and "'syarat jadi pmi apa aja' is also under topic 'dokumen'" in output


def test_an_edited_answer_reaches_users_without_a_restart(content_copy, sqlite_url):
    with build_app(settings_for(database_url=sqlite_url, content_dir=str(content_copy)), fallback_only=True) as app:
        assert "minimal 18 tahun" in text_of(press(app, "faq:syarat"))
        path = content_copy / "faq" / "syarat.yml"
        path.write_text(path.read_text().replace("minimal 18 tahun", "paling sedikit 18 tahun"))
        assert "paling sedikit 18 tahun" in text_of(press(app, "faq:syarat"))


def test_a_broken_edit_keeps_the_previous_content_serving(content_copy, sqlite_url):
    with build_app(settings_for(database_url=sqlite_url, content_dir=str(content_copy)), fallback_only=True) as app:
        (content_copy / "faq" / "syarat.yml").write_text("id: [tidak lengkap\n")
        assert "minimal 18 tahun" in text_of(press(app, "faq:syarat"))


def test_a_report_status_removed_by_an_editor_is_an_error(content_copy, tmp_path):
    path = content_copy / "report_options.yml"
    path.write_text(path.read_text().replace("  bukan_tppo: Bukan kasus TPPO\n", ""))
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and f"{path}:" in output and "statuses lacks bukan_tppo" in output


# --- Checks that keep content right for every reader (issue 11); each test fails when its check is removed ---

def _edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} is no longer in {path.name}: update this test"
    path.write_text(text.replace(old, new))


def test_an_age_limit_that_contradicts_the_destination_rule_is_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "syarat.yml"
    _edit(path, "Singapura harus berumur 23 sampai di bawah 50 tahun", "Singapura harus berumur 18 sampai di bawah 50 tahun")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and f"{path}:" in output and "age limit for Singapura" in output


def test_one_age_limit_said_to_hold_for_every_job_is_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "syarat.yml"
    _edit(path, "Umur 18 tahun adalah batas dari Indonesia.", "Umur 18 tahun berlaku untuk semua jenis pekerjaan.")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and "holds everywhere" in output


def test_21_is_rejected_as_indonesias_minimum_but_allowed_as_malaysias_rule(content_copy, tmp_path):
    malaysia = content_copy / "faq" / "malaysia.yml"
    _edit(malaysia, "harus berumur 21 sampai 45 tahun", "minimal 21 tahun")
    status, output = run_check(content_copy, tmp_path)
    assert status == 0, output  # a destination's own rule, kept in countries/my.yml
    syarat = content_copy / "faq" / "syarat.yml"
    _edit(syarat, "Usia <b>minimal 18 tahun</b>", "Usia <b>minimal 21 tahun</b>")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and f"{syarat}:" in output and "outdated term 'minimal 21 tahun'" in output
    assert not [line for line in output.splitlines() if f"{malaysia}:" in line and not line.startswith("WARNING")]


def test_a_claim_against_a_country_status_kept_in_content_is_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "negara_terlarang.yml"
    _edit(path, "Kamboja dan Myanmar BUKAN negara tujuan penempatan PMI.", "Kamboja adalah tujuan resmi.")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and "calls Kamboja an official destination" in output and "bukan_tujuan" in output


def test_a_status_changed_in_the_country_file_exposes_answers_that_say_otherwise(content_copy, tmp_path):
    _edit(content_copy / "countries" / "th.yml", "status: bukan_tujuan", "status: belum_pasti")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and "calls Thailand a non-destination" in output


def test_a_domestic_format_number_in_text_for_people_abroad_is_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "darurat_luar_negeri.yml"
    _edit(path, "contacts.kp2mi_whatsapp.number", "contacts.kp2mi_whatsapp.as_seen")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and f"{path}:" in output and "'0811-8080-141' does not work from abroad" in output


def test_an_indonesia_only_number_on_a_line_for_people_abroad_is_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "paspor.yml"
    _edit(path, "call center KP2MI <b>{{ contacts.kp2mi_from_abroad.number }}</b>;",
          "call center KP2MI <b>{{ contacts.kp2mi_call_center.number }}</b>;")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and "'0800-1000' does not work from abroad" in output


def test_a_line_free_only_inside_indonesia_is_never_the_only_one_offered_abroad(content_copy, tmp_path):
    path = content_copy / "faq" / "e_pmi.yml"
    _edit(path, "• Dari luar negeri: call center KP2MI <b>{{ contacts.kp2mi_from_abroad.number }}</b> atau WhatsApp "
                "<b>{{ contacts.kp2mi_whatsapp.number }}</b>\n", "")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and f"{path}:1: the only numbers offered work inside Indonesia only" in output


def test_a_number_meant_for_abroad_must_be_international_and_match_the_source(content_copy, tmp_path):
    path = content_copy / "contacts.yml"
    _edit(path, 'number: "+62 811-8080-141"', 'number: "+62 811-8080-142"')
    _edit(path, 'number: "+62 21 29244800"', 'number: "021 29244800"')
    status, output = run_check(content_copy, tmp_path)
    assert status == 1
    assert "is not the same number as as_seen '0811-8080-141'" in output
    assert "'021 29244800' must work from abroad" in output


def test_a_legal_basis_without_an_article_is_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "syarat.yml"
    _edit(path, "legal_basis: UU 18/2017 Pasal 5", "legal_basis: UU 18/2017; kebijakan KP2MI")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and f"{path}:" in output
    assert "'UU 18/2017' names no article" in output and "'kebijakan KP2MI' names no regulation" in output


def test_a_topic_not_verified_for_180_days_is_a_warning_not_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "syarat.yml"
    text = path.read_text()
    path.write_text(re.sub(r"last_verified: \S+", "last_verified: 2020-01-01", text, count=1))
    status, output = run_check(content_copy, tmp_path)
    assert status == 0, output
    assert f"WARNING {path}:" in output and "last verified 2020-01-01, more than 180 days ago" in output


def test_a_country_file_with_a_date_typed_as_text_is_an_error(content_copy, tmp_path):
    path = content_copy / "countries" / "sg.yml"
    _edit(path, "seen: 2020-02-08", 'seen: "Februari 2020"')
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and f"{path}: mission 'KBRI Singapura, hotline': seen 'Februari 2020' is not valid" in output


def test_a_country_page_that_cannot_render_is_an_error(content_copy, tmp_path):
    path = content_copy / "templates" / "country.j2"
    _edit(path, "{{ country.name }}", "{{ country.name }} {{ country.dial_code | tanggal }}")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and "countries/sg.yml:1: templates/country.j2 does not render" in output


def test_a_destination_topic_naming_a_country_without_a_card_is_an_error(content_copy, tmp_path):
    path = content_copy / "faq" / "korea_jepang.yml"
    _edit(path, "countries: [kr, jp]", "countries: [kr, jp, korea]")
    status, output = run_check(content_copy, tmp_path)
    assert status == 1 and f"{path}:" in output and "country 'korea' has no file in content/countries/" in output
