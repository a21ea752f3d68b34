"""Outgoing mail from template files: ``amends/templates/mail/<language>/<kind>.txt`` (and ``.html``), Jinja2.

A ``.txt`` template sets its subject (``{% set subject %}...{% endset %}``) and renders the plain-text body; the
``.html`` one of the same kind, if there is one, the HTML body, else ``_layout.html`` wraps the text's paragraphs
(escaped). Every variable a template uses must be given (``StrictUndefined``): a missing one raises rather than
sending a letter with a hole in it. Dates are formatted by each language's ``_format.j2`` macros, so a language is
one folder: copy ``en/``, translate, done (the test of every kind in every language picks it up).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates" / "mail"


@dataclass(frozen=True)
class RenderedMail:
    language: str
    subject: str
    text: str
    html: str


class MailTemplates:
    def __init__(self, root: Path = TEMPLATE_DIR, default_language: str = "en") -> None:
        self.root = root
        self.languages = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))
        if default_language not in self.languages:
            raise ValueError(f"DefaultLanguage {default_language!r} has no mail templates in {root} "
                             f"(languages: {', '.join(self.languages)})")
        self.default_language = default_language
        options: dict[str, Any] = {"loader": FileSystemLoader(root), "undefined": StrictUndefined,
                                   "keep_trailing_newline": True, "trim_blocks": True, "lstrip_blocks": True}
        self._text = Environment(**options)  # noqa: S701 - plain text is not HTML: not escaped
        self._html = Environment(autoescape=True, **options)  # it renders only the .html templates

    def language_for(self, wanted: str | None) -> str:
        """The complainant's language if we have it (``fr-CA`` falls back to ``fr``), else the default."""
        for candidate in (wanted, wanted.split("-")[0]) if wanted else ():
            for language in self.languages:  # a folder's name is never empty: "-" finds none
                if language.casefold() == candidate.casefold():
                    return language
        return self.default_language

    def kinds(self, language: str) -> set[str]:
        return {p.stem for p in (self.root / language).glob("*.txt")}

    def render(self, kind: str, language: str | None, **context: Any) -> RenderedMail:
        lang = self.language_for(language)
        module = self._text.get_template(f"{lang}/{kind}.txt").make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise ValueError(f"{lang}/{kind}.txt sets no subject ({{% set subject %}}...{{% endset %}})")
        text = str(module).strip() + "\n"
        try:
            html = self._html.get_template(f"{lang}/{kind}.html").render(context, subject=subject, lang=lang)
        except TemplateNotFound:
            html = self._html.get_template("_layout.html").render(
                subject=subject, lang=lang, paragraphs=[p for p in text.split("\n\n") if p.strip()])
        return RenderedMail(language=lang, subject=subject, text=text, html=html)


@cache
def shipped(default_language: str = "en") -> MailTemplates:
    return MailTemplates(TEMPLATE_DIR, default_language)
