"""What the security tests crawl: every named URL of the product (the permission matrix's rows, so a
new page is crawled as soon as it has its row), reversed on the objects of one unit of the world;
an HTML reader for the forms, htmx attributes, scripts and links of a page; and a fingerprint of
the database to prove a refused request changed nothing."""

import hashlib
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.apps import apps
from django.urls import reverse

from xiaobao.accounts.tests.test_permission_matrix import MATRIX

HX_WRITES = ("hx-post", "hx-put", "hx-patch", "hx-delete")
# Rows that change on every request whatever it does (the session's expiry) or that a refusal may
# legitimately write (django-axes' access log): not part of "nothing changed".
VOLATILE = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}


def matrix_urls(objects: dict, method: str | None = None) -> list[tuple[str, str, str]]:
    """(name, url, method) of every matrix row, on the given unit's objects."""
    rows = []
    for name, (kwargs, row_method, _rule) in sorted(MATRIX.items()):
        if method is None or row_method == method:
            rows.append((name, reverse(name, kwargs=kwargs(objects)), row_method))
    return rows


def unbuildable(objects: dict) -> list[str]:
    """Matrix rows whose URL needs an object the world does not build: world.py must learn it."""
    missing = []
    for name, (kwargs, _method, _rule) in MATRIX.items():
        try:
            kwargs(objects)
        except KeyError as exc:
            missing.append(f"{name} needs {exc}")
    return missing


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name → first value (text, hidden, select…)
    texts: list[str] = field(default_factory=list)  # names of free-text inputs and textareas
    files: list[str] = field(default_factory=list)
    token: str = ""


@dataclass
class Page:
    forms: list[Form] = field(default_factory=list)
    hx_writes: list[tuple[str, str]] = field(default_factory=list)  # (attribute, url)
    body_attrs: dict[str, str] = field(default_factory=dict)
    inline_scripts: list[str] = field(default_factory=list)
    inline_styles: list[str] = field(default_factory=list)  # <style> elements and style="…"
    handlers: list[str] = field(default_factory=list)  # on…= attributes
    links: list[str] = field(default_factory=list)  # href, src, action, formaction values


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._script_inline = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        for name, value in a.items():
            if name.startswith("on"):
                self.page.handlers.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction", "hx-get", *HX_WRITES):
                self.page.links.append(value)
            if name in HX_WRITES:
                self.page.hx_writes.append((name, value))
        if "style" in a:
            self.page.inline_styles.append(f"<{tag} style={a['style']!r}>")
        if tag == "body":
            self.page.body_attrs = a
        elif tag == "style":
            self.page.inline_styles.append("<style>")
        elif tag == "script":
            # A data block (type="application/json", from json_script) is never run.
            self._script_inline = "src" not in a and a.get("type", "text/javascript") in (
                "",
                "text/javascript",
                "module",
                "application/javascript",
            )
        elif tag == "form":
            self._form = Form(method=a.get("method", "get").lower(), action=a.get("action", ""))
            self.page.forms.append(self._form)
        elif self._form is not None and tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            name = a["name"]
            if kind == "file":
                self._form.files.append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.setdefault(name, a.get("value", "on"))
            elif kind in ("submit", "button", "image", "reset"):
                pass
            else:
                self._form.fields.setdefault(name, a.get("value", ""))
                if kind in ("text", "search", "") and name != "csrfmiddlewaretoken":
                    self._form.texts.append(name)
            if name == "csrfmiddlewaretoken":
                self._form.token = a.get("value", "")
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = a["name"]
        elif self._form is not None and tag == "option" and self._select:
            if "selected" in a or self._select not in self._form.fields:
                value = a.get("value", "")
                if "selected" in a or value:
                    self._form.fields[self._select] = value
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form.fields.setdefault(self._textarea, "")
            self._form.texts.append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "script":
            self._script_inline = False

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form.fields[self._textarea] += data
        if self._script_inline and data.strip():
            self.page.inline_scripts.append(data.strip()[:80])


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def fingerprint() -> dict[str, str]:
    """A digest of every row of every table (but VOLATILE ones), by model."""
    digests = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in VOLATILE or model._meta.proxy or not model._meta.managed:
            continue
        rows = model._base_manager.order_by("pk").values_list()
        digests[label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return digests


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(label for label in before.keys() | after.keys() if before.get(label) != after.get(label))


def crawl(client, urls, **headers) -> dict[str, object]:
    """GET every URL; {url: response}."""
    return {url: client.get(url, **headers) for url in urls}


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def post_forms(client, urls, skip=()) -> dict[str, Form]:
    """{action: form} of the POST forms on the given pages (the first form seen for each action)."""
    forms = {}
    for url in urls:
        response = client.get(url)
        if is_html(response):
            for form in read_page(body_of(response)).forms:
                action = form.action or url
                if form.method == "post" and action not in skip:
                    forms.setdefault(action, form)
    return forms
