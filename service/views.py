"""HTML pages: the search and chat page, the corpus table, each report as published, and the API docs."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

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


def _searcher():
    return current_app.extensions["fazhi"].searcher


@bp.after_request
def _page_headers(response):
    """Security headers on every page this blueprint serves."""
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
    searcher = _searcher()
    rows = [report_summary(searcher, doc_id) for doc_id in searcher.reports]
    rows.sort(key=lambda r: (r["province"], r["city"], r["district"], r["issuer"]))
    return render_template("reports.html", active="reports", reports=rows)


@bp.get("/reports/<doc_id>")
def report(doc_id: str):
    searcher = _searcher()
    if doc_id not in searcher.reports:
        return not_found_page(f"没有编号为“{doc_id}”的报告。它可能已被删除，或链接有误。")
    return render_template("report.html", active="reports", doc_id=doc_id, meta=report_summary(searcher, doc_id))


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
