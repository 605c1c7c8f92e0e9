"""Indicators (数据): the figures as JSON, CSV and XLSX, a table of places by indicator, and SVG charts."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from markupsafe import Markup

from service import exports
from service.errors import BadParameter
from service.indicators import CATALOGUE, Figure, figures_of, indicator_named
from service.indicators.chart import Bar, Point, bar_chart, line_chart
from service.params import filters_param, int_param, text_param
from service.search import Searcher
from service.views import current_searcher, page_headers

bp = Blueprint("indicators", __name__)

FILTERS = ("issuer", "level", "region", "year")
PARAMS = ("name", *FILTERS)
CSV_COLUMNS = ("name", "value", "number", "unit", "period", "issuer", "level", "region", "year", "doc_id",
               "quote", "start", "end", "url")


bp.after_request(page_headers)


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
    _, applied, figures = _selected(current_searcher())
    return jsonify(filters=applied, indicators=[f.to_dict() for f in figures])


@bp.get("/api/indicators/catalogue")
def catalogue():
    return jsonify(indicators=[i.to_dict() for i in CATALOGUE])


def _table(figures: list[Figure]) -> exports.Table:
    rows = [tuple(figure.to_dict()[c] for c in CSV_COLUMNS) for figure in figures]
    return exports.Table(CSV_COLUMNS, rows, sheet="数据")


@bp.get("/api/indicators.csv")
def indicators_csv():
    _, _, figures = _selected(current_searcher())
    return exports.table_download(_table(figures), "csv", "数据.csv", "indicators.csv")


@bp.get("/api/indicators.xlsx")
def indicators_xlsx():
    _, _, figures = _selected(current_searcher())
    return exports.table_download(_table(figures), "xlsx", "数据.xlsx", "indicators.xlsx")


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
    searcher = current_searcher()
    name, _, figures = _selected(searcher, required_name=True)
    unit = figures[0].unit if figures else ""
    svg = bar_chart(f"{name}（{unit}）" if unit else name, _bars(figures, _shared_issuers(searcher)))
    return Response(svg, mimetype="image/svg+xml")


def _only(allowed: tuple[str, ...]) -> None:
    unknown = [key for key in request.args if key not in allowed]
    if unknown:
        raise BadParameter(f"Unknown parameter {unknown[0]!r}; this endpoint takes {', '.join(allowed)}.")


def _issuer_param(searcher: Searcher, value) -> str:
    issuer = text_param(value, "issuer", limit=50)
    if issuer not in {meta["issuer"] for meta in searcher.metas().values()}:
        raise BadParameter(f"No report in the index is issued by {issuer!r}; GET /api/reports lists the issuers.")
    return issuer


def _points(figures: list[Figure]) -> list[Point]:
    """One point per year the figures are for (the first figure stated for it), oldest first."""
    by_period: dict[str, Figure] = {}
    for figure in figures:
        if figure.period:
            by_period.setdefault(figure.period, figure)
    return [Point(f"{period}年", f.number, f"{f.value}{f.unit}", f.url) for period, f in sorted(by_period.items())]


def _line_svg(figures: list[Figure], name: str, issuer: str) -> str:
    own = [f for f in figures if f.name == name and f.issuer == issuer]
    points = _points(own)
    unit = next((f.unit for f in own), "")
    title = f"{issuer} · {name}" + (f"（{unit}）" if unit else "") + " 历年变化"
    return line_chart(title, points, empty=f"{issuer}的报告没有写明{name}。")


def _profile_svg(figures: list[Figure], issuer: str, year: int | None) -> str:
    """One bar per indicator the place states, each as long as its share of the largest place's value."""
    own = [f for f in figures if f.issuer == issuer]
    years = sorted({f.year for f in own if f.year is not None})
    year = year if year is not None else (years[-1] if years else None)
    own = [f for f in own if year is None or f.year == year]
    largest: dict[str, float] = {}
    for figure in figures:
        largest[figure.name] = max(largest.get(figure.name, 0.0), figure.number)
    bars, seen = [], set()
    order = {indicator.name: i for i, indicator in enumerate(CATALOGUE)}
    for figure in sorted(own, key=lambda f: order.get(f.name, len(order))):
        if figure.name in seen:
            continue
        seen.add(figure.name)
        scale = 100.0 if figure.unit == "%" else (largest[figure.name] or 1.0)
        bars.append(Bar(figure.name, figure.number / scale, f"{figure.value}{figure.unit}", figure.url))
    title = f"{issuer}{f'（{year}年）' if year else ''}各项指标 · 条长为与各地最大值之比"
    return bar_chart(title, bars, top=1.0, empty=f"{issuer}的报告没有写明目录中的指标。")


@bp.get("/indicators/line.svg")
def line():
    """One place's indicator across the years the index holds, as an SVG line."""
    _only(("name", "issuer"))
    searcher = current_searcher()
    name = _name_param(required=True)
    issuer = _issuer_param(searcher, request.args.get("issuer"))
    return Response(_line_svg(figures_of(searcher), name, issuer), mimetype="image/svg+xml")


@bp.get("/indicators/profile.svg")
def profile():
    """One place's indicators as labelled horizontal bars, each linking to its quote."""
    _only(("issuer", "year"))
    searcher = current_searcher()
    issuer = _issuer_param(searcher, request.args.get("issuer"))
    year = int_param(request.args.get("year"), "year", None, 1949, 2100)
    return Response(_profile_svg(figures_of(searcher), issuer, year), mimetype="image/svg+xml")


@bp.get("/indicators")
def page():
    searcher = current_searcher()
    _, _, figures = _selected(searcher, allowed=(*FILTERS, "chart", "place"))
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
    places = sorted({f.issuer for f in figures if f.issuer})
    place = request.args.get("place") or ""
    if place not in places:
        place = max(places, key=lambda p: len({f.name for f in figures if f.issuer == p}), default="")
    every = figures_of(searcher)
    line_svg = _line_svg(every, chart_name, place) if place and chart_name else ""
    profile_svg = _profile_svg(every, place, None) if place else ""
    return render_template(
        "indicators.html", active="indicators", columns=present, rows=sorted(rows.values(), key=lambda r: r["place"]),
        chart_name=chart_name, chart_svg=Markup(svg), places=places, place=place,
        line_svg=Markup(line_svg), profile_svg=Markup(profile_svg), missing=[i.name for i in CATALOGUE if i.name not in present],
        reports=len(searcher.reports),
    )
