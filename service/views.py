"""HTML pages: the search and chat page, the corpus table and each report as published."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("views", __name__)


def _searcher():
    return current_app.extensions["fazhi"].searcher


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/reports")
def reports():
    return render_template("reports.html")


@bp.get("/reports/<doc_id>")
def report(doc_id: str):
    searcher = _searcher()
    if doc_id not in searcher.reports:
        abort(404, f"There is no report with the id {doc_id!r}.")
    return render_template("report.html", doc_id=doc_id, meta=searcher.meta(doc_id))
