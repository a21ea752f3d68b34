"""Mail from template files (amends.services.mail_templates), on a template folder of the test's own: which folders
are languages, which language a complainant gets, the subject a template sets (one line, required), the text (one
final newline), the HTML (the kind's own, else the layout around the text's escaped paragraphs), and the refusal of
a default language that has no folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from amends.services.mail_templates import MailTemplates, shipped

LAYOUT = ('<html lang="{{ lang }}"><title>{{ subject }}</title>'
          "{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}</html>")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "_layout.html").write_text(LAYOUT)
    for language in ("en", "fr", "pt-BR"):
        (tmp_path / language).mkdir()
        (tmp_path / language / "note.txt").write_text(
            "{% set subject %}\n  " + language + " note   {{ ref }}\n{% endset %}\n\n\nHello {{ name }}.\n\n"
            "Second\nparagraph.\n\n\n")
    (tmp_path / "en" / "card.txt").write_text("{% set subject %}Card {{ ref }}{% endset %}Text {{ ref }}")
    (tmp_path / "en" / "card.html").write_text("<b>{{ subject }}</b> {{ name }} {{ lang }}")
    (tmp_path / "en" / "blank.txt").write_text("{% set subject %}  \n {% endset %}Body")
    (tmp_path / "en" / "_format.j2").write_text("")
    (tmp_path / "_shared").mkdir()
    (tmp_path / "README.txt").write_text("not a language")
    return tmp_path


def test_every_folder_but_those_starting_with_an_underscore_is_a_language(root: Path) -> None:
    assert MailTemplates(root).languages == ["en", "fr", "pt-BR"]


def test_the_kinds_of_a_language_are_its_text_templates(root: Path) -> None:
    assert MailTemplates(root).kinds("en") == {"note", "card", "blank"}
    assert MailTemplates(root).kinds("fr") == {"note"}


@pytest.mark.parametrize(("wanted", "language"), [
    ("fr", "fr"), ("FR", "fr"), ("fr-CA", "fr"), ("pt-br", "pt-BR"), ("pt", "en"), ("de", "en"), ("", "en"),
    (None, "en"), ("-", "en"),
])
def test_the_complainants_language_or_its_main_language_else_the_default(root: Path, wanted, language) -> None:
    assert MailTemplates(root).language_for(wanted) == language


def test_another_default_language_is_used_when_there_is_none_for_the_complainant(root: Path) -> None:
    templates = MailTemplates(root, "fr")
    assert templates.default_language == "fr" and templates.language_for("de") == "fr"
    assert templates.render("note", "de", ref="R", name="Bo").subject == "fr note R"


def test_a_default_language_without_templates_is_refused_naming_the_languages(root: Path) -> None:
    with pytest.raises(ValueError) as refused:
        MailTemplates(root, "de")
    assert str(refused.value) == f"DefaultLanguage 'de' has no mail templates in {root} (languages: en, fr, pt-BR)"


def test_the_subject_is_one_line_and_the_text_ends_in_one_newline(root: Path) -> None:
    rendered = MailTemplates(root).render("note", "fr-CA", ref="CMP-1", name="Bo")
    assert (rendered.language, rendered.subject) == ("fr", "fr note CMP-1")
    assert rendered.text == "Hello Bo.\n\nSecond\nparagraph.\n"


def test_without_an_html_template_the_layout_wraps_the_texts_paragraphs_escaped(root: Path) -> None:
    rendered = MailTemplates(root).render("note", "en", ref="<R>", name="Bo & Co")
    assert rendered.html == ('<html lang="en"><title>en note &lt;R&gt;</title><p>Hello Bo &amp; Co.</p>'
                             "<p>Second\nparagraph.\n</p></html>")
    assert rendered.text.startswith("Hello Bo & Co.")  # plain text is not escaped


def test_a_kinds_own_html_template_gets_the_context_the_subject_and_the_language(root: Path) -> None:
    rendered = MailTemplates(root).render("card", "en", ref="R1", name="<Ada>")
    assert (rendered.subject, rendered.text) == ("Card R1", "Text R1\n")
    assert rendered.html == "<b>Card R1</b> &lt;Ada&gt; en"


def test_a_template_that_sets_no_subject_is_refused(root: Path) -> None:
    with pytest.raises(ValueError) as refused:
        MailTemplates(root).render("blank", "en")
    assert str(refused.value) == "en/blank.txt sets no subject ({% set subject %}...{% endset %})"
    (root / "en" / "bare.txt").write_text("Body without a subject")
    with pytest.raises(ValueError) as bare:
        MailTemplates(root).render("bare", "en")
    assert str(bare.value) == "en/bare.txt sets no subject ({% set subject %}...{% endset %})"


def test_the_shipped_templates_are_loaded_once_per_default_language() -> None:
    assert shipped("en") is shipped("en") and shipped().default_language == "en"
    assert shipped("fr").default_language == "fr"


def test_block_tags_leave_no_blank_lines_or_indents_and_html_keeps_its_last_newline(root: Path) -> None:
    (root / "en" / "list.txt").write_text("{% set subject %}List{% endset %}Items:\n  {% for i in items %}\n- {{ i }}\n"
                                         "  {% endfor %}\nEnd.")
    (root / "en" / "list.html").write_text("<ul>\n  {% for i in items %}\n<li>{{ i }}</li>\n  {% endfor %}\n</ul>\n")
    rendered = MailTemplates(root).render("list", "en", items=["a", "b"])
    assert rendered.text == "Items:\n- a\n- b\nEnd.\n"
    assert rendered.html == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
