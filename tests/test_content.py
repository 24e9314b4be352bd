"""Content files: the check editors run, and edits reaching users without a restart."""
import io
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
