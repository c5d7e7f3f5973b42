"""The platform's own HTML pages that people open from its mails (an invitation, a rating
request): one layout, escaped, in the page's language, sent with headers that keep it out of
caches and frames and let it post only to itself."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import DictLoader, Environment, Template

from simptu.runtime.api.problems import ApiProblem
from simptu.runtime.core.registry import TenantRecord

LAYOUT = """<!doctype html>
<html lang="{{ locale }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{ title }}</title>
<style>
body { margin: 0; padding: 24px; background: #f5f5f4; color: #1c1917;
       font-family: Arial, Helvetica, sans-serif; }
main { max-width: 440px; margin: 0 auto; background: #fff; border-radius: 8px;
       padding: 24px; }
label { display: block; margin: 12px 0 4px; font-weight: bold; }
input, select, textarea { width: 100%; box-sizing: border-box; padding: 10px;
                          font-size: 16px; border: 1px solid #a8a29e; border-radius: 6px; }
button, a.button { display: inline-block; margin-top: 20px; padding: 12px 20px;
                   background: #0f766e; color: #fff; border: 0; border-radius: 6px;
                   font-size: 16px; font-weight: bold; text-decoration: none; }
.problem { padding: 12px; background: #fef2f2; border: 1px solid #fecaca;
           border-radius: 6px; }
</style>
</head>
<body>
<main>
<p><strong>{{ business }}</strong></p>
<h1>{{ title }}</h1>
{% if problem %}
<p class="problem" role="alert" data-reason="{{ reason }}">{{ problem }}</p>
{% endif %}
{% block content %}{% endblock %}
</main>
</body>
</html>
"""
# A token or proof a link carries in its query (request logs carry the path only).
LinkPart = Annotated[str, Query(max_length=100)]
PAGES = Environment(loader=DictLoader({"layout.html": LAYOUT}), autoescape=True)
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
           "form-action 'self'; frame-ancestors 'none'"}
# What every page may have to say, in English and in Romanian.
COMMON: dict[str, tuple[str, str]] = {
    "refused": ("This link cannot be used", "Acest link nu poate fi folosit"),
    "unknown-tenant": (
        "This link belongs to no business on this platform.",
        "Acest link nu aparține niciunei afaceri de pe această platformă.",
    ),
    "unavailable": (
        "This cannot be done right now: try again in a few minutes.",
        "Acum nu se poate: încercați din nou peste câteva minute.",
    ),
}


def page_template(content: str) -> Template:
    """A page: `content` (its `{% block content %}`) in the layout."""
    return PAGES.from_string('{% extends "layout.html" %}' + content)


def words_of(phrases: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The phrases (English, Romanian) by language, with the common ones."""
    every = {**COMMON, **phrases}
    return {locale: {key: said[index] for key, said in every.items()}
            for index, locale in enumerate(("en", "ro"))}


def page_locale(tenant: TenantRecord | None) -> str:
    """The language of a page about nothing known yet: the tenant's."""
    return "ro" if tenant is not None and tenant.locale.startswith("ro") else "en"


def render_page(template: Template, words: dict[str, dict[str, str]], status: int,
                locale: str, tenant: TenantRecord | None, **values: Any) -> HTMLResponse:
    said = words[locale]
    title = said["refused"] if values.get("problem") and not values.get("form") else \
        said["title"]
    html = template.render(locale=locale, words=said, title=title, business=(
        tenant.display_name or tenant.slug) if tenant else "Simptu", **values)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def refused_page(template: Template, words: dict[str, dict[str, str]], problem: ApiProblem,
                 locale: str, tenant: TenantRecord | None, **values: Any) -> HTMLResponse:
    """The page of a refusal, in the words of its kind (else: try again later)."""
    reason = problem.kind if problem.kind in words[locale] else "unavailable"
    return render_page(template, words, problem.status, locale, tenant, reason=problem.kind,
                       problem=words[locale][reason].format(detail=problem.detail), **values)


async def posted_form(request: Request) -> dict[str, str]:
    """A page's form as posted (urlencoded), each field once, at most ten."""
    body = (await request.body()).decode(errors="replace")
    return {key: values[0] for key, values in parse_qs(body, max_num_fields=10).items()}
