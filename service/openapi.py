"""The OpenAPI 3 document of the JSON API, and the curl examples the /api page shows."""
from __future__ import annotations

import copy

VERSION = "1.0.0"

_ERROR = {"$ref": "#/components/responses/Error"}


def _query(name: str, description: str, schema: dict, required: bool = False, example=None) -> dict:
    param = {"name": name, "in": "query", "required": required, "description": description, "schema": schema}
    if example is not None:
        param["example"] = example
    return param


_FILTER_PARAMS = [
    _query("issuer", "Only reports of this issuer (发布机关), e.g. 坦洲镇.", {"type": "string", "maxLength": 50}),
    _query("level", "Only reports of this administrative level: 区, 街道, 镇 ... (区县, 乡镇 and 镇街 admit either)", {"type": "string", "maxLength": 50}),
    _query("region", "Only reports in this province, city or district (with or without 省/市/区).",
           {"type": "string", "maxLength": 50}, example="广东省"),
    _query("year", "Only reports on this year.", {"type": "integer", "minimum": 1949, "maximum": 2100}),
    _query("section", "Only passages of sections with this label: 前言, 主要举措, 存在的问题, 下一步安排, 主要负责人履职.",
           {"type": "string", "maxLength": 50}),
    _query("area", "Only passages tagged with this task area of the 纲要 (name or id, see /api/areas), "
                   "e.g. 行政执法工作体系.", {"type": "string", "maxLength": 50}),
]
_PASSAGE_ONLY = ("section", "area")

_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

_REPORT_PARAMS = [
    *[param for param in _FILTER_PARAMS if param["name"] not in _PASSAGE_ONLY],
    _query("published_from", "Only reports published on or after this date (YYYY-MM-DD); reports without a "
           "publication date are left out when a date bound is given.", _DATE, example="2024-01-01"),
    _query("published_to", "Only reports published on or before this date (YYYY-MM-DD, inclusive).", _DATE,
           example="2024-12-31"),
    _query("has_source", "true: only reports with a source_url; false: only those without.", {"type": "boolean"}),
]

_DOC_ID = {"name": "doc_id", "in": "path", "required": True, "description": "The report id (file name without extension).",
           "schema": {"type": "string"}, "example": "000_dc284aa856a2efc0"}

_SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "example": "bad_parameter"},
            "message": {"type": "string", "description": "A sentence for people."},
        }}},
    },
    "Filters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "issuer": {"type": "string"}, "level": {"type": "string"}, "region": {"type": "string"},
            "year": {"type": "integer"}, "section": {"type": "string"}, "area": {"type": "string"},
        },
    },
    "Checkup": {
        "type": "object",
        "properties": {
            "doc_id": {"type": "string"}, "issuer": {"type": "string"}, "year": {"type": "integer", "nullable": True},
            "parts": {"type": "array", "items": {"type": "object", "properties": {
                "part": {"type": "integer", "minimum": 1, "maximum": 5}, "name": {"type": "string"},
                "required": {"type": "boolean", "description": "Parts 1-4; part 5 only when there is anything."},
                "present": {"type": "boolean"},
                "basis": {"type": "string", "enum": ["section", "text", ""],
                          "description": "section: a heading or section label covers it; text: only a sentence does."},
                "sections": {"type": "array", "items": {"type": "object", "properties": {
                    "section_id": {"type": "string"}, "heading": {"type": "string"}, "label": {"type": "string"},
                    "basis": {"type": "string", "enum": ["label", "heading", "text"]}, "url": {"type": "string"}}}}}}},
            "complete": {"type": "boolean"}, "missing": {"type": "array", "items": {"type": "integer"}},
            "published": {"type": "string", "format": "date", "nullable": True},
            "deadline": {"type": "string", "format": "date", "nullable": True,
                         "description": "1 April of the year after the reported year; on time means before it."},
            "on_time": {"type": "boolean", "nullable": True, "description": "null when the date or the year is unknown."},
            "figures": {"type": "integer", "description": "Sentences with an Arabic number and a unit, or a percentage."},
            "repeats": {"type": "array", "items": {"type": "object", "properties": {
                "start": {"type": "integer"}, "end": {"type": "integer"}, "text": {"type": "string"},
                "url": {"type": "string"}, "other_doc_id": {"type": "string"}, "other_issuer": {"type": "string"},
                "other_start": {"type": "integer"}, "other_end": {"type": "integer"}, "other_url": {"type": "string"},
                "similarity": {"type": "number"}, "sentences": {"type": "integer"}}}},
        },
    },
    "Hit": {
        "type": "object",
        "properties": {
            "chunk_id": {"type": "string"}, "doc_id": {"type": "string"}, "title": {"type": "string"},
            "issuer": {"type": "string"}, "level": {"type": "string"}, "region": {"type": "string"},
            "year": {"type": "integer", "nullable": True},
            "section": {"type": "string", "description": "Section path joined with ' › '."},
            "section_label": {"type": "string"},
            "areas": {"type": "array", "items": {"type": "string"},
                      "description": "The task areas the passage is tagged with (in /api/search)."},
            "text": {"type": "string", "description": "The passage as published."},
            "start": {"type": "integer", "description": "Offset of the passage in the report's published text."},
            "end": {"type": "integer"},
            "score": {"type": "number"}, "rank": {"type": "integer"},
            "highlights": {"type": "array", "description": "[start, end) spans of matched terms, relative to text.",
                           "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}},
            "anchor": {"type": "string", "example": "c-s1.2.2-1"},
            "url": {"type": "string", "example": "/reports/003_b47a481025290089#c-s1.2.2-1"},
        },
    },
    "Citation": {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "description": "The number used as [n] in the answer."},
            "chunk_id": {"type": "string"}, "doc_id": {"type": "string"}, "issuer": {"type": "string"},
            "title": {"type": "string"}, "section": {"type": "string"},
            "quote": {"type": "string", "description": "The sentence verbatim as published."},
            "start": {"type": "integer"}, "end": {"type": "integer"},
            "url": {"type": "string", "example": "/reports/000_dc284aa856a2efc0#q-968-1154"},
        },
    },
    "Group": {
        "type": "object",
        "properties": {
            "issuer": {"type": "string"}, "level": {"type": "string"}, "region": {"type": "string"},
            "year": {"type": "integer", "nullable": True}, "doc_id": {"type": "string"}, "title": {"type": "string"},
            "score": {"type": "number"},
            "citations": {"type": "array", "items": {"$ref": "#/components/schemas/Citation"}},
        },
    },
    "Turn": {
        "type": "object",
        "properties": {"question": {"type": "string"}, "resolved_question": {"type": "string"},
                       "answer": {"type": "string"}},
    },
    "AskRequest": {
        "type": "object",
        "required": ["question"],
        "properties": {
            "question": {"type": "string", "maxLength": 500, "example": "哪些地方推行“容缺受理”？"},
            "history": {"type": "array", "maxItems": 20, "items": {"$ref": "#/components/schemas/Turn"},
                        "description": "Earlier turns of a chat, the most recent last."},
            "filters": {"$ref": "#/components/schemas/Filters"},
        },
    },
    "Answer": {
        "type": "object",
        "properties": {
            "question": {"type": "string"},
            "resolved_question": {"type": "string", "description": "The question as understood with the history."},
            "kind": {"type": "string", "enum": ["which", "fact", "figures", "plans", "open"]},
            "answer": {"type": "string", "description": "Chinese text with [n] citation markers."},
            "groups": {"type": "array", "items": {"$ref": "#/components/schemas/Group"}},
            "citations": {"type": "array", "items": {"$ref": "#/components/schemas/Citation"}},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "filters": {"$ref": "#/components/schemas/Filters"},
            "generated": {"type": "boolean", "description": "True when an LLM worded the answer."},
            "notes": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ReportSummary": {
        "type": "object",
        "properties": {
            "doc_id": {"type": "string"}, "title": {"type": "string"}, "issuer": {"type": "string"},
            "level": {"type": "string"}, "province": {"type": "string"}, "city": {"type": "string"},
            "district": {"type": "string"}, "region": {"type": "string"},
            "year": {"type": "integer", "nullable": True},
            "published": {"type": "string", "description": "Publication date YYYY-MM-DD, or \"\" when unknown.",
                          "example": "2024-03-28"},
            "source_url": {"type": "string", "description": "The page or link the report was fetched from, or \"\"."},
            "derived": {"type": "array", "items": {"type": "string"},
                        "description": "Fields the report's text does not state, taken from its file name or "
                                       "source page, e.g. [\"title\"]."},
            "source_file": {"type": "string"}, "sections": {"type": "integer"}, "chunks": {"type": "integer"},
            "url": {"type": "string"},
        },
    },
    "Section": {
        "type": "object",
        "properties": {
            "section_id": {"type": "string"}, "heading": {"type": "string"}, "level": {"type": "integer"},
            "path": {"type": "array", "items": {"type": "string"}}, "label": {"type": "string"},
            "orig_start": {"type": "integer"}, "orig_end": {"type": "integer"},
        },
    },
    "Report": {
        "type": "object",
        "description": "A report's metadata (as in ReportSummary, with chunk_count) plus its text and outline.",
        "properties": {
            "doc_id": {"type": "string"}, "title": {"type": "string"}, "issuer": {"type": "string"},
            "chunk_count": {"type": "integer"},
            "text": {"type": "string", "description": "The report as published; all offsets point into it."},
            "outline": {"type": "array", "items": {"$ref": "#/components/schemas/Section"}},
            "chunks": {"type": "array", "items": {"type": "object", "properties": {
                "chunk_id": {"type": "string"}, "section_id": {"type": "string"}, "start": {"type": "integer"},
                "end": {"type": "integer"}, "label": {"type": "string"},
                "sentences": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            }}},
        },
    },
}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_PATHS = {
    "/healthz": {"get": {
        "summary": "Liveness and what is in service",
        "responses": {"200": _json({"type": "object", "properties": {
            "status": {"type": "string", "example": "ok"}, "reports": {"type": "integer"},
            "chunks": {"type": "integer"}, "model": {"type": "string"}, "generation": {"type": "string"},
            "answers": {"type": "string", "enum": ["process", "worker"],
                        "description": "Where this worker computes answers: its answer process (at a lower CPU "
                                       "priority than searches) or the worker itself."},
            "backend": {"type": "string", "enum": ["embedded", "seekdb"], "description": "Where search ranks."},
            "engine": {"type": "string", "description": "seekdb only: the engine's host:port."},
            "database": {"type": "string", "description": "seekdb only: the database of this generation."}}}),
                      "503": _json({"type": "object", "description": "The seekdb engine does not answer: status "
                                                                     "is backend_unavailable, the other fields as for 200."})},
    }},
    "/api/search": {"get": {
        "summary": "Ranked passages (hybrid BM25 + dense) with matched terms and facet counts",
        "parameters": [
            _query("q", "The query, at most 500 characters.", {"type": "string", "maxLength": 500}, True, "商圈微法庭"),
            _query("k", "How many passages.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
            _query("mode", "Which retrievers.", {"type": "string", "enum": ["hybrid", "bm25", "dense"], "default": "hybrid"}),
            *_FILTER_PARAMS,
        ],
        "responses": {
            "200": _json({"type": "object", "properties": {
                "query": {"type": "string"}, "mode": {"type": "string"},
                "filters": {"$ref": "#/components/schemas/Filters"},
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                "facets": {"type": "object", "description": "Counts per issuer, level, region, year, section and area "
                                                           "of the results, most frequent first, then by name.",
                           "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
            }}),
            "400": _ERROR,
        },
    }},
    "/api/filters": {"get": {
        "summary": "Every value each filter can take",
        "responses": {"200": _json({"type": "object", "properties": {
            name: {"type": "array", "items": {"type": "integer" if name == "year" else "string"}}
            for name in ("issuer", "level", "region", "year", "section", "area")}})},
    }},
    "/api/reports": {
        "get": {
            "summary": "The reports in the index, optionally filtered by metadata and publication date",
            "parameters": _REPORT_PARAMS,
            "responses": {
                "200": _json({"type": "object", "properties": {
                    "filters": {"type": "object", "description": "The filters applied."},
                    "reports": {"type": "array", "items": {"$ref": "#/components/schemas/ReportSummary"}}}}),
                "400": _ERROR,
            },
        },
        "post": {
            "summary": "Add a report (admin): multipart upload of one file, indexed at once",
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary",
                                        "description": ".txt, .md, .html, .docx or text .pdf"}}}}}},
            "responses": {
                "201": _json({"$ref": "#/components/schemas/ReportSummary"}, "The report was indexed."),
                "400": _ERROR, "401": _ERROR, "403": _ERROR, "409": _ERROR, "413": _ERROR, "415": _ERROR,
            },
        },
    },
    "/api/reports/{doc_id}": {
        "get": {
            "summary": "One report: metadata, published text, outline and chunks",
            "parameters": [_DOC_ID],
            "responses": {"200": _json({"$ref": "#/components/schemas/Report"}), "404": _ERROR},
        },
        "delete": {
            "summary": "Remove a report (admin)",
            "security": [{"bearer": []}],
            "parameters": [_DOC_ID],
            "responses": {
                "200": _json({"type": "object"}, "The report was removed from the index."),
                "401": _ERROR, "403": _ERROR, "404": _ERROR, "409": _ERROR,
            },
        },
    },
    "/api/reports/{doc_id}/checkup": {"get": {
        "summary": "报告体检: the five required parts present or missing (with their sections), publication "
                   "date and whether it is before 1 April of the next year, quantified statements, template repeats",
        "parameters": [_DOC_ID],
        "responses": {"200": _json({"$ref": "#/components/schemas/Checkup"}), "404": _ERROR},
    }},
    "/api/checkups": {"get": {
        "summary": "The check-up of every report (filtered by issuer, level, region, year) with counts",
        "parameters": [param for param in _FILTER_PARAMS if param["name"] not in _PASSAGE_ONLY],
        "responses": {"200": _json({"type": "object", "properties": {
            "filters": {"type": "object"}, "summary": {"type": "object"},
            "parts": {"type": "object", "description": "The five parts' names by number."},
            "checkups": {"type": "array", "description": "Each report's check-up as in /api/reports/{doc_id}/checkup, "
                         "except that `repeats` is a count, `repeats_reports` the number of other reports they "
                         "stand in, and `repeats_with` the first 10 of those [{doc_id, issuer, count}], most "
                         "repeats first.",
                         "items": {"type": "object"}}}}), "400": _ERROR},
    }},
    "/api/checkups.csv": {"get": {
        "summary": "The check-up scorecard as CSV (UTF-8 with BOM)",
        "parameters": [param for param in _FILTER_PARAMS if param["name"] not in _PASSAGE_ONLY],
        "responses": {"200": {"description": "One row per report: parts 1-5 (有/缺), complete, published, deadline, "
                                             "on_time (是/否/未知), figures, repeats, url.",
                              "content": {"text/csv": {"schema": {"type": "string"}}}}, "400": _ERROR},
    }},
    "/api/passages/{chunk_id}/peers": {"get": {
        "summary": "相似做法: the same practice as this passage in other reports, one best passage per report, "
                   "quoted verbatim with offsets (the passage's own report excluded)",
        "parameters": [{"name": "chunk_id", "in": "path", "required": True, "schema": {"type": "string"}},
                       *[param for param in _FILTER_PARAMS if param["name"] in ("level", "region")],
                       {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50,
                                                               "default": 10}}],
        "responses": {"200": _json({"type": "object", "properties": {
            "filters": {"type": "object"}, "passage": {"type": "object"},
            "peers": {"type": "array", "items": {"type": "object"}}}}), "400": _ERROR, "404": _ERROR},
    }},
    "/api/ask": {"post": {
        "summary": "Answer a question with verbatim, numbered citations (chat: pass history)",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AskRequest"}}}},
        "responses": {"200": _json({"$ref": "#/components/schemas/Answer"}), "400": _ERROR, "503": _ERROR},
    }},
    "/api/ask.csv": {
        "get": {
            "summary": "The answer's places and quotes as CSV (UTF-8 with BOM)",
            "parameters": [
                _query("question", "The question (q is accepted too).", {"type": "string", "maxLength": 500}, True,
                       "哪些地方推行容缺受理？"),
                *_FILTER_PARAMS,
            ],
            "responses": {
                "200": {"description": "Columns: issuer, region, year, level, quote, section, doc_id, title, url.",
                        "content": {"text/csv": {"schema": {"type": "string"}}}},
                "400": _ERROR,
            },
        },
        "post": {
            "summary": "The same CSV for a JSON question (with history and filters)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AskRequest"}}}},
            "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                          "400": _ERROR},
        },
    },
}


_INDICATOR_PARAMS = [
    _query("name", "Only this indicator of the catalogue (GET /api/indicators/catalogue), e.g. 行政复议收案.",
           {"type": "string", "maxLength": 50}),
    *[param for param in _FILTER_PARAMS if param["name"] not in _PASSAGE_ONLY],
]
_FIGURE = {"type": "object", "properties": {
    "name": {"type": "string"}, "value": {"type": "string", "description": "The number as published, inside quote."},
    "number": {"type": "number"}, "unit": {"type": "string"}, "period": {"type": "string"},
    "issuer": {"type": "string"}, "doc_id": {"type": "string"}, "year": {"type": "integer", "nullable": True},
    "level": {"type": "string"}, "region": {"type": "string"},
    "quote": {"type": "string", "description": "The sentence as published: report_text[start:end]."},
    "start": {"type": "integer"}, "end": {"type": "integer"}, "value_start": {"type": "integer"},
    "value_end": {"type": "integer"}, "url": {"type": "string"}}}
_PATHS.update({
    "/api/indicators": {"get": {
        "summary": "Figures (数据) the reports state, each with its unit, period, issuer and verbatim sentence",
        "parameters": _INDICATOR_PARAMS,
        "responses": {"200": _json({"type": "object", "properties": {
            "filters": {"type": "object"}, "indicators": {"type": "array", "items": _FIGURE}}}), "400": _ERROR},
    }},
    "/api/indicators/catalogue": {"get": {
        "summary": "The indicators looked for: name, topic, kind, accepted units and measure words",
        "responses": {"200": _json({"type": "object"})},
    }},
    "/api/indicators.csv": {"get": {
        "summary": "The figures as CSV (UTF-8 with BOM)",
        "parameters": _INDICATOR_PARAMS,
        "responses": {"200": {"description": "Columns: name, value, number, unit, period, issuer, level, region, "
                                             "year, doc_id, quote, start, end, url.",
                              "content": {"text/csv": {"schema": {"type": "string"}}}}, "400": _ERROR},
    }},
    "/indicators/chart.svg": {"get": {
        "summary": "One indicator across places as an SVG bar chart (name required)",
        "parameters": _INDICATOR_PARAMS,
        "responses": {"200": {"description": "SVG, one bar per place.",
                              "content": {"image/svg+xml": {"schema": {"type": "string"}}}}, "400": _ERROR},
    }},
})

# 对比: 2-4 reports side by side by the 纲要's task areas.
_PATHS.update({
    "/api/areas": {"get": {
        "summary": "The task areas of 《法治政府建设实施纲要（2021－2025年）》 plus 党的领导 and 学法普法: id, name, "
                   "part of the 纲要, description and terms",
        "responses": {"200": _json({"type": "object", "properties": {"areas": {"type": "array",
                                                                                "items": {"type": "object"}}}})},
    }},
    "/api/compare": {"get": {
        "summary": "2-4 reports compared by task area: reports (columns) and areas (rows), each cell the report's "
                   "passage count, its first 3 passages with links and its indicator values for the area",
        "parameters": [
            _query("doc", "A report id; give it 2 to 4 times.", {"type": "string"}),
            _query("issuer", "Instead of doc: one issuer's reports across years (the latest four).",
                   {"type": "string", "maxLength": 50}),
        ],
        "responses": {"200": _json({"type": "object", "properties": {
            "reports": {"type": "array", "items": {"type": "object"}},
            "areas": {"type": "array", "items": {"type": "object"}}}}), "400": _ERROR, "404": _ERROR},
    }},
})

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {
        "title": "法治镜 Fazhi Lens API",
        "version": VERSION,
        "description": "Search and question answering over Chinese local governments' annual reports on "
                       "rule-of-law government construction (法治政府建设年度报告). Every answer cites sentences "
                       "verbatim as published. Errors are 4xx with {\"error\": {\"code\", \"message\"}}.",
    },
    "paths": _PATHS,
    "components": {
        "schemas": _SCHEMAS,
        "responses": {"Error": _json({"$ref": "#/components/schemas/Error"}, "An error, with a sentence saying why.")},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "The service's admin token (FAZHI_ADMIN_TOKEN)."}},
    },
}

# What each operation does, in Chinese, for the human /api page.
SUMMARIES_ZH = {
    ("get", "/healthz"): "健康检查：服务是否在线，索引中有多少报告和段落",
    ("get", "/api/search"): "检索段落（BM25 与向量混合排序），返回命中词位置和分面计数",
    ("get", "/api/filters"): "各筛选项（发布机关、层级、地区、年度、章节、任务领域）的全部取值",
    ("get", "/api/reports"): "报告列表及元数据",
    ("post", "/api/reports"): "上传一份报告（multipart 的 file 字段），立即编入索引",
    ("get", "/api/reports/{doc_id}"): "一份报告：元数据、发布原文、章节目录和段落",
    ("delete", "/api/reports/{doc_id}"): "从索引中删除一份报告",
    ("get", "/api/reports/{doc_id}/checkup"): "报告体检：五个部分是否齐全、是否按时公开、数据表述数、雷同段落",
    ("get", "/api/checkups"): "全部报告的体检结果（可按发布机关、层级、地区、年度筛选）",
    ("get", "/api/checkups.csv"): "体检结果导出为 CSV（UTF-8 带 BOM）",
    ("get", "/api/indicators"): "数据：报告写明的各项指标数值，附单位、年度、发布机关和原句",
    ("get", "/api/indicators/catalogue"): "数据指标目录",
    ("get", "/api/indicators.csv"): "数据导出为 CSV（UTF-8 带 BOM）",
    ("get", "/indicators/chart.svg"): "一项指标的各地对比柱状图（SVG）",
    ("get", "/api/passages/{chunk_id}/peers"): "相似做法：其他报告中与这段相同或相近的做法，每份报告一段，逐字引用",
    ("get", "/api/areas"): "对比：纲要任务体系（另加党的领导、学法普法）目录",
    ("get", "/api/compare"): "对比：2 至 4 份报告按任务体系并排，每格段落数、前 3 段和相关数据",
    ("post", "/api/ask"): "问答：回答附带逐字引用的编号引文；对话追问时传 history",
    ("get", "/api/ask.csv"): "把回答中的地方和引文导出为 CSV（UTF-8 带 BOM）",
    ("post", "/api/ask.csv"): "同上，以 JSON 提交问题（可带 history 和 filters）",
}

# (what it does, command) with {base} standing for the service's address.
CURL_EXAMPLES = [
    ("健康检查", "curl '{base}/healthz'"),
    ("检索段落", "curl '{base}/api/search?q=商圈微法庭&k=5'"),
    ("带筛选的检索", "curl '{base}/api/search?q=普法&region=广东省&level=街道&year=2024&section=主要举措'"),
    ("筛选项", "curl '{base}/api/filters'"),
    ("报告列表", "curl '{base}/api/reports'"),
    ("按发布日期筛选报告", "curl '{base}/api/reports?published_from=2024-01-01&published_to=2024-12-31&has_source=true'"),
    ("一份报告（全文、目录、段落）", "curl '{base}/api/reports/000_dc284aa856a2efc0'"),
    ("报告体检", "curl '{base}/api/reports/000_dc284aa856a2efc0/checkup'"),
    ("全部报告的体检结果", "curl '{base}/api/checkups?level=街道'"),
    ("相似做法", "curl '{base}/api/passages/000_dc284aa856a2efc0:s6:1/peers?level=街道&k=5'"),
    ("按任务体系对比两份报告", "curl '{base}/api/compare?doc=000_dc284aa856a2efc0&doc=004_1125619140e8c921'"),
    ("数据（指标数值）", "curl '{base}/api/indicators?name=行政复议收案&region=广东省'"),
    ("问答", "curl -X POST '{base}/api/ask' -H 'Content-Type: application/json' \\\n"
             "     -d '{{\"question\": \"哪些地方推行“容缺受理”？\"}}'"),
    ("对话追问（带上历史）", "curl -X POST '{base}/api/ask' -H 'Content-Type: application/json' \\\n"
                     "     -d '{{\"question\": \"坦洲镇办了多少宗？\", \"history\": [{{\"question\": \"哪些地方推行简案快办？\", "
                     "\"answer\": \"…\"}}]}}'"),
    ("导出 CSV", "curl -o answer.csv '{base}/api/ask.csv?question=哪些地方推行容缺受理&region=广东省'"),
    ("上传报告（管理员）", "curl -X POST '{base}/api/reports' -H \"Authorization: Bearer $FAZHI_ADMIN_TOKEN\" \\\n"
                   "     -F 'file=@新报告.docx'"),
    ("删除报告（管理员）", "curl -X DELETE '{base}/api/reports/000_dc284aa856a2efc0' "
                   "-H \"Authorization: Bearer $FAZHI_ADMIN_TOKEN\""),
]


def openapi_document(server_url: str | None = None) -> dict:
    """A copy of the OpenAPI document, naming the server it is served from when given."""
    document = copy.deepcopy(DOCUMENT)
    if server_url:
        document["servers"] = [{"url": server_url.rstrip("/")}]
    return document


def endpoints() -> list[dict]:
    """Each operation as {method, path, summary (Chinese), admin}, in document order, for the /api page."""
    return [
        {"method": method.upper(), "path": path, "summary": SUMMARIES_ZH.get((method, path), operation["summary"]),
         "admin": "security" in operation}
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
    ]


def curl_examples(base: str) -> list[tuple[str, str]]:
    """The curl examples with the service's address filled in."""
    return [(title, command.format(base=base.rstrip("/"))) for title, command in CURL_EXAMPLES]


# Take-away files (CSV, XLSX, DOCX) and the per-place charts.
_CSV = {"text/csv": {"schema": {"type": "string"}}}
_XLSX = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string",
                                                                                          "format": "binary"}}}
_DOCX = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"schema": {
    "type": "string", "format": "binary"}}}
_SVG = {"image/svg+xml": {"schema": {"type": "string"}}}
_ASK_GET_PARAMS = _PATHS["/api/ask.csv"]["get"]["parameters"]
_ASK_BODY = _PATHS["/api/ask.csv"]["post"]["requestBody"]
_ISSUER = _query("issuer", "The place (发布机关) as in /api/reports, e.g. 坦洲镇.", {"type": "string", "maxLength": 50},
                 True, "坦洲镇")


def _download(summary: str, description: str, content: dict, parameters: list) -> dict:
    return {"summary": summary, "parameters": parameters,
            "responses": {"200": {"description": description + " Content-Disposition names the file in UTF-8 "
                                                               "(RFC 5987 filename*), with an ASCII fallback.",
                                  "content": content}, "400": _ERROR}}


_PATHS.update({
    "/api/ask.xlsx": {
        "get": _download("The answer's places and quotes as an Excel workbook",
                         "The columns of /api/ask.csv, one row per citation.", _XLSX, _ASK_GET_PARAMS),
        "post": {"summary": "The same workbook for a JSON question (with history and filters)", "requestBody": _ASK_BODY,
                 "responses": {"200": {"description": "XLSX", "content": _XLSX}, "400": _ERROR}},
    },
    "/api/ask.docx": {
        "get": _download("The answer as a Word document, each quote with its citation line",
                         "The question, the short answer, then per place each quote as 「…」（《报告标题》，发文单位，"
                         "第N部分“节标题”） with a link to it.", _DOCX, _ASK_GET_PARAMS),
        "post": {"summary": "The same document for a JSON question (with history and filters)", "requestBody": _ASK_BODY,
                 "responses": {"200": {"description": "DOCX", "content": _DOCX}, "400": _ERROR}},
    },
    "/api/indicators.xlsx": {"get": _download("The figures as an Excel workbook", "The columns of /api/indicators.csv.",
                                              _XLSX, _INDICATOR_PARAMS)},
    "/api/compare.csv": {"get": _download(
        "The comparison as CSV (UTF-8 with BOM), one row per task area and report",
        "Columns 任务体系, 纲要部分, doc_id, 发布机关, 年度, 段落数, 段落（前3段）, 数据, 链接.", _CSV, _PATHS["/api/compare"]["get"]["parameters"])},
    "/api/compare.xlsx": {"get": _download("The comparison as an Excel workbook", "The columns of /api/compare.csv.",
                                           _XLSX, _PATHS["/api/compare"]["get"]["parameters"])},
    "/api/passages/{chunk_id}/peers.csv": {"get": _download(
        "A passage's peers as CSV (UTF-8 with BOM), best first",
        "Columns 名次, doc_id, 发布机关, 层级, 地区, 年度, 章节, 引文 (one per line), 链接.", _CSV,
        _PATHS["/api/passages/{chunk_id}/peers"]["get"]["parameters"])},
    "/api/passages/{chunk_id}/peers.xlsx": {"get": _download(
        "A passage's peers as an Excel workbook", "The columns of the peers CSV.", _XLSX,
        _PATHS["/api/passages/{chunk_id}/peers"]["get"]["parameters"])},
    "/api/checkups.xlsx": {"get": _download("The check-up scorecard as an Excel workbook",
                                            "The columns of /api/checkups.csv.", _XLSX,
                                            [param for param in _FILTER_PARAMS if param["name"] not in _PASSAGE_ONLY])},
    "/indicators/line.svg": {"get": {
        "summary": "One place's indicator across the years the index holds, as an SVG line (name and issuer required)",
        "parameters": [_query("name", "An indicator of the catalogue, e.g. 人民调解受理.", {"type": "string", "maxLength": 50},
                              True, "人民调解受理"), _ISSUER],
        "responses": {"200": {"description": "SVG, one circle per year; with one year a note says no trend can be drawn.",
                              "content": _SVG}, "400": _ERROR}}},
    "/indicators/profile.svg": {"get": {
        "summary": "One place's indicators as labelled horizontal bars, each linking to its quote",
        "parameters": [_ISSUER, _query("year", "The report year (default: the place's latest).",
                                       {"type": "integer", "minimum": 1949, "maximum": 2100})],
        "responses": {"200": {"description": "SVG, one bar per indicator, as long as its share of the largest place's "
                                             "value (rates: of 100%).", "content": _SVG}, "400": _ERROR}}},
})
SUMMARIES_ZH.update({
    ("get", "/api/ask.xlsx"): "把回答中的地方和引文导出为 Excel",
    ("post", "/api/ask.xlsx"): "同上，以 JSON 提交问题（可带 history 和 filters）",
    ("get", "/api/ask.docx"): "把回答和引文导出为 Word 文档，每段引文附中文出处",
    ("post", "/api/ask.docx"): "同上，以 JSON 提交问题（可带 history 和 filters）",
    ("get", "/api/indicators.xlsx"): "数据导出为 Excel",
    ("get", "/api/checkups.xlsx"): "体检结果导出为 Excel",
    ("get", "/api/compare.csv"): "对比表导出为 CSV（每个任务体系、每份报告一行）",
    ("get", "/api/compare.xlsx"): "对比表导出为 Excel",
    ("get", "/api/passages/{chunk_id}/peers.csv"): "相似做法导出为 CSV",
    ("get", "/api/passages/{chunk_id}/peers.xlsx"): "相似做法导出为 Excel",
    ("get", "/indicators/line.svg"): "一个地方一项指标的历年变化折线图（SVG）",
    ("get", "/indicators/profile.svg"): "一个地方各项指标的条形图（SVG），每条链接到原句",
})
CURL_EXAMPLES.insert(len(CURL_EXAMPLES) - 2, ("导出 Word（引文附出处）",
                     "curl -o answer.docx '{base}/api/ask.docx?question=哪些地方推行容缺受理'"))
