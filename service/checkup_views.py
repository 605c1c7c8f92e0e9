"""报告体检 over HTTP: one report's check-up, the corpus scorecard as JSON, CSV, XLSX and a page."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request

from service import exports
from service.api import report_filters
from service.checkup import PART_NAMES, Checkup, checkup, checkups
from service.errors import NotFound, ServiceError
from service.views import current_searcher, page_headers

bp = Blueprint("checkup", __name__)

CSV_COLUMNS = ["doc_id", "issuer", "title", "level", "region", "year", *[f"part{n}" for n in PART_NAMES],
               "complete", "published", "deadline", "on_time", "figures", "repeats", "url"]


def _filtered(args) -> tuple[dict, list[Checkup]]:
    """The filters applied and the check-ups of the reports they allow, in index order."""
    filters = report_filters(args)
    searcher = current_searcher()
    every = checkups(searcher)
    return filters.to_dict(), [every[doc_id] for doc_id in searcher.reports_matching(filters)]


def _summary(rows: list[Checkup]) -> dict:
    return {
        "reports": len(rows),
        "complete": sum(1 for c in rows if c.complete),
        "on_time": sum(1 for c in rows if c.on_time is True),
        "late": sum(1 for c in rows if c.on_time is False),
        "on_time_unknown": sum(1 for c in rows if c.on_time is None),
        "with_repeats": sum(1 for c in rows if c.repeats),
    }


@bp.get("/api/reports/<doc_id>/checkup")
def report_checkup(doc_id: str):
    searcher = current_searcher()
    if doc_id not in searcher.reports:
        raise NotFound(f"There is no report with the id {doc_id!r}.")
    return jsonify(checkup(searcher, doc_id).to_dict())


@bp.get("/api/checkups")
def all_checkups():
    applied, rows = _filtered(request.args)
    return jsonify(filters=applied, summary=_summary(rows), parts=PART_NAMES, checkups=[_scorecard_row(c) for c in rows])


REPEATS_WITH = 10  # the other reports named per scorecard row, most repeats first


def _scorecard_row(c: Checkup) -> dict:
    """A report's check-up for the corpus-wide scorecard: its repeats counted and grouped by the other report,
    not listed (shared templates run to thousands a report; /api/reports/<id>/checkup lists them)."""
    row = replace(c, repeats=()).to_dict()
    by_other: dict[str, list] = {}
    for repeat in c.repeats:
        by_other.setdefault(repeat.other_doc_id, [repeat.other_issuer, 0])[1] += 1
    ranked = sorted(by_other.items(), key=lambda item: (-item[1][1], item[0]))
    row["repeats"] = len(c.repeats)
    row["repeats_reports"] = len(ranked)
    row["repeats_with"] = [{"doc_id": doc_id, "issuer": issuer, "count": count}
                           for doc_id, (issuer, count) in ranked[:REPEATS_WITH]]
    return row


def _yes_no(value: bool | None) -> str:
    return {True: "是", False: "否", None: "未知"}[value]


def _table(rows: list[Checkup]) -> exports.Table:
    """The scorecard as a table: parts as 有/正文提及/缺/无, yes-no columns as 是/否/未知."""
    out = []
    for c in rows:
        row = _scorecard_row(c)
        parts = [("正文提及" if p["basis"] == "text" else "有") if p["present"] else ("缺" if p["required"] else "无")
                 for p in row["parts"]]
        out.append((row["doc_id"], row["issuer"], row["title"], row["level"], row["region"], row["year"] or "",
                    *parts, _yes_no(row["complete"]), row["published"] or "", row["deadline"] or "",
                    _yes_no(row["on_time"]), row["figures"], row["repeats"],
                    request.host_url.rstrip("/") + row["url"]))
    return exports.Table(tuple(CSV_COLUMNS), out, sheet="报告体检")


@bp.get("/api/checkups.csv")
def checkups_csv():
    _, rows = _filtered(request.args)
    return exports.table_download(_table(rows), "csv", "报告体检.csv", "checkups.csv")


@bp.get("/api/checkups.xlsx")
def checkups_xlsx():
    _, rows = _filtered(request.args)
    return exports.table_download(_table(rows), "xlsx", "报告体检.xlsx", "checkups.xlsx")


@bp.get("/checkups")
def checkups_page():
    """The scorecard: one row per report, sortable, filtered by the usual report filters."""
    try:
        applied, rows = _filtered(request.args)
        error = ""
    except ServiceError as problem:  # a bad or unknown filter value: the page says so, with no rows
        applied, rows, error = {}, [], problem.message
    query = urlencode(applied)
    response = Response(render_template(
        "checkups.html", active="checkups", rows=[_scorecard_row(c) for c in rows], summary=_summary(rows),
        parts=PART_NAMES, filters=applied, values=current_searcher().filter_values(), error=error,
        csv_url="/api/checkups.csv" + ("?" + query if query else ""),
        xlsx_url="/api/checkups.xlsx" + ("?" + query if query else "")), status=400 if error else 200)
    return page_headers(response)
