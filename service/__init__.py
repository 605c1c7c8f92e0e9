"""The Flask service: create_app(test_config=None) builds the app over one index directory."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from indexer.errors import IndexerError
from service.errors import ServiceError

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)

DEFAULTS = {
    "INDEX_DIR": str(ROOT / "var" / "index"),
    "CORPUS_DIR": str(ROOT / "corpus"),
    "CACHE_DIR": str(ROOT / ".cache"),
    "MODEL": None,  # None: the bundled multilingual-e5-small
    "ADMIN_TOKEN": "",  # empty: the endpoints that change the corpus are off
    "MAX_UPLOAD_BYTES": 20 * 1024 * 1024,
    "WRITER_WAIT_SECONDS": 30.0,  # how long an upload or removal waits for another writer before a 503
    "LLM_BASE_URL": "",
    "LLM_MODEL": "",
    "LLM_TIMEOUT": 20.0,
    "VERIFY_INDEX": True,
    "BUILD_IF_MISSING": True,
    "ANSWER_CACHE": 512,  # answers kept per index generation (FAZHI_ANSWER_CACHE=0: none)
    "ANSWER_PROCESS": True,  # each web worker computes answers in a child process (service/answer_process.py)
    "ANSWER_NICENESS": 10,  # that child's nice value above the worker's: searches get the cores first
    "SHARE_ANSWERS": True,  # web workers share computed answers through INDEX_DIR/answers (one computes, others read)
    "ANSWERS_AT_ONCE": 1,  # answers computed at once per process, so searches are not starved (0: no limit)
    "BACKEND": "embedded",  # or "seekdb" (FAZHI_BACKEND): where search ranks, see service/backends
    "SEEKDB_ADDRESS": "",  # host:port of a running seekdb / OceanBase; empty: the service starts one
    "SEEKDB_DATA": "",  # data folder of the seekdb the service starts (default: INDEX_DIR/seekdb)
    "SEEKDB_WAIT": 60.0,  # seconds to wait at start for an engine that does not answer
}


def _error(status: int, code: str, message: str):
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def _wants_page() -> bool:
    """A browser asking for a page (not the API) gets HTML errors."""
    from flask import request

    api = request.path.startswith(("/api", "/healthz", "/openapi.json", "/static"))
    return not api and request.accept_mimetypes.accept_html


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config defaults -> FAZHI_* environment -> test_config."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "web" / "templates"),
        static_folder=str(ROOT / "web" / "static"),
        static_url_path="/static",
    )
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("FAZHI")
    if test_config:
        app.config.update(test_config)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_BYTES"]) + 64 * 1024
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    # "/api/reports//0" is no address of ours: a 404 in JSON, not werkzeug's 308 to a merged path.
    app.url_map.merge_slashes = False

    from indexer.embed import load_embedder
    from service.state import IndexHolder

    embedder = app.config.get("EMBEDDER") or load_embedder(app.config["MODEL"], Path(app.config["CACHE_DIR"]) / "models")
    index_dir = Path(app.config["INDEX_DIR"])
    from indexer.store import current_generation

    if current_generation(index_dir) is None and app.config["BUILD_IF_MISSING"]:
        from indexer.build_choice import build_corpus

        summary = build_corpus(Path(app.config["CORPUS_DIR"]), index_dir, embedder)
        for line in summary.lines():
            log.warning(line)
    if app.config["ADMIN_TOKEN"] and not app.config.get("TESTING"):
        # Uploads embed passages with the full model, which the bundled embedder loads lazily;
        # load it here, before gunicorn forks, so workers share it and no upload waits for it.
        embedder.embed_passages(["法治政府建设"])
    from service.backends import BackendChoice

    backend = BackendChoice(str(app.config["BACKEND"]).strip().lower(), str(app.config["SEEKDB_ADDRESS"] or ""),
                            Path(app.config["SEEKDB_DATA"]) if app.config["SEEKDB_DATA"] else None,
                            float(app.config["SEEKDB_WAIT"]))
    app.extensions["fazhi"] = IndexHolder(index_dir, embedder, verify=app.config["VERIFY_INDEX"],
                                            answer_cache=int(app.config["ANSWER_CACHE"]), backend=backend,
                                            answers_at_once=int(app.config["ANSWERS_AT_ONCE"]))
    if app.config["LLM_BASE_URL"] and app.config["LLM_MODEL"]:
        from service.generate import Generator

        app.extensions["fazhi_generator"] = Generator(
            app.config["LLM_BASE_URL"], app.config["LLM_MODEL"], float(app.config["LLM_TIMEOUT"])
        )

    from service import admin, api, views

    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(__import__("service.indicator_views", fromlist=["bp"]).bp)
    app.register_blueprint(__import__("service.checkup_views", fromlist=["bp"]).bp)
    app.register_blueprint(__import__("service.compare_views", fromlist=["bp"]).bp)
    app.register_blueprint(__import__("service.peer_views", fromlist=["bp"]).bp)

    @app.before_request
    def _pick_up_new_index():
        try:
            app.extensions["fazhi"].maybe_reload()
        except IndexerError as error:
            log.error("Keeping the index in service: %s", error)

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        return _error(error.status, error.code, error.message)

    from indexer.seekdb.engine import EngineUnavailable

    @app.errorhandler(EngineUnavailable)
    def _engine_down(error: EngineUnavailable):
        log.error("%s", error)
        return _error(503, "backend_unavailable", str(error))

    @app.errorhandler(IndexerError)
    def _indexer_error(error: IndexerError):
        return _error(400, "indexer_error", str(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code == 404 and _wants_page():
            return views.not_found_page("这个地址没有页面。")
        messages = {
            404: "There is no page or endpoint at this address.",
            405: "This endpoint does not accept that HTTP method.",
            413: "The upload is larger than the service accepts.",
        }
        message = messages.get(error.code or 500, error.description or error.name)
        return _error(error.code or 500, error.name.lower().replace(" ", "_"), message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("Unexpected error")
        return _error(500, "internal_error", "The service failed to answer this request; the error was logged.")

    return app
