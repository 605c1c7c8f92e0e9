"""The HTML pages through the Flask test client: rendering, security headers, 404 page, API docs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import DOC_TANZHOU, DOC_YUEHAI

pytestmark = pytest.mark.slow

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
PAGES = ["/", "/reports", f"/reports/{DOC_YUEHAI}", "/api"]
ISSUERS = ["粤海街道", "天水郡街道", "翠苑街道", "坦洲镇", "海珠区"]
DOCUMENTED = {
    "/healthz": {"get"},
    "/api/search": {"get"},
    "/api/filters": {"get"},
    "/api/reports": {"get", "post"},
    "/api/reports/{doc_id}": {"get", "delete"},
    "/api/ask": {"post"},
    "/api/ask.csv": {"get"},
}


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_in_chinese_with_external_scripts_only(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "法治镜" in html
    # Every <script> loads a file: an inline script would be refused by the policy anyway.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all('src="/static/' in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers are not allowed"


@pytest.mark.parametrize("path", PAGES + ["/reports/no-such-report"])
def test_pages_carry_a_strict_content_security_policy(client, path):
    policy = client.get(path).headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_api_responses_are_not_given_the_page_policy(client):
    """The policy belongs to pages; JSON keeps its own headers."""
    assert "Content-Security-Policy" not in client.get("/api/filters").headers


def test_index_page_has_search_box_tabs_and_facets(client):
    html = client.get("/").get_data(as_text=True)
    assert 'id="q"' in html and 'type="search"' in html
    assert 'role="tab"' in html and "对话起草" in html
    assert 'id="facet-groups"' in html
    assert 'src="/static/app.js"' in html


def test_unknown_report_is_a_chinese_html_404(client):
    response = client.get("/reports/no-such-report")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "页面不存在" in html
    assert "no-such-report" in html


def test_404_page_escapes_the_id_it_echoes(client):
    response = client.get("/reports/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_report_page_shows_metadata_and_points_the_script_at_the_report(client):
    html = client.get(f"/reports/{DOC_TANZHOU}").get_data(as_text=True)
    # No title line: the title is the file name, marked as derived (issue 11), never made up.
    heading = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert heading.startswith("坦洲镇2023年法治政府建设年度报告") and 'data-field="title"' in heading
    assert "坦洲镇2023年法治政府建设工作情况报告" not in html
    assert f'data-doc-id="{DOC_TANZHOU}"' in html
    for value in ("坦洲镇", "镇", "广东省 中山市", "2023"):
        assert f"<dd>{value}</dd>" in html
    assert 'id="outline"' in html and 'src="/static/report.js"' in html


def test_reports_table_lists_every_report_with_its_link_and_counts(client):
    html = client.get("/reports").get_data(as_text=True)
    reports = client.get("/api/reports").get_json()["reports"]
    assert len(reports) == 5
    for report in reports:
        assert f'<a href="/reports/{report["doc_id"]}">{report["issuer"]}</a>' in html
        assert f'<td data-sort="{report["chunks"]}" class="num">{report["chunks"]}</td>' in html
    assert {r["issuer"] for r in reports} == set(ISSUERS)
    assert html.count('aria-sort="none"') == 6


def test_openapi_document_describes_every_endpoint(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "http://localhost"}]
    for path, methods in DOCUMENTED.items():
        assert methods <= set(document["paths"][path]), path
        for operation in document["paths"][path].values():
            assert operation["summary"] and operation["responses"]


def test_openapi_document_covers_every_json_route_of_the_app(app, client):
    document = client.get("/openapi.json").get_json()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        assert path in document["paths"], f"{path} is served but not documented"
        documented = {m.upper() for m in document["paths"][path]}
        assert rule.methods - {"HEAD", "OPTIONS"} <= documented, path


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_references_all_resolve(client):
    document = client.get("/openapi.json").get_json()
    refs = set(_refs(document))
    assert "#/components/schemas/Answer" in refs
    for ref in refs:
        node = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"unresolved $ref {ref}"
            node = node[part]


def test_api_page_lists_endpoints_with_curl_examples(client):
    html = client.get("/api").get_data(as_text=True)
    for path in DOCUMENTED:
        assert f"<code>{path}</code>" in html
    assert "curl -X POST &#39;http://localhost/api/ask&#39;" in html
    assert 'href="/openapi.json"' in html
    assert "从索引中删除一份报告" in html  # summaries in Chinese


@pytest.mark.parametrize("name", ["app.js", "common.js", "report.js", "reports.js", "style.css"])
def test_static_files_are_served(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.get_data()
    response.close()


@pytest.mark.parametrize("path", sorted(STATIC.glob("*.js")), ids=lambda p: p.name)
def test_scripts_never_write_markup_from_strings(path):
    source = path.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, f"{path.name} uses {sink}"
