"""相似做法: a passage's peers in other reports, through the HTTP client on the real seed index."""
from __future__ import annotations

import pytest

from tests.conftest import (
    DOC_CUIYUAN,
    DOC_HAIZHU,
    DOC_TANZHOU,
    DOC_TIANSHUIJUN,
    DOC_YUEHAI,
)

FUYI = f"{DOC_CUIYUAN}:s1.5.3:1"  # 3、规范街道行政诉讼及复议工作
TIAOJIE = f"{DOC_CUIYUAN}:s1.5.1:1"  # 1、提升人民调解水平
GUWEN = f"{DOC_TIANSHUIJUN}:s1.3:2"  # 「一社区一法律顾问」


def _peers(client, chunk_id: str, query: str = "") -> dict:
    response = client.get(f"/api/passages/{chunk_id}/peers" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("chunk_id, doc_id, peer_chunk", [
    (FUYI, DOC_HAIZHU, f"{DOC_HAIZHU}:s3.1:1"),  # 海珠: 规范行政复议和行政应诉工作
    (TIAOJIE, DOC_TANZHOU, f"{DOC_TANZHOU}:s1.5.1:1"),  # 坦洲: 镇人民调解委员会为纽带…调解网络
    (GUWEN, DOC_CUIYUAN, f"{DOC_CUIYUAN}:s1.3.1:1"),  # 翠苑: 聘请6名律师…共同参与合法性审查
])
def test_pinned_first_peer(client, chunk_id, doc_id, peer_chunk):
    body = _peers(client, chunk_id, "k=3")
    first = body["peers"][0]
    assert (first["doc_id"], first["chunk_id"]) == (doc_id, peer_chunk)
    assert body["passage"]["chunk_id"] == chunk_id and body["passage"]["quotes"]


def test_peer_shape_and_one_per_report(client):
    body = _peers(client, FUYI)
    assert set(body) == {"filters", "passage", "peers"}
    peers = body["peers"]
    assert len(peers) == 4  # every other seed report once
    assert len({p["doc_id"] for p in peers}) == len(peers)
    assert [p["score"] for p in peers] == sorted((p["score"] for p in peers), reverse=True)
    for peer in peers:
        assert set(peer) == {"doc_id", "issuer", "level", "region", "year", "chunk_id", "section", "quotes", "score"}
        assert 1 <= len(peer["quotes"]) <= 2


@pytest.mark.parametrize("chunk_id", [FUYI, TIAOJIE, GUWEN, f"{DOC_YUEHAI}:s6:1", f"{DOC_HAIZHU}:s3.1:1"])
def test_own_report_excluded_and_quotes_verbatim(client, searcher, chunk_id):
    body = _peers(client, chunk_id, "k=10")
    own = chunk_id.split(":", 1)[0]
    assert body["peers"] and own not in {p["doc_id"] for p in body["peers"]}
    for holder, quotes in [(body["passage"]["doc_id"], body["passage"]["quotes"])] + [
            (p["doc_id"], p["quotes"]) for p in body["peers"]]:
        original = searcher.reports[holder]["original"]
        for q in quotes:
            assert q["quote"] and original[q["start"]:q["end"]] == q["quote"]
            assert q["url"] == f"/reports/{holder}#q-{q['start']}-{q['end']}"


def test_quotes_lie_in_the_peer_passage(client, searcher):
    for peer in _peers(client, TIAOJIE)["peers"]:
        chunk = searcher.chunk_by_id(peer["chunk_id"])
        assert chunk.doc_id == peer["doc_id"]
        assert all(chunk.start <= q["start"] < q["end"] <= chunk.end for q in peer["quotes"])


def test_filters(client):
    towns = _peers(client, FUYI, "level=街道")
    assert towns["filters"] == {"level": "街道"}
    assert {p["doc_id"] for p in towns["peers"]} == {DOC_YUEHAI, DOC_TIANSHUIJUN}
    guangdong = _peers(client, FUYI, "region=广东省&k=2")
    assert len(guangdong["peers"]) == 2
    assert {p["doc_id"] for p in guangdong["peers"]} <= {DOC_YUEHAI, DOC_TANZHOU, DOC_HAIZHU}
    # Only the passage's own report is in 西湖区: nothing is left, which is an empty list, not an error.
    assert _peers(client, FUYI, "region=西湖区")["peers"] == []


@pytest.mark.parametrize("query, status, code, words", [
    ("k=0", 400, "bad_parameter", "'k' must be a whole number from 1 to 50"),
    ("k=abc", 400, "bad_parameter", "'k' must be a whole number"),
    ("level=火星", 400, "unknown_filter_value", "level '火星'"),
    ("year=2024", 400, "bad_parameter", "Unknown parameter 'year'"),
])
def test_bad_parameters(client, query, status, code, words):
    response = client.get(f"/api/passages/{FUYI}/peers?{query}")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and words in error["message"] and error["message"].endswith(".")


def test_unknown_passage_is_404_sentence(client):
    response = client.get(f"/api/passages/{DOC_CUIYUAN}:s99:1/peers")
    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "code": "not_found", "message": f"There is no passage with the id '{DOC_CUIYUAN}:s99:1'."}


def test_boilerplate_weighs_less_than_a_named_practice(searcher):
    from service.peers import sentence_weight

    assert sentence_weight(searcher, "深入学习贯彻习近平法治思想") < sentence_weight(
        searcher, "街道机关和9个社区全面落实“一社区一法律顾问”制度")
    assert sentence_weight(searcher, "。") == 0.0


def test_page_lists_peers_with_filters(client):
    response = client.get(f"/peers/{FUYI}?region=广东省")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "相似做法" in page
    assert page.count('class="place" data-doc-id=') == 3
    assert f'data-doc-id="{DOC_CUIYUAN}"' not in page
    assert '<option value="广东省" selected>' in page and 'name="level"' in page
    assert f'href="/reports/{DOC_HAIZHU}#q-' in page
    assert response.headers["Content-Security-Policy"]


def test_page_unknown_passage_and_bad_filter(client):
    assert client.get("/peers/nothing:s1:1").status_code == 404
    bad = client.get(f"/peers/{FUYI}?level=火星")
    assert bad.status_code == 400 and "火星" in bad.get_data(as_text=True)


def test_openapi_lists_the_endpoint(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "level" in {p["name"] for p in paths["/api/passages/{chunk_id}/peers"]["get"]["parameters"]}
