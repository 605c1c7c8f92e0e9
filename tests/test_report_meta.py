"""Report metadata (publication date, source page, derived fields) and facets, through the HTTP client."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess

import pytest

from indexer.records import SourceHints
from tests.conftest import CORPUS, DOC_TANZHOU, DOC_TIANSHUIJUN, DOC_YUEHAI

SAFE_URL = "https://www.szns.gov.cn/yhjd/fzzf/2024.html"
HOSTILE_URL = "javascript:alert(1)"
HINTS = {
    DOC_YUEHAI: SourceHints(source_url=SAFE_URL),  # its text is signed 2024年11月21日
    DOC_TIANSHUIJUN: SourceHints(source_url=HOSTILE_URL, published="2024-01-15"),  # no date in the text
    DOC_TANZHOU: SourceHints(),  # neither a source page nor a date
}


@pytest.fixture(scope="module")
def meta_app(tmp_path_factory, fake_embedder):
    """An app over three reports added with source hints (fake embedder: this is plumbing)."""
    from indexer.build import add_sources
    from indexer.sources import read_source
    from service import create_app

    root = tmp_path_factory.mktemp("meta") / "index"
    sources = []
    for doc_id, hints in HINTS.items():
        source = read_source(CORPUS / f"{doc_id}.txt")
        hints = dataclasses.replace(hints, file_name=source.hints.file_name)
        sources.append((doc_id, dataclasses.replace(source, hints=hints)))
    add_sources(root, sources, fake_embedder)
    return create_app({"TESTING": True, "INDEX_DIR": str(root), "CORPUS_DIR": str(CORPUS),
                       "EMBEDDER": fake_embedder, "BUILD_IF_MISSING": False})


@pytest.fixture()
def meta_client(meta_app):
    return meta_app.test_client()


def stored_meta(app, doc_id: str) -> dict:
    """The metadata dict the service holds for a report (monkeypatch it to play an index)."""
    return app.extensions["fazhi"].searcher.reports.counts(doc_id).meta


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {r["doc_id"] for r in response.get_json()["reports"]}


# -- /api/reports -------------------------------------------------------------------------

def test_reports_carry_source_url_published_and_derived(meta_client):
    reports = {r["doc_id"]: r for r in meta_client.get("/api/reports").get_json()["reports"]}
    assert set(reports) == set(HINTS)
    assert reports[DOC_YUEHAI]["published"] == "2024-11-21"  # the text's own date wins over hints
    assert reports[DOC_YUEHAI]["source_url"] == SAFE_URL
    assert reports[DOC_TIANSHUIJUN]["published"] == "2024-01-15"
    assert reports[DOC_TANZHOU]["source_url"] == "" and reports[DOC_TANZHOU]["published"] == ""
    assert all(isinstance(r["derived"], list) for r in reports.values())
    one = meta_client.get(f"/api/reports/{DOC_YUEHAI}").get_json()
    assert one["source_url"] == SAFE_URL and one["published"] == "2024-11-21" and "derived" in one


def test_an_index_without_the_new_keys_reads_with_defaults(meta_app, meta_client, monkeypatch):
    meta = stored_meta(meta_app, DOC_TANZHOU)
    for key in ("source_url", "published", "derived"):
        monkeypatch.delitem(meta, key)
    row = next(r for r in meta_client.get("/api/reports").get_json()["reports"] if r["doc_id"] == DOC_TANZHOU)
    assert (row["source_url"], row["published"], row["derived"]) == ("", "", [])
    assert meta_client.get(f"/reports/{DOC_TANZHOU}").status_code == 200
    assert _ids(meta_client.get("/api/reports", query_string={"published_from": "2000-01-01"})) == {
        DOC_YUEHAI, DOC_TIANSHUIJUN}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, {DOC_YUEHAI, DOC_TIANSHUIJUN, DOC_TANZHOU}),
        ({"published_from": "2024-01-15"}, {DOC_YUEHAI, DOC_TIANSHUIJUN}),  # inclusive; undated left out
        ({"published_from": "2024-01-16"}, {DOC_YUEHAI}),
        ({"published_to": "2024-01-15"}, {DOC_TIANSHUIJUN}),
        ({"published_from": "2024-11-21", "published_to": "2024-11-21"}, {DOC_YUEHAI}),
        ({"published_from": "2025-01-01"}, set()),
        ({"has_source": "true"}, {DOC_YUEHAI, DOC_TIANSHUIJUN}),
        ({"has_source": "0"}, {DOC_TANZHOU}),
        ({"region": "广东省", "published_to": "2024-12-31"}, {DOC_YUEHAI}),  # the existing filters still apply
        ({"level": "镇"}, {DOC_TANZHOU}),
        ({"year": "2023", "has_source": "false"}, {DOC_TANZHOU}),
    ],
)
def test_reports_filter_by_publication_date_source_and_metadata(meta_client, params, expected):
    response = meta_client.get("/api/reports", query_string=params)
    assert _ids(response) == expected
    assert set(response.get_json()["filters"]) == set(params)


@pytest.mark.parametrize(
    "params, code, words",
    [
        ({"published_from": "2024-13-01"}, "bad_parameter", "published_from"),
        ({"published_from": "2024/01/01"}, "bad_parameter", "YYYY-MM-DD"),
        ({"published_to": "yesterday"}, "bad_parameter", "published_to"),
        ({"published_to": "2024-02-30"}, "bad_parameter", "published_to"),
        ({"published_from": "2024-06-01", "published_to": "2024-01-01"}, "bad_parameter", "after"),
        ({"has_source": "maybe"}, "bad_parameter", "has_source"),
        ({"section": "主要举措"}, "bad_parameter", "section"),
        ({"region": "火星"}, "unknown_filter_value", "火星"),
    ],
)
def test_bad_report_filters_are_400_with_a_sentence(meta_client, params, code, words):
    response = meta_client.get("/api/reports", query_string=params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and words in error["message"]
    assert error["message"][0].isupper() and error["message"].endswith(".")


def test_openapi_documents_the_report_filters(meta_client):
    document = meta_client.get("/openapi.json").get_json()
    names = {p["name"] for p in document["paths"]["/api/reports"]["get"]["parameters"]}
    assert {"published_from", "published_to", "has_source", "region", "year"} <= names
    assert {"source_url", "published", "derived"} <= set(document["components"]["schemas"]["ReportSummary"]["properties"])


# -- the report page ----------------------------------------------------------------------

def test_report_page_shows_the_date_and_a_safe_source_link(meta_client):
    html = meta_client.get(f"/reports/{DOC_YUEHAI}").get_data(as_text=True)
    assert re.search(r"<dt>发布日期</dt><dd[^>]*><time datetime=\"2024-11-21\">2024-11-21</time>", html)
    links = re.findall(r"<a [^>]*class=\"source-link\"[^>]*>", html)
    assert len(links) == 1
    assert f'href="{SAFE_URL}"' in links[0] and 'rel="noopener noreferrer"' in links[0]


def test_a_javascript_source_url_is_text_never_a_link(meta_client):
    html = meta_client.get(f"/reports/{DOC_TIANSHUIJUN}").get_data(as_text=True)
    assert "javascript:" not in "".join(re.findall(r"<a [^>]*>", html))
    assert re.search(r'<span class="source-text"[^>]*>javascript:alert\(1\)</span>', html)
    assert "2024-01-15" in html


def test_a_report_without_source_or_date_says_so_plainly(meta_client):
    html = meta_client.get(f"/reports/{DOC_TANZHOU}").get_data(as_text=True)
    assert re.search(r"<dt>发布日期</dt><dd[^>]*>—", html)
    assert "<dt>来源</dt>" not in html and "source-link" not in html


@pytest.mark.parametrize("url", ["http:alert(1)", "//evil.example/x", " javascript:alert(1)", "data:text/html,x",
                                 "ftp://example.org/a"])
def test_only_http_urls_with_a_host_become_links(url):
    from service.views import source_link

    assert source_link(url) == ""
    assert source_link("HTTP://example.org/a?b=1") == "HTTP://example.org/a?b=1"


# The indexer's rules for what is derived are its own (and changing): the derived fields are set
# on the metadata the service holds, as an index would carry them.
def test_a_derived_title_is_marked_on_the_report_page_and_in_the_table(meta_app, meta_client, monkeypatch):
    monkeypatch.setitem(stored_meta(meta_app, DOC_TANZHOU), "derived", ["title", "year"])
    monkeypatch.setitem(stored_meta(meta_app, DOC_YUEHAI), "derived", ["title"])
    monkeypatch.setitem(stored_meta(meta_app, DOC_TIANSHUIJUN), "derived", [])
    html = meta_client.get(f"/reports/{DOC_TANZHOU}").get_data(as_text=True)
    title = re.search(r"<h1>(.*?)</h1>", html).group(1)
    assert re.fullmatch(r'[^<]+<small class="derived" data-field="title" title="报告正文没有写明这一项，取自文件名。">'
                        r"（据文件名）</small>", title)
    assert 'data-field="year"' in html and 'data-field="issuer"' not in html
    assert "（据" not in meta_client.get(f"/reports/{DOC_TIANSHUIJUN}").get_data(as_text=True)
    assert "（据文件名）" in re.search(r"<title>(.*?)</title>", html).group(1)
    # With a source page, the mark does not claim which of the two gave the title.
    html = meta_client.get(f"/reports/{DOC_YUEHAI}").get_data(as_text=True)
    assert "（据文件名或来源网页）" in re.search(r"<h1>(.*?)</h1>", html).group(1)
    table = meta_client.get("/reports").get_data(as_text=True)
    assert table.count('class="derived"') == 2
    api = {r["doc_id"]: r["derived"] for r in meta_client.get("/api/reports").get_json()["reports"]}
    assert api[DOC_TANZHOU] == ["title", "year"] and api[DOC_TIANSHUIJUN] == []


# -- facets -------------------------------------------------------------------------------

def test_search_facets_are_ordered_by_count_then_name(client):
    body = client.get("/api/search", query_string={"q": "普法", "k": 30}).get_json()
    for name, counts in body["facets"].items():
        pairs = list(counts.items())
        assert pairs == sorted(pairs, key=lambda item: (-item[1], item[0])), name
        assert all(count > 0 for _, count in pairs)
    assert len(body["facets"]["issuer"]) > 1


NODE = shutil.which("node")


def _run_facets_module(client, tmp_path, script: str):
    """Run `script` in Node against web/static/facets.js as the service serves it."""
    module = tmp_path / "facets.mjs"
    response = client.get("/static/facets.js")
    assert response.status_code == 200
    module.write_bytes(response.get_data())
    response.close()
    program = f"import * as f from {json.dumps(module.as_uri())};\nconsole.log(JSON.stringify(({script})(f)));"
    done = subprocess.run([NODE, "--input-type=module", "-e", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser test covers the rendering.")
def test_facet_values_drop_zero_counts_keep_the_selection_and_fold_past_the_limit(client, tmp_path):
    result = _run_facets_module(client, tmp_path, """(f) => {
        const values = ['甲', '乙', '丙', '丁', '戊'];
        const counts = { '甲': 1, '乙': 3, '丙': 0, '戊': 3 };
        const many = Array.from({ length: 11 }, (_, i) => `v${String(i).padStart(2, '0')}`);
        return {
            plain: f.facetValues(values, counts, undefined),
            selected: f.facetValues(values, counts, '丙'),
            years: f.facetValues([2022, 2023, 2024], { 2022: 2, 2024: 5 }, 2023),
            unknown: f.facetValues(values, null, undefined),
            fold: f.foldAt(many), short: f.foldAt(many.slice(0, 8)), limit: f.FACET_LIMIT,
        };
    }""")
    assert result["plain"] == ["乙", "戊", "甲"]  # 丙 (0) and 丁 (absent) go; 3 before 1; ties by name
    assert result["selected"] == ["乙", "戊", "甲", "丙"]  # the selection stays, to be cleared
    assert result["years"] == [2024, 2022, 2023]
    assert result["unknown"] == ["甲", "乙", "丙", "丁", "戊"]  # no counts known: nothing hidden
    assert result["limit"] == 8
    assert len(result["fold"]["shown"]) == 8 and result["fold"]["folded"] == ["v08", "v09", "v10"]
    assert result["short"]["folded"] == []



def test_a_title_named_from_the_text_says_so_not_that_the_file_name_gave_it():
    from indexer.records import TITLE_NAMED
    from service.views import derived_notes

    notes = derived_notes({"derived": ["title", TITLE_NAMED, "year"], "source_url": ""})
    assert notes["title"]["note"] == "（据正文拟）" and "发文单位和年份" in notes["title"]["title"]
    assert notes["year"]["note"] == "（据文件名）" and TITLE_NAMED not in notes
    assert derived_notes({"derived": ["title"], "source_url": ""})["title"]["note"] == "（据文件名）"
