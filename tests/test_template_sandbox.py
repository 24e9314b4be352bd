"""Templates run sandboxed: known template-injection payloads neither run code nor read secrets."""
import io
import os
import shutil

import jinja2
import pytest
from jinja2.sandbox import SecurityError

from bot.content import Content, ContentStore, template_environment, unsafe_references
from bot.content_check import check_content
from bot.content_models import ContentError
from bot.settings import PROJECT_ROOT

SECRET = "REPORT_ENCRYPTION_KEY"
# Classic server-side template injection payloads for Jinja2.
PAYLOADS = (
    "{{ lipsum.__globals__['os'].environ['REPORT_ENCRYPTION_KEY'] }}",
    "{{ lipsum.__globals__.os.popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.environ }}",
    "{{ joiner.__init__.__globals__.os.environ }}",
    "{{ namespace.__init__.__globals__.os.environ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''['__class__']['__mro__'][1]['__subclasses__']() }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ contacts.__class__.__init__.__globals__ }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ request.application.__globals__ }}",
    "{{ config.items() }}",
    "{% set x = contacts.clear() %}{{ contacts }}",
    "{{ '{0.__class__}'.format(contacts) }}",
)


@pytest.fixture
def content_copy(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", target)
    return target


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_do_not_run(payload, monkeypatch):
    monkeypatch.setenv(SECRET, "the-secret-key-value")
    content = Content(PROJECT_ROOT / "content")
    contacts_before = dict(content.contacts)
    try:
        rendered = content.env.from_string(payload).render()
    except (SecurityError, jinja2.UndefinedError, jinja2.TemplateError):
        rendered = ""
    assert "the-secret-key-value" not in rendered
    assert "uid=" not in rendered and "subclasses" not in rendered and "class '" not in rendered
    assert content.contacts == contacts_before  # the immutable sandbox refuses changes to the data


def test_the_environment_is_the_immutable_sandbox():
    env = Content(PROJECT_ROOT / "content").env
    with pytest.raises(SecurityError):
        env.from_string("{{ x.append(1) }}").render(x=[])
    with pytest.raises(SecurityError):
        env.from_string("{{ x._private }}").render(x=type("T", (), {"_private": 1})())


def test_unsafe_references_are_found():
    env = template_environment()
    assert unsafe_references(env, "{{ a.__class__ }}{{ b['_x'] }}{{ c|attr('__dict__') }}") == [
        "__class__", "_x", "__dict__"]
    assert unsafe_references(env, "{{ contacts.bp3mi_ntt.phone }} {{ x['name'] }}") == []


def test_content_check_rejects_a_template_touching_underscore_names(content_copy, tmp_path):
    path = content_copy / "templates" / "help.j2"
    path.write_text(path.read_text(encoding="utf-8") + "\n{{ contacts.__class__ }}\n", encoding="utf-8")
    out = io.StringIO()
    assert check_content(content_copy, tmp_path / "var", out=out) == 1
    assert "help.j2" in out.getvalue() and "__class__" in out.getvalue()


def test_a_hot_reloaded_faq_answer_with_a_payload_is_refused(content_copy, monkeypatch):
    monkeypatch.setenv(SECRET, "the-secret-key-value")
    store = ContentStore(content_copy)
    path = content_copy / "faq" / "syarat.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("answer: |", "answer: |\n  {{ lipsum.__globals__['os'].environ['"
                                 + SECRET + "'] }}", 1), encoding="utf-8")
    os.utime(path, ns=(1, 1))
    with pytest.raises(ContentError):
        Content(content_copy)
    current = store.current()  # the previous version keeps being served
    assert "the-secret-key-value" not in current.render_answer("syarat")
