"""/docs serves Swagger UI from the installed package and loads nothing from another host."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import flask_swagger_ui

DIST = Path(flask_swagger_ui.__file__).parent / "dist"
ABSOLUTE_URL = re.compile(r"\bhttps?://[^\s\"'<>)]+", re.IGNORECASE)
# Hosts that serve front-end code or fonts; none of them may appear in the assets we serve.
CDN_HOSTS = (
    "unpkg.com",
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "code.jquery.com",
)


class _References(HTMLParser):
    """Every src and href of the page, and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append(data)


def _docs_page(client) -> tuple[str, _References]:
    response = client.get("/docs", follow_redirects=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    # A redirect (/docs -> /docs/) must stay on this host.
    for hop in response.history:
        assert hop.headers["Location"].startswith(("/", "http://localhost/"))
    html = response.get_data(as_text=True)
    parser = _References()
    parser.feed(html)
    return html, parser


def _user_config(scripts: list[str]) -> dict[str, object]:
    for script in scripts:
        match = re.search(r"var user_config = (\{.*?\});", script)
        if match:
            return dict(json.loads(match.group(1)))
    raise AssertionError("the page carries no Swagger UI configuration")


def test_docs_page_references_no_other_host(client):
    html, page = _docs_page(client)
    assert not ABSOLUTE_URL.findall(html), "the page must use relative paths only"
    assert page.urls
    assert all(url.startswith("/docs/") for url in page.urls), page.urls


def test_swagger_ui_configuration_loads_our_document_and_nothing_remote(client):
    _, page = _docs_page(client)
    config = _user_config(page.scripts)
    assert config["url"] == "/openapi.json"
    # Swagger UI's default validatorUrl posts the document to validator.swagger.io.
    assert "validatorUrl" in config
    assert config["validatorUrl"] is None
    for key, value in config.items():
        assert not (isinstance(value, str) and ABSOLUTE_URL.search(value)), key


def test_docs_assets_come_from_the_installed_flask_swagger_ui_package(client):
    _, page = _docs_page(client)
    assets = [url for url in page.urls if url.endswith((".js", ".css", ".png"))]
    assert {"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} <= set(assets)
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.data == (DIST / url.removeprefix("/docs/")).read_bytes(), url
        response.close()


def test_docs_scripts_and_styles_fetch_nothing_from_another_host(client):
    _, page = _docs_page(client)
    for url in page.urls:
        if not url.endswith((".js", ".css")):
            continue
        response = client.get(url)
        text = response.get_data(as_text=True)
        response.close()
        for host in CDN_HOSTS:
            assert host not in text, f"{url} mentions {host}"
        if url.endswith(".css"):
            # Stylesheets load through url() and @import: only inline data and relative paths.
            assert "@import" not in text, url
            for target in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
                assert not ABSOLUTE_URL.match(target), f"{url} loads {target}"


def test_openapi_document_is_served_as_json(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["openapi"] == "3.1.0"
