"""Indicators (数据): the figures as JSON and CSV, a table of places by indicator, and SVG bar charts."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from markupsafe import Markup

from service.api import _csv_safe
from service.errors import BadParameter
from service.indicators import CATALOGUE, Figure, figures_of, indicator_named
from service.indicators.chart import Bar, bar_chart
from service.params import filters_param, text_param
from service.search import Searcher
from service.views import CONTENT_SECURITY_POLICY

bp = Blueprint("indicators", __name__)

FILTERS = ("issuer", "level", "region", "year")
PARAMS = ("name", *FILTERS)
CSV_COLUMNS = ("name", "value", "number", "unit", "period", "issuer", "level", "region", "year", "doc_id",
               "quote", "start", "end", "url")


def _searcher() -> Searcher:
    return current_app.extensions["fazhi"].searcher


@bp.after_request
def _page_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _name_param(required: bool) -> str:
    name = text_param(request.args.get("name"), "name", limit=50, required=required)
    if name and indicator_named(name) is None:
        raise BadParameter(f"There is no indicator named {name!r}; the indicators are "
                           + ", ".join(i.name for i in CATALOGUE) + ".")
    return name


def _selected(searcher: Searcher, required_name: bool = False, allowed: tuple[str, ...] = PARAMS) -> tuple[str, dict, list[Figure]]:
    """(name, filters applied, figures) for the request's query string; bad parameters raise BadParameter."""
    unknown = [key for key in request.args if key not in allowed]
    if unknown:
        raise BadParameter(f"Unknown parameter {unknown[0]!r}; this endpoint takes {', '.join(allowed)}.")
    name = _name_param(required_name)
    filters = filters_param({k: v for k, v in request.args.items() if k in FILTERS})
    docs = set(searcher.reports_matching(filters))
    figures = [f for f in figures_of(searcher) if f.doc_id in docs and (not name or f.name == name)]
    applied = filters.to_dict()
    if name:
        applied = {"name": name, **applied}
    return name, applied, figures


@bp.get("/api/indicators")
def indicators():
    _, applied, figures = _selected(_searcher())
    return jsonify(filters=applied, indicators=[f.to_dict() for f in figures])


@bp.get("/api/indicators/catalogue")
def catalogue():
    return jsonify(indicators=[i.to_dict() for i in CATALOGUE])


@bp.get("/api/indicators.csv")
def indicators_csv():
    _, _, figures = _selected(_searcher())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for figure in figures:
        row = figure.to_dict()
        writer.writerow([_csv_safe(str(row[c])) if isinstance(row[c], str) else ("" if row[c] is None else row[c])
                         for c in CSV_COLUMNS])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=indicators.csv"})


def _place_label(figure: Figure, shared_issuers: set[str]) -> str:
    """The issuer, with the year when the index holds that issuer's reports of several years."""
    label = figure.issuer or figure.doc_id
    return f"{label}（{figure.year}）" if figure.issuer in shared_issuers and figure.year else label


def _bars(figures: list[Figure], shared: set[str]) -> list[Bar]:
    first: dict[str, Figure] = {}
    for figure in figures:
        first.setdefault(figure.doc_id, figure)
    rows = sorted(first.values(), key=lambda f: -f.number)
    return [Bar(_place_label(f, shared), f.number, f"{f.value}{f.unit}", f.url) for f in rows]


def _shared_issuers(searcher: Searcher) -> set[str]:
    seen, shared = set(), set()
    for meta in searcher.metas().values():
        (shared if meta["issuer"] in seen else seen).add(meta["issuer"])
    return shared


@bp.get("/indicators/chart.svg")
def chart():
    searcher = _searcher()
    name, _, figures = _selected(searcher, required_name=True)
    unit = figures[0].unit if figures else ""
    svg = bar_chart(f"{name}（{unit}）" if unit else name, _bars(figures, _shared_issuers(searcher)))
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/indicators")
def page():
    searcher = _searcher()
    _, _, figures = _selected(searcher, allowed=(*FILTERS, "chart"))
    shared = _shared_issuers(searcher)
    present = [i.name for i in CATALOGUE if any(f.name == i.name for f in figures)]
    chart_name = request.args.get("chart") or ""
    if chart_name not in present:
        chart_name = max(present, key=lambda n: len({f.doc_id for f in figures if f.name == n}), default="")
    rows: dict[str, dict] = {}
    for figure in figures:
        row = rows.setdefault(figure.doc_id, {"place": _place_label(figure, shared), "figure": figure,
                                              "cells": {}})
        row["cells"].setdefault(figure.name, figure)
    chart_figures = [f for f in figures if f.name == chart_name]
    unit = chart_figures[0].unit if chart_figures else ""
    svg = bar_chart(f"{chart_name}（{unit}）", _bars(chart_figures, shared)) if chart_name else ""
    return render_template(
        "indicators.html", active="indicators", columns=present, rows=sorted(rows.values(), key=lambda r: r["place"]),
        chart_name=chart_name, chart_svg=Markup(svg), missing=[i.name for i in CATALOGUE if i.name not in present],
        reports=len(searcher.reports),
    )
