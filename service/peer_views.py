"""相似做法 over HTTP: a passage's peers in other reports as JSON and as a page."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from service import exports
from service.errors import BadParameter, NotFound, ServiceError
from service.params import filters_param, int_param
from service.peers import DEFAULT_K, MAX_K, PeerResult, UnknownPassage, find_peers
from service.views import current_searcher, page_headers

bp = Blueprint("peers", __name__)

PEER_FILTERS = ("level", "region")


def _peers(chunk_id: str, args) -> tuple[dict, PeerResult]:
    """The filters applied and the peers of a passage; bad or unknown values raise ServiceError."""
    unknown = [name for name in args if name not in (*PEER_FILTERS, "k")]
    if unknown:
        raise BadParameter(f"Unknown parameter {unknown[0]!r}; peers take level, region and k.")
    filters = filters_param({name: args[name] for name in PEER_FILTERS if name in args})
    k = int_param(args.get("k"), "k", DEFAULT_K, 1, MAX_K)
    try:
        return filters.to_dict(), find_peers(current_searcher(), chunk_id, k=k, filters=filters)
    except UnknownPassage as error:
        raise NotFound(str(error)) from error


@bp.get("/api/passages/<path:chunk_id>/peers")
def passage_peers(chunk_id: str):
    applied, result = _peers(chunk_id, request.args)
    return jsonify(filters=applied, **result.to_dict())


PEER_COLUMNS = ("名次", "doc_id", "发布机关", "层级", "地区", "年度", "章节", "引文", "链接")


def peers_table(result: PeerResult, base_url: str) -> exports.Table:
    """One row per peer, best first, its quotes one per line."""
    rows = [(rank, p.doc_id, p.issuer, p.level, p.region, p.year, p.section, "\n".join(q.quote for q in p.quotes),
             base_url + (p.quotes[0].url if p.quotes else f"/reports/{p.doc_id}"))
            for rank, p in enumerate(result.peers, start=1)]
    return exports.Table(PEER_COLUMNS, rows, sheet="相似做法")


def _peers_download(chunk_id: str, extension: str):
    _, result = _peers(chunk_id, request.args)
    name = exports.file_name("相似做法-" + (result.passage.get("issuer") or chunk_id), extension)
    return exports.table_download(peers_table(result, request.host_url.rstrip("/")), extension, name,
                                  f"peers.{extension}")


@bp.get("/api/passages/<path:chunk_id>/peers.csv")
def passage_peers_csv(chunk_id: str):
    return _peers_download(chunk_id, "csv")


@bp.get("/api/passages/<path:chunk_id>/peers.xlsx")
def passage_peers_xlsx(chunk_id: str):
    return _peers_download(chunk_id, "xlsx")


@bp.get("/peers/<path:chunk_id>")
def peers_page(chunk_id: str):
    """The page: the passage, its key sentences, and its peers with level and region filters."""
    status, error, applied, result = 200, "", {}, None
    try:
        applied, result = _peers(chunk_id, request.args)
    except ServiceError as problem:  # the page says what was wrong, with the status the API would give
        status, error = problem.status, problem.message
    response = Response(render_template(
        "peers.html", active="search", chunk_id=chunk_id, error=error, filters=applied,
        values=current_searcher().filter_values(), result=result.to_dict() if result else None,
        query=request.query_string.decode("ascii", "replace")), status=status)
    return page_headers(response)
