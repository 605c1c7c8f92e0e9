"""Fetching and crawling reports from portals: a fixture site served on 127.0.0.1 by the tests."""
from __future__ import annotations

import argparse
import hashlib
import io
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from indexer.crawl import add_commands, build_parser, read_url_list, run
from indexer.crawl.client import ClientSettings, PoliteClient, Validators
from indexer.crawl.crawling import LISTED, CrawlLimits, crawl_listing
from indexer.crawl.dates import labelled_date
from indexer.crawl.fetching import (
    FETCHED,
    NOT_MODIFIED,
    SKIPPED,
    fetch_report,
    is_report,
    url_doc_id,
)
from indexer.crawl.listing import read_listing
from indexer.crawl.pages import decode_html, parse_html, read_article
from indexer.crawl.state import STATE_FILE, CrawlState
from indexer.errors import FetchError, IndexerError
from indexer.store import read_current

SITE = Path(__file__).resolve().parent / "data" / "site"
SLOW_SECONDS = 1.2
TIMEOUT = 0.3
LAST_MODIFIED = "Thu, 28 Mar 2024 01:30:00 GMT"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
CHROME = ("版权所有", "ICP备", "当前位置", "打印本页", "关闭窗口", "设为首页", "热点专题", "大 中 小", "分享到", "相关文章")


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


JIANONG = [
    "嘉农镇2023年法治政府建设年度报告",
    "2023年，嘉农镇认真贯彻落实上级关于法治政府建设的决策部署，现将有关情况报告如下。",
    "一、主要工作",
    "（一）推进基层依法治理。全镇建成“法治小院”5个，调处矛盾纠纷93件。",
    "（二）规范行政执法。全年开展执法人员培训4次，行政执法案卷评查合格率100%。",
    "二、下一步工作",
    "持续开展“法律明白人”培养工程。",
]
ZHENXI = [
    "轸溪乡2023年法治政府建设年度报告",
    "一、主要举措",
    "（一）落实重大行政决策程序。全乡重大行政决策事项全部经过合法性审查。",
    "二、存在的问题",
    "乡村两级法治宣传阵地建设仍不均衡。",
]


@dataclass
class Site:
    """The fixture portal: static pages from tests/data/site plus the handlers of hostile cases."""

    base: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    log: list[tuple[str, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self) -> Counter:
        with self.lock:
            return Counter(path for path, _headers in self.log)

    def headers_of(self, path: str) -> list[dict]:
        with self.lock:
            return [headers for p, headers in self.log if p == path]


def _page(title: str, body: str, extra_head: str = "", charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title>{extra_head}</head>'
            f'<body><div class="nav"><a href="/">首页</a></div><div class="content">{body}</div>'
            '<div class="footer">版权所有：沙湾区人民政府办公室</div></body></html>')


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args):  # keep the test output clean
            pass

        def do_GET(self):
            path = self.path
            with site.lock:
                site.log.append((urlsplit(path).path, dict(self.headers.items())))
            route = urlsplit(path).path
            if route == "/robots.txt":
                return self._send(200, ROBOTS, "text/plain")
            if route == "/old/art_0999.html":
                return self._redirect(301, "/art/2024/4/3/art_1006.html")
            if route == "/hostile/redirect-a":
                return self._redirect(302, "/hostile/redirect-b")
            if route == "/hostile/redirect-b":
                return self._redirect(302, "/hostile/redirect-a")
            if route == "/hostile/offsite":
                return self._redirect(302, "http://www.other-portal.gov.cn/report.html")
            if route == "/art/2024/4/6/slow.html":
                time.sleep(SLOW_SECONDS)
                return self._send(200, _page("牛华镇报告", "<p>太迟了</p>").encode(), "text/html")
            if route == "/flaky.html":
                if site.hits()["/flaky.html"] <= 2:
                    return self._send(503, b"busy", "text/plain")
                return self._static("art/2024/4/3/art_1006.html")
            if route == "/hostile/huge.html":
                return self._huge()
            if route == "/hostile/drip.html":
                return self._drip()
            if route.startswith("/hostile/loop/"):
                n = int(route.rsplit("_", 1)[-1].split(".")[0]) if "_" in route else 0
                body = _page(f"第{n}页", f'<ul class="list"><li><a href="/art/{n}.html">沙湾区法治政府建设年度报告第{n}篇</a></li></ul>'
                             f'<div class="page"><a href="index_{n + 1}.html">下一页</a></div>')
                return self._send(200, body.encode(), "text/html")
            if route == "/hostile/scripted.html":
                body = "<html><head><title>x</title></head><body><script>document.write('法治政府建设年度报告')</script></body></html>"
                return self._send(200, body.encode(), "text/html")
            if route == "/hostile/binary.html":
                return self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "text/html")
            if route == "/hostile/wrong-charset.html":
                data = (SITE / "art/2024/3/29/art_1002.html").read_bytes().replace(b"charset=gb2312", b"charset=utf-8")
                return self._send(200, data, "text/html; charset=utf-8")
            if route == "/hostile/utf8-declared-gbk.html":
                text = (SITE / "art/2024/3/28/art_1001.html").read_text(encoding="utf-8")
                return self._send(200, text.replace("charset=utf-8", "charset=gb2312").encode("utf-8"),
                                  "text/html; charset=gbk")
            if route == "/hostile/malformed.html":
                body = ("<html><head><title>沙湾区2022年法治政府建设年度报告</title><body><div class=content><p>一、主要举措"
                        "<p>（一）深化“放管服”改革。全年办理事项<b>1260件<i>，网上可办率98%。</div></span></td>"
                        "<p>二、存在的问题<table><tr><td>基层执法力量薄弱。<<<>>&&&;<!-- 未闭合注释")
                return self._send(200, body.encode("utf-8"), "text/html")
            if route in site.files:
                data, kind = site.files[route]
                return self._send(200, data, kind, validators=True)
            return self._static(route.lstrip("/"))

        def _static(self, relative: str):
            file = (SITE / relative).resolve()
            if not file.is_file() or not file.is_relative_to(SITE):
                return self._send(404, _page("404", "<p>您访问的页面不存在</p>").encode(), "text/html")
            return self._send(200, file.read_bytes(), "text/html", validators=True)

        def _send(self, status: int, data: bytes, kind: str, validators: bool = False):
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            if validators and status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            if validators:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _redirect(self, status: int, location: str):
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _huge(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")  # no Content-Length: only the cap stops it
            self.send_header("Connection", "close")
            self.end_headers()
            block = "<p>沙湾区法治政府建设年度报告填充内容。</p>".encode() * 2000
            try:
                for _ in range(100):  # ~10 MB
                    self.wfile.write(block)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def _drip(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(40):  # a byte every 0.1 s: never a read timeout, only the deadline
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


@pytest.fixture()
def site():
    """The fixture portal on an ephemeral loopback port, with its .docx attachments built here."""
    portal = Site()
    portal.files["/files/jianong-2023.docx"] = (_docx(JIANONG), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    portal.files["/files/zhenxi-2023.docx"] = (_docx(ZHENXI), "application/octet-stream")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(portal))
    server.daemon_threads = True
    portal.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield portal
    server.shutdown()
    server.server_close()
    thread.join(5)


SETTINGS = ClientSettings(timeout=TIMEOUT, deadline=1.0, delay=0.0, retries=1, backoff=0.01, max_bytes=1024 * 1024)


@pytest.fixture()
def client(site):
    with PoliteClient([site.base], SETTINGS) as polite:
        yield polite


def _only_loopback(client: PoliteClient, site: Site) -> None:
    assert client.requested and all(url.startswith(site.base + "/") for url in client.requested)


# ---------------------------------------------------------------- pages


def test_article_page_loses_its_chrome_and_keeps_title_date_and_outline():
    page = read_article((SITE / "art/2024/3/28/art_1001.html").read_bytes(), "http://x.gov.cn/art_1001.html")
    assert page.title == "沙湾区2023年法治政府建设年度报告"
    assert page.published == "2024-03-28"
    assert page.attachments == ()
    text = page.report_text()
    lines = text.splitlines()
    assert lines[0] == page.title
    assert "一、主要举措和成效" in lines and "三、下一步工作安排" in lines
    assert "（二）推进严格规范公正文明执法。设立商圈微法庭3个，化解涉企纠纷215宗，行政复议纠错率为12%。" in lines
    for debris in CHROME + ("来源：", "发布时间", "浏览次数"):
        assert debris not in text, debris


def test_gbk_table_layout_page_is_decoded_and_its_body_found():
    data = (SITE / "art/2024/3/29/art_1002.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    page = read_article(data, "http://x.gov.cn/art_1002.html")
    assert page.encoding == "gb18030"
    assert page.title == "沙湾区司法局2023年法治政府建设年度报告"
    assert page.published == "2024-03-29"  # 发布日期：2024年3月29日
    text = page.report_text()
    assert "（一）加强行政复议工作。全年受理行政复议案件86件，审结82件，纠错率为9.8%。" in text.splitlines()
    assert "|" not in text  # the layout table is not kept as a table
    for debris in CHROME + ("您现在的位置", "信息来源"):
        assert debris not in text, debris


def test_cover_page_points_at_its_attachment():
    page = read_article((SITE / "art/2024/3/30/art_1003.html").read_bytes(), "http://x.gov.cn/art/2024/3/30/art_1003.html")
    assert page.is_cover_page
    assert page.attachments == ("http://x.gov.cn/files/jianong-2023.docx",)
    assert page.published == "2024-03-30"  # 日期：2024-03-30


@pytest.mark.parametrize("data, declared, codec", [
    ("沙湾区法治政府建设年度报告".encode("gbk"), "utf-8", "gb18030"),  # declared wrong: GBK bytes
    ("沙湾区法治政府建设年度报告".encode(), "gb2312", "utf-8"),  # declared wrong: UTF-8 bytes
    (b'<meta charset="gbk">' + "沙湾区人民政府".encode("gbk"), "", "gb18030"),  # only the meta says
    ("政府".encode("big5") * 5, "", "big5"),  # undeclared Traditional
])
def test_decoding_trusts_the_bytes_before_a_wrong_declaration(data, declared, codec):
    text, used = decode_html(data, "page.html", declared)
    assert used == codec
    assert "政府" in text


@pytest.mark.parametrize("data, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image"),
    (b"<html>\x00\x01\x02\x03</html>", "NUL bytes"),
    (bytes(range(128, 256)) * 20, "could not be decoded"),
])
def test_binary_served_as_a_page_is_refused_with_a_sentence(data, words):
    from indexer.errors import UnreadableSource

    with pytest.raises(UnreadableSource) as caught:
        decode_html(data, "page.html", "utf-8")
    assert words in caught.value.reason and caught.value.reason.endswith(".")


@pytest.mark.parametrize("text, date", [
    ("发布时间：2024-03-28 09:30 来源：司法局", "2024-03-28"),
    ("发布日期：2024年3月29日", "2024-03-29"),
    ("日期:2024/4/1　来源：镇政府", "2024-04-01"),
    ("成文日期：2024-03-20　发布日期：2024-03-25", "2024-03-25"),  # 发布 outranks 成文
    ("发布时间：2024-02-30", ""),  # no such day
    ("2023年，全区办理案件2024件", ""),  # no label, no date
])
def test_labelled_publication_dates(text, date):
    assert labelled_date(text) == date


@pytest.mark.parametrize("title, text, expected", [
    ("沙湾区2023年法治政府建设年度报告", "", True),
    ("关于2023年度法治政府建设情况的报告", "", True),
    ("XX市司法局2023年度依法行政工作报告", "", True),
    ("区领导带队调研重点项目建设工作", "4月1日，区领导带队深入重点项目建设现场。", False),
    ("", "沙湾区2023年法治政府建设年度报告\n一、主要举措", True),  # a file: its first line decides
    ("2023年度政府信息公开工作年度报告", "", False),
])
def test_what_counts_as_a_report(title, text, expected):
    assert is_report(title, text) is expected


# ---------------------------------------------------------------- listings


def _listing(name: str, url: str):
    return read_listing(parse_html((SITE / name).read_text(encoding="utf-8"), name), url)


def test_listing_gives_its_list_links_with_dates_and_its_pagination():
    listing = _listing("fzzfjs/index.html", "http://x.gov.cn/fzzfjs/index.html")
    assert [(link.url, link.date) for link in listing.links] == [
        ("http://x.gov.cn/art/2024/3/28/art_1001.html", "2024-03-28"),
        ("http://x.gov.cn/art/2024/3/29/art_1002.html", "2024-03-29"),
        ("http://www.other-portal.gov.cn/art/2024/3/1/art_9.html", "2024-03-01"),
    ]
    assert listing.links[0].text == "沙湾区2023年法治政府建设年度报告"
    # createPageHTML(3, 0, "index", "html") and the 下一页/尾页 links name the same two pages.
    assert listing.next_pages == ("http://x.gov.cn/fzzfjs/index_1.html", "http://x.gov.cn/fzzfjs/index_2.html")


def test_listing_refuses_script_and_mail_links_with_sentences():
    listing = _listing("fzzfjs/index_1.html", "http://x.gov.cn/fzzfjs/index_1.html")
    assert len(listing.links) == 6
    assert dict(listing.refused) == {
        "javascript:void(0)": "is a script link (javascript:), not the address of a page.",
        "mailto:fzb@shawan.gov.cn": "is an e-mail address or a phone number, not the address of a page.",
    }


@pytest.mark.parametrize("markup, pages", [
    ('<div class="pagination"><a href="?page=2">2</a><a href="?page=3">3</a></div>',
     ["http://x.gov.cn/col/list?page=2", "http://x.gov.cn/col/list?page=3"]),
    ("<script>createPageHTML('page_div', 4, 1, 'list', 'shtml', 60);</script>",
     ["http://x.gov.cn/col/list_1.shtml", "http://x.gov.cn/col/list_2.shtml", "http://x.gov.cn/col/list_3.shtml"]),
    ('<a href="/col/list_2.html">下一页</a><a href="/zwgk/">首页</a>', ["http://x.gov.cn/col/list_2.html"]),
])
def test_pagination_patterns(markup, pages):
    root = parse_html(f"<html><body>{markup}</body></html>", "list")
    assert list(read_listing(root, "http://x.gov.cn/col/list").next_pages) == pages


def test_a_list_split_into_blocks_is_one_list_and_script_links_that_open_a_page_are_followed():
    items = "".join(f'<li><a href="/art/{i}.html">第{i}篇法治政府建设年度报告</a></li>' for i in range(4))
    markup = (f'<div class="nav"><ul><li><a href="/a">走进沙湾区人民政府</a></li></ul></div>'
              f'<div class="list"><ul class="l">{items[:len(items) // 2]}</ul><ul class="l">{items[len(items) // 2:]}</ul>'
              '<ul class="l"><li><a href="javascript:window.open(\'/art/9.html\')">第9篇法治政府建设年度报告</a></li></ul></div>')
    listing = read_listing(parse_html(f"<html><body>{markup}</body></html>", "l"), "http://x.gov.cn/col/")
    assert [link.url for link in listing.links] == [f"http://x.gov.cn/art/{i}.html" for i in (0, 1, 2, 3, 9)]


# ---------------------------------------------------------------- the polite client


def test_other_hosts_are_refused_before_any_request(client, site):
    for url in ("http://www.other-portal.gov.cn/report.html", "https://127.0.0.2/x.html", "ftp://127.0.0.1/x"):
        with pytest.raises(FetchError) as caught:
            client.get(url)
        assert caught.value.reason.endswith(".")
    assert client.requested == []
    assert "another host" in str(pytest.raises(FetchError, client.get, "http://www.other-portal.gov.cn/").value)


def test_robots_txt_is_read_once_and_obeyed(client, site):
    with pytest.raises(FetchError, match="disallowed for crawlers by the robots.txt"):
        client.get(site.url("/private/art_1005.html"))
    client.get(site.url("/fzzfjs/index.html"))
    hits = site.hits()
    assert hits["/robots.txt"] == 1 and hits["/private/art_1005.html"] == 0


def test_redirects_are_followed_on_the_host_and_loops_and_offsite_hops_refused(client, site):
    fetched = client.get(site.url("/old/art_0999.html"))
    assert fetched.status == 200 and fetched.final_url == site.url("/art/2024/4/3/art_1006.html")
    with pytest.raises(FetchError, match="redirects in a loop"):
        client.get(site.url("/hostile/redirect-a"))
    with pytest.raises(FetchError, match="another host"):
        client.get(site.url("/hostile/offsite"))
    _only_loopback(client, site)


def test_404_is_a_sentence_not_a_retry(client, site):
    with pytest.raises(FetchError) as caught:
        client.get(site.url("/art/2024/4/5/art_0404.html"))
    assert caught.value.reason == "does not exist (HTTP 404)."
    assert site.hits()["/art/2024/4/5/art_0404.html"] == 1


def test_a_slow_page_times_out_after_its_retries(client, site):
    started = time.monotonic()
    with pytest.raises(FetchError, match=f"did not answer within {TIMEOUT:g} seconds, 2 times in a row"):
        client.get(site.url("/art/2024/4/6/slow.html"))
    assert time.monotonic() - started < 2 * SLOW_SECONDS
    assert site.hits()["/art/2024/4/6/slow.html"] == 2


def test_server_errors_are_retried_with_backoff(site):
    waits = []
    settings = ClientSettings(timeout=TIMEOUT, delay=0.0, retries=2, backoff=0.01)
    with PoliteClient([site.base], settings, sleep=lambda s: (waits.append(s), time.sleep(s))) as polite:
        fetched = polite.get(site.url("/flaky.html"))
    assert fetched.status == 200 and b"article-body" in fetched.content
    assert site.hits()["/flaky.html"] == 3
    assert waits == [0.01, 0.02]  # exponential


def test_requests_to_one_host_are_paced(site):
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds

    settings = ClientSettings(timeout=TIMEOUT, delay=2.0)
    with PoliteClient([site.base], settings, sleep=sleep, clock=lambda: now[0]) as polite:
        polite.get(site.url("/fzzfjs/index.html"))
        polite.get(site.url("/fzzfjs/index_1.html"))
    # robots.txt, then the first page 2 s later, then the second 2 s after that.
    assert slept == [2.0, 2.0]


def test_byte_cap_and_deadline_stop_hostile_bodies(client, site):
    with pytest.raises(FetchError, match="larger than the 1 MB read from one address"):
        client.get(site.url("/hostile/huge.html"))
    with pytest.raises(FetchError, match="took more than 1 seconds to send"):
        client.get(site.url("/hostile/drip.html"))


def test_conditional_get_costs_a_304(client, site):
    first = client.get(site.url("/art/2024/3/28/art_1001.html"))
    assert first.validators.etag and first.validators.last_modified == LAST_MODIFIED
    again = client.get(site.url("/art/2024/3/28/art_1001.html"), first.validators)
    assert again.not_modified and again.content == b""
    assert site.headers_of("/art/2024/3/28/art_1001.html")[-1]["If-None-Match"] == first.validators.etag
    assert not client.get(site.url("/art/2024/3/28/art_1001.html"), Validators('"stale"')).not_modified


# ---------------------------------------------------------------- fetching one URL


def test_fetch_an_article_page(client, site, tmp_path):
    url = site.url("/art/2024/3/28/art_1001.html")
    outcome = fetch_report(client, url, CrawlState.load(tmp_path))
    assert outcome.status == FETCHED, outcome.reason
    assert outcome.doc_id == url_doc_id(url) and outcome.doc_id.startswith("art_1001_")
    source = outcome.source
    assert source.format == "html" and source.path == url
    assert (source.hints.source_url, source.hints.page_title, source.hints.published) == (
        url, "沙湾区2023年法治政府建设年度报告", "2024-03-28")
    assert "设立商圈微法庭3个" in source.text and "ICP备" not in source.text


def test_fetch_a_cover_page_reads_its_attachment_with_the_pages_hints(client, site, tmp_path):
    url = site.url("/art/2024/3/30/art_1003.html")
    outcome = fetch_report(client, url, CrawlState.load(tmp_path))
    assert outcome.status == FETCHED, outcome.reason
    source = outcome.source
    assert source.format == "docx" and source.path == site.url("/files/jianong-2023.docx")
    assert source.text.splitlines() == JIANONG
    assert (source.hints.source_url, source.hints.page_title, source.hints.published) == (
        url, "嘉农镇2023年法治政府建设年度报告", "2024-03-30")
    assert {u for u, _ in outcome.remember} == {url, site.url("/files/jianong-2023.docx")}


def test_fetch_a_direct_attachment_served_as_octet_stream(client, site, tmp_path):
    outcome = fetch_report(client, site.url("/files/zhenxi-2023.docx"), CrawlState.load(tmp_path))
    assert outcome.status == FETCHED, outcome.reason
    assert outcome.source.format == "docx" and outcome.source.hints.source_url == site.url("/files/zhenxi-2023.docx")


@pytest.mark.parametrize("path, words", [
    ("/art/2024/4/1/art_1004.html", "it is not a rule-of-law report: 「区领导带队调研重点项目建设工作」"),
    ("/art/2024/4/5/art_0404.html", "does not exist (HTTP 404)."),
    ("/art/2024/4/6/slow.html", "did not answer within"),
    ("/private/art_1005.html", "robots.txt"),
    ("/hostile/binary.html", "it is served as text/html but is a PNG image, not a web page."),
    ("/hostile/redirect-a", "redirects in a loop"),
    ("/hostile/huge.html", "larger than the 1 MB"),
    ("/hostile/scripted.html", "the page shows no text to index (it may be drawn by scripts)."),
])
def test_fetch_skips_with_a_sentence(client, site, tmp_path, path, words):
    outcome = fetch_report(client, site.url(path), CrawlState.load(tmp_path))
    assert outcome.status == SKIPPED and words in outcome.reason
    assert outcome.reason.endswith(".") and outcome.source is None
    _only_loopback(client, site)


@pytest.mark.parametrize("path, phrase", [
    ("/hostile/wrong-charset.html", "纠错率为9.8%"),  # GBK bytes declared UTF-8
    ("/hostile/utf8-declared-gbk.html", "设立商圈微法庭3个"),  # UTF-8 bytes declared GBK
    ("/hostile/malformed.html", "网上可办率98%"),  # unclosed tags, stray end tags, a comment never closed
])
def test_fetch_reads_pages_that_lie_or_are_broken(client, site, tmp_path, path, phrase):
    outcome = fetch_report(client, site.url(path), CrawlState.load(tmp_path))
    assert outcome.status == FETCHED, outcome.reason
    assert phrase in outcome.source.text


def test_refetch_with_state_is_not_modified(client, site, tmp_path):
    state = CrawlState.load(tmp_path)
    url = site.url("/art/2024/3/28/art_1001.html")
    first = fetch_report(client, url, state)
    for remembered_url, entry in first.remember:
        state.record(remembered_url, entry)
    state.save()
    second = fetch_report(client, url, CrawlState.load(tmp_path))
    assert second.status == NOT_MODIFIED and "HTTP 304" in second.reason and second.doc_id == first.doc_id
    assert fetch_report(client, url, CrawlState.load(tmp_path), conditional=False).status == FETCHED


# ---------------------------------------------------------------- crawling a listing


def test_crawl_walks_every_listing_page_once_and_fetches_each_article_once(client, site, tmp_path):
    walked = crawl_listing(client, site.url("/fzzfjs/index.html"), CrawlState.load(tmp_path))
    listed = {o.url: o.status for o in walked.listings}
    assert listed == {
        site.url("/fzzfjs/index.html"): LISTED,
        site.url("/fzzfjs/index_1.html"): LISTED,
        site.url("/fzzfjs/index_2.html"): LISTED,
        site.url("/fzzfjs/index_2.html?page=1"): SKIPPED,  # the same page under another address
    }
    statuses = {urlsplit(o.url).path or o.url: o.status for o in walked.articles}
    assert statuses == {
        "/art/2024/3/28/art_1001.html": FETCHED,
        "/art/2024/3/29/art_1002.html": FETCHED,
        "/art/2024/3/1/art_9.html": SKIPPED,  # another host
        "/art/2024/3/30/art_1003.html": FETCHED,  # via its .docx
        "/art/2024/4/1/art_1004.html": SKIPPED,  # not a report
        "/private/art_1005.html": SKIPPED,  # robots.txt
        "/old/art_0999.html": FETCHED,  # redirected
        "/art/2024/4/5/art_0404.html": SKIPPED,
        "/art/2024/4/6/slow.html": SKIPPED,
        "/files/zhenxi-2023.docx": FETCHED,  # a direct attachment in the list
    }
    zhenxi = next(o for o in walked.articles if o.url.endswith("zhenxi-2023.docx"))
    assert zhenxi.source.hints.published == "2024-04-08"  # the date beside the link in the listing
    assert all(site.hits()[path] <= 2 for path in site.hits())  # nothing asked twice (slow: one retry)
    assert any("javascript:" in note and "script link" in note for note in walked.notes)
    assert any("mailto:" in note for note in walked.notes)
    _only_loopback(client, site)


def test_endless_pagination_stops_at_the_page_cap(client, site, tmp_path):
    walked = crawl_listing(client, site.url("/hostile/loop/index.html"), CrawlState.load(tmp_path),
                           CrawlLimits(max_pages=4, max_articles=1), reports_only=True)
    assert len(walked.listings) == 4
    assert any("stopped after 4 listing pages" in note for note in walked.notes)
    assert any("fetched the first 1 of 4 listed articles" in note for note in walked.notes)
    assert len(walked.articles) == 1


# ---------------------------------------------------------------- the commands


def _args(site: Site, index: Path, *argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["--index", str(index), *argv, "--delay", "0", "--timeout", str(TIMEOUT),
                                      "--retries", "0"])


def test_commands_register_on_the_indexer_parser_shape():
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default="var/index")
    parser.add_argument("--json", action="store_true")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["fetch", "http://a.gov.cn/1.html", "--index", "D", "--allow-host", "files.a.gov.cn"])
    assert (args.command, args.urls, args.index, args.allow_host, args.json) == (
        "fetch", ["http://a.gov.cn/1.html"], "D", ["files.a.gov.cn"], False)
    args = parser.parse_args(["--index", "E", "crawl", "http://a.gov.cn/col/index.html", "--max-pages", "3"])
    assert (args.command, args.listing_url, args.index, args.max_pages, args.refresh) == (
        "crawl", "http://a.gov.cn/col/index.html", "E", 3, False)


def test_url_list_file(tmp_path):
    listed = tmp_path / "urls.txt"
    listed.write_text("# 沙湾区\nhttp://a.gov.cn/1.html\n\n  http://a.gov.cn/2.docx  \n", encoding="utf-8")
    assert read_url_list(listed) == ["http://a.gov.cn/1.html", "http://a.gov.cn/2.docx"]


def test_bad_arguments_are_sentences(tmp_path, fake_embedder):
    with pytest.raises(IndexerError, match="not a web address"):
        run(build_parser().parse_args(["--index", str(tmp_path), "fetch", "corpus/x.html"]), fake_embedder)
    with pytest.raises(IndexerError, match="at least one URL"):
        run(build_parser().parse_args(["--index", str(tmp_path), "fetch"]), fake_embedder)


def test_crawl_then_recrawl_costs_304s_and_reindexes_nothing(site, tmp_path, fake_embedder):
    index = tmp_path / "index"
    summary = run(_args(site, index, "crawl", site.url("/fzzfjs/index.html")), fake_embedder)
    assert summary.count(FETCHED) == 5 and summary.build is not None and len(summary.build.added) == 5
    metas = {r["meta"]["source_url"]: r["meta"] for r in read_current(index).reports.values()}
    # The report's own closing date wins over the page's; a report silent on its date takes the page's.
    assert metas[site.url("/art/2024/3/28/art_1001.html")]["published"] == "2024-03-25"
    assert metas[site.url("/art/2024/3/29/art_1002.html")]["published"] == "2024-03-29"
    assert metas[site.url("/art/2024/3/30/art_1003.html")]["source_format"] == "docx"
    assert metas[site.url("/art/2024/4/3/art_1006.html")]["published"] == "2024-04-03"  # the redirect's target
    assert (index / STATE_FILE).is_file()
    lines = summary.lines()
    assert lines[0].startswith("crawl: 5 fetched, 0 not modified, 5 skipped from 4 listing pages")
    assert any(line.startswith(f"  skipped {site.url('/art/2024/4/1/art_1004.html')}: it is not a rule-of-law report")
               for line in lines)
    generation = read_current(index).path

    again = run(_args(site, index, "crawl", site.url("/fzzfjs/index.html")), fake_embedder)
    assert again.count(FETCHED) == 0 and again.build is None
    assert again.count(NOT_MODIFIED) == 6  # 5 reports and the non-report page
    assert "index unchanged: nothing new to add." in again.lines()
    assert read_current(index).path == generation
    assert site.headers_of("/art/2024/3/28/art_1001.html")[-1].get("If-None-Match")
    assert again.to_dict()["not_modified"] == 6


def test_fetch_command_with_a_list_file(site, tmp_path, fake_embedder):
    listed = tmp_path / "urls.txt"
    listed.write_text(f"{site.url('/art/2024/3/29/art_1002.html')}\n{site.url('/art/2024/4/1/art_1004.html')}\n")
    summary = run(_args(site, tmp_path / "index", "fetch", "--list", str(listed)), fake_embedder)
    assert [o.status for o in summary.outcomes] == [FETCHED, SKIPPED]
    data = summary.to_dict()
    assert data["fetched"] == 1 and data["build"]["added"][0]["doc_id"].startswith("art_1002_")


@pytest.mark.slow
def test_fetched_reports_are_searchable_with_their_source_and_date(site, tmp_path, embedder):
    """End to end with the real embedder: the page's URL and date reach the served report metadata."""
    from indexer.store import current_generation
    from service.search import Searcher

    index = tmp_path / "index"
    urls = [site.url("/art/2024/3/29/art_1002.html"), site.url("/art/2024/3/30/art_1003.html")]
    summary = run(_args(site, index, "fetch", *urls), embedder)
    assert [o.status for o in summary.outcomes] == [FETCHED, FETCHED]
    searcher = Searcher.load(current_generation(index), embedder)
    metas = {meta["source_url"]: meta for meta in searcher.reports.metas().values()}
    assert metas[urls[0]]["published"] == "2024-03-29" and metas[urls[0]]["title"] == "沙湾区司法局2023年法治政府建设年度报告"
    assert metas[urls[0]]["encoding"] == "gb18030"
    assert metas[urls[1]]["published"] == "2024-03-30" and metas[urls[1]]["source_format"] == "docx"
    hits = searcher.search("法治小院", k=1)
    assert hits and hits[0].chunk.doc_id == url_doc_id(urls[1])
    assert hits[0].meta["source_url"] == urls[1]


def test_the_indexer_command_line_fetches_and_prints_one_line_per_url(site, tmp_path, fake_embedder, capsys, monkeypatch):
    import indexer.__main__ as cli

    monkeypatch.setattr(cli, "_embedder", lambda name: fake_embedder)
    main = cli.main
    url = site.url("/art/2024/4/1/art_1004.html")
    assert main(["--index", str(tmp_path / "index"), "fetch", url, "--delay", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "fetch: 0 fetched, 0 not modified, 1 skipped"
    assert out[1].startswith(f"  skipped {url}: it is not a rule-of-law report")
    assert out[-1] == "index unchanged: nothing new to add."
    assert main(["--index", str(tmp_path / "index"), "fetch", "not-a-url"]) == 1
    assert "is not a web address" in capsys.readouterr().err
