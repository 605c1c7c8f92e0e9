"""The JSON API: search, reports, ask (with chat history) and its CSV / XLSX / DOCX exports."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from service import exports
from service.answer.conversation import resolve
from service.errors import BadParameter, NotFound
from service.params import (
    bool_param, date_param, filters_param, history_param, int_param, mode_param, text_param,
)
from service.areas import AREA_BY_ID, chunk_areas
from service.search import FILTER_FIELDS, PASSAGE_FILTER_FIELDS, Filters, Searcher

bp = Blueprint("api", __name__)

# Metadata that indexes built before it existed do not carry.
META_DEFAULTS = {"published": "", "source_url": "", "derived": ()}
REPORT_FILTER_FIELDS = tuple(name for name in FILTER_FIELDS if name not in PASSAGE_FILTER_FIELDS)


def holder():
    return current_app.extensions["fazhi"]


def report_summary(searcher: Searcher, doc_id: str) -> dict:
    """A report's metadata with its counts, as listed by /api/reports."""
    counts = searcher.reports.counts(doc_id)
    meta = {**META_DEFAULTS, **counts.meta}
    meta["published"] = meta["published"] or ""
    meta["source_url"] = meta["source_url"] or ""
    meta["derived"] = list(meta["derived"] or ())
    meta["sections"] = counts.sections
    meta["chunks"] = len(searcher.chunks.rows_of_doc(doc_id))
    meta["problems"] = counts.problems
    meta["url"] = f"/reports/{doc_id}"
    return meta


@bp.get("/healthz")
def healthz():
    state = holder()
    searcher = state.searcher
    backend = searcher.backend.describe()
    up = searcher.backend.ping()
    process = state.answer_process
    response = jsonify(
        status="ok" if up else "backend_unavailable",
        reports=len(searcher.reports),
        chunks=len(searcher.chunks),
        model=searcher.embedder.name,
        generation=searcher.generation,
        # "process": this worker's answers are computed in its answer process; "worker": in the worker.
        answers="process" if process is not None and process.alive else "worker",
        **backend,
    )
    response.status_code = 200 if up else 503  # a load balancer takes a replica whose engine is down out
    return response


@bp.get("/api/search")
def search():
    args = request.args
    query = text_param(args.get("q"), "q")
    k = int_param(args.get("k"), "k", 10, 1, 100)
    mode = mode_param(args.get("mode"))
    filters = filters_param({k: v for k, v in args.items() if k in FILTER_FIELDS})
    searcher = holder().searcher
    hits = searcher.search(query, k=k, filters=filters, mode=mode)
    areas = passage_areas(searcher, [h.chunk.chunk_id for h in hits])
    return jsonify(query=query, mode=mode, filters=filters.to_dict(),
                   results=[dict(h.to_dict(), areas=a) for h, a in zip(hits, areas)],
                   facets=facets(searcher, [h.chunk.doc_id for h in hits], [h.chunk.label for h in hits], areas))


def passage_areas(searcher: Searcher, chunk_ids: list[str]) -> list[list[str]]:
    """The names of the task areas of each passage, best first."""
    tags = chunk_areas(searcher, [searcher.row_of(chunk_id) for chunk_id in chunk_ids])
    return [[AREA_BY_ID[a].name for a in areas] for areas in tags]


def facets(searcher: Searcher, doc_ids: list[str], labels: list[str], areas: list[list[str]]) -> dict:
    """Counts of results per issuer, level, region part, year, section label and task area, most frequent first."""
    out: dict[str, dict] = {"issuer": {}, "level": {}, "region": {}, "year": {}, "section": {}, "area": {}}
    for doc_id, label, names in zip(doc_ids, labels, areas):
        for name in names:
            out["area"][name] = out["area"].get(name, 0) + 1
        meta = searcher.meta(doc_id)
        for name in ("issuer", "level", "year"):
            if meta[name]:
                key = str(meta[name])
                out[name][key] = out[name].get(key, 0) + 1
        for part in ("province", "city", "district"):
            if meta[part]:
                out["region"][meta[part]] = out["region"].get(meta[part], 0) + 1
        if label:
            out["section"][label] = out["section"].get(label, 0) + 1
    return {name: dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))) for name, counts in out.items()}


@bp.get("/api/filters")
def filter_values():
    return jsonify(holder().searcher.filter_values())


def report_filters(args) -> Filters:
    """The filters of a request about reports; section and area filters (a passage's) are refused."""
    for name in PASSAGE_FILTER_FIELDS:
        if name in args:
            raise BadParameter(f"The {name!r} filter applies to passages (/api/search), not to reports.")
    return filters_param({k: v for k, v in args.items() if k in REPORT_FILTER_FIELDS})


@bp.get("/api/reports")
def reports():
    """The reports, optionally filtered by issuer, level, region, year, publication date and source."""
    args = request.args
    filters = report_filters(args)
    published_from = date_param(args.get("published_from"), "published_from")
    published_to = date_param(args.get("published_to"), "published_to")
    if published_from and published_to and published_from > published_to:
        raise BadParameter(f"The date 'published_from' ({published_from}) is after 'published_to' ({published_to}).")
    has_source = bool_param(args.get("has_source"), "has_source")
    searcher = holder().searcher
    rows = [report_summary(searcher, doc_id) for doc_id in searcher.reports_matching(filters)]
    rows = [row for row in rows if _published_between(row["published"], published_from, published_to)
            and (has_source is None or bool(row["source_url"]) == has_source)]
    applied = filters.to_dict()
    applied.update({k: v for k, v in (("published_from", published_from), ("published_to", published_to)) if v})
    if has_source is not None:
        applied["has_source"] = has_source
    return jsonify(filters=applied, reports=rows)


def _published_between(published: str, first: str, last: str) -> bool:
    """Whether an ISO date lies in [first, last]; a report without a date is outside any range."""
    if not (first or last):
        return True
    if not published:
        return False
    day = published[:10]
    return (not first or day >= first) and (not last or day <= last)


@bp.get("/api/reports/<doc_id>")
def report(doc_id: str):
    searcher = holder().searcher
    if doc_id not in searcher.reports:
        raise NotFound(f"There is no report with the id {doc_id!r}.")
    record = searcher.report(doc_id)
    chunks = [
        {"chunk_id": c.chunk_id, "section_id": c.section_id, "start": c.start, "end": c.end,
         "label": c.label, "sentences": [[s.start, s.end] for s in c.sentences]}
        for c in searcher.chunks_of(doc_id)
    ]
    body = report_summary(searcher, doc_id)
    body["chunk_count"] = body.pop("chunks")
    body.update(text=record["original"], outline=record["sections"], chunks=chunks,
                problem_spans=record.get("problems", []))
    return jsonify(body)


def _ask_payload() -> dict:
    if request.method == "GET":
        return {"question": request.args.get("question") or request.args.get("q"),
                "filters": {k: v for k, v in request.args.items() if k in FILTER_FIELDS}}
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadParameter("The request body must be a JSON object such as {\"question\": \"哪些地方推行容缺受理？\"}.")
    if not isinstance(payload, dict):
        raise BadParameter("The request body must be a JSON object, not a JSON " + type(payload).__name__ + ".")
    return payload


def run_ask(payload: dict) -> dict:
    """Resolve, answer and serialise one question (shared by the API, CSV export and the CLI)."""
    question = text_param(payload.get("question"), "question")
    history = history_param(payload.get("history"))
    filters = filters_param(payload.get("filters"))
    searcher, answerer = holder().pair()
    places = [meta["issuer"] for meta in searcher.metas().values() if meta["issuer"]]
    resolution = resolve(question, history, places)
    answer = answerer.answer(question, filters=filters, resolved=resolution.resolved, exclude=resolution.exclude)
    generator = current_app.extensions.get("fazhi_generator")
    if generator is not None:
        answer = generator.rewrite(answer)
    body = answer.to_dict()
    areas = passage_areas(searcher, [hit["chunk_id"] for hit in body["results"]])
    body["results"] = [dict(hit, areas=names) for hit, names in zip(body["results"], areas)]
    return body


@bp.post("/api/ask")
def ask():
    return jsonify(run_ask(_ask_payload()))


@bp.route("/api/ask.csv", methods=["GET", "POST"])
def ask_csv():
    return _ask_download("csv")


@bp.route("/api/ask.xlsx", methods=["GET", "POST"])
def ask_xlsx():
    return _ask_download("xlsx")


@bp.route("/api/ask.docx", methods=["GET", "POST"])
def ask_docx():
    return _ask_download("docx")


def _ask_download(extension: str):
    """The answer as a take-away file: its places and quotes as a table, or as a Word document."""
    result = run_ask(_ask_payload())
    name = exports.file_name("回答-" + (result.get("resolved_question") or result["question"]), extension)
    if extension == "docx":
        body = exports.answer_docx(result, request.host_url.rstrip("/"))
        return exports.download(body, extension, name, "answer.docx")
    return exports.table_download(exports.answer_table(result), extension, name, f"answer.{extension}")


def _csv_safe(value: str) -> str:
    """Keep a cell from being read as a spreadsheet formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
