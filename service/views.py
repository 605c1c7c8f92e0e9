"""HTML pages: the search and chat page, the corpus table, each report as published, and the API docs."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, render_template, request

from indexer.records import TITLE_NAMED
from service.api import report_summary
from service.openapi import curl_examples, endpoints, openapi_document

bp = Blueprint("views", __name__)

# Pages load scripts and styles only from this origin; no inline script, no framing.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


# Fields the report page marks when the text does not state them (ReportMeta.derived).
DERIVED_FIELDS = ("title", "issuer", "level", "region", "year", "published")
NAMED_TITLE_NOTE = "报告没有标题，文件名只是编号：按正文写明的发文单位和年份拟定。"


def source_link(url: str) -> str:
    """The URL when it may be a link (http or https with a host), else "": it is then shown as text."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def derived_notes(meta: dict) -> dict[str, dict]:
    """For each field taken from outside the text: the short note and its longer explanation."""
    # Only the file name is known without a source page; with one, either could have given it.
    where = "文件名或来源网页" if meta.get("source_url") else "文件名"
    notes = {field: {"note": f"（据{where}）", "title": f"报告正文没有写明这一项，取自{where}。"}
             for field in meta.get("derived", ()) if field in DERIVED_FIELDS}
    if "title" in notes and TITLE_NAMED in meta.get("derived", ()):
        notes["title"] = {"note": "（据正文拟）", "title": NAMED_TITLE_NOTE}
    return notes


def current_searcher():
    """The searcher of the generation in service (every page blueprint reads it from here)."""
    return current_app.extensions["fazhi"].searcher


@bp.after_request
def page_headers(response):
    """Security headers on every page (the other page blueprints register this too)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@bp.get("/")
def index():
    return render_template("index.html", active="search")


@bp.get("/reports")
def reports():
    searcher = current_searcher()
    rows = [report_summary(searcher, doc_id) for doc_id in searcher.reports]
    rows.sort(key=lambda r: (r["province"], r["city"], r["district"], r["issuer"]))
    for row in rows:
        row["derived_notes"] = derived_notes(row)
    return render_template("reports.html", active="reports", reports=rows)


@bp.get("/reports/<doc_id>")
def report(doc_id: str):
    searcher = current_searcher()
    if doc_id not in searcher.reports:
        return not_found_page(f"没有编号为“{doc_id}”的报告。它可能已被删除，或链接有误。")
    meta = report_summary(searcher, doc_id)
    return render_template("report.html", active="reports", doc_id=doc_id, meta=meta,
                           source_link=source_link(meta["source_url"]), derived=derived_notes(meta))


@bp.get("/api")
def api_docs():
    base = request.host_url.rstrip("/")
    return render_template("api.html", active="api", endpoints=endpoints(), examples=curl_examples(base))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(request.host_url))


def not_found_page(message: str):
    """The Chinese 404 page (HTML) for page routes."""
    return render_template("404.html", message=message), 404
