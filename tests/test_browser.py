"""The pages in real headless Chromium against the real service, started as a process over HTTP."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
HOSTILE = "<img src=x onerror=alert(1)>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                                      "(`make browser` or `apt-get install chromium` installs it)."),
]


def _get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(built_index, tmp_path_factory):
    """`python -m service` over the session's index on a free loopback port; its base URL."""
    port = free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "--index", str(built_index), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            log.close()
            pytest.fail(f"The service exited with {process.returncode}: {Path(log.name).read_text()[-2000:]}")
        try:
            _get(f"{base}/healthz")
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("The service did not answer /healthz within 60 s.")
            time.sleep(0.2)
    print(f"\nservice up in {time.monotonic() - deadline + 60:.1f} s")
    try:
        # One question first, so lazy loading inside the service is not what the timing measures.
        _post_json(f"{base}/api/ask", {"question": "法治政府建设"})
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)  # a service that hangs must not outlive the tests
        process.wait()
        log.close()
        raise
    yield base
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        # gunicorn takes about 7 s to stop gracefully; the group is only this server and its worker.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, server):
    """A fresh page at 1280x900 that records dialogs and script errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server,
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.dialogs = []
    page.errors = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _ask(page, question: str) -> None:
    """Type the question, press Enter, wait for the answer (or its error) to be shown."""
    page.fill("#q", question)
    page.press("#q", "Enter")
    page.wait_for_selector("#answer[data-state=done], #answer[data-state=error]", state="attached")


def test_which_question_lists_exactly_the_places(page, tmp_path):
    page.goto("/")
    page.wait_for_selector("#facet-groups .facet")
    # How fast the answer is painted is bench/'s to measure; here: Enter alone paints it, once.
    page.evaluate("""() => document.getElementById('q').addEventListener('keydown', (event) => {
        if (event.key === 'Enter') window.enterPressedAt = performance.now();
    }, { capture: true, once: true })""")
    _ask(page, "哪些地方推行“容缺受理”?")
    assert page.get_attribute("#answer", "data-state") == "done"
    page.wait_for_selector("#answer[data-painted-at]", state="attached")
    assert page.evaluate("document.getElementById('answer').dataset.paintedAt - window.enterPressedAt") > 0

    places = page.locator("#answer .place .place-name").all_text_contents()
    assert sorted(places) == sorted(["粤海街道", "坦洲镇"])
    assert page.locator("#answer .kind").text_content() == "地方列表"
    marked = page.locator("#answer .quote mark").all_text_contents()
    assert "容缺受理" in marked
    assert page.locator("#passage-list .passage").count() > 0
    assert page.locator("#passage-list .passage mark").count() > 0
    csv = page.get_attribute("#answer a.button[download]", "href")
    assert csv.startswith("/api/ask.csv?question=")
    assert page.errors == []

    page.locator("#q").blur()
    page.wait_for_selector("#facet-note:text('相关段落')")
    page.set_viewport_size({"width": 1280, "height": 1060})
    page.evaluate("window.scrollTo(0, 0)")
    screenshot = tmp_path / "screenshot-answer.png"  # not docs/: a test run must not change tracked files
    page.screenshot(path=str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_citation_opens_the_report_with_the_sentence_highlighted_in_view(page):
    page.goto("/?q=" + "哪些地方推行“容缺受理”?")
    page.wait_for_selector("#answer[data-state=done] .quote")
    quote = page.locator("#answer .quote blockquote").first.text_content()
    page.locator("#answer .quote a.open").first.click()
    page.wait_for_selector("mark#hl")
    match = re.search(r"#q-(\d+)-(\d+)$", page.url)
    assert match, page.url
    start = int(match.group(1))
    highlighted = page.locator("mark#hl").text_content()
    assert quote in highlighted
    # The mark sits at the cited offset of the published text.
    offset = page.evaluate("""() => {
        const range = document.createRange();
        range.setStart(document.querySelector('#report-text .text-body'), 0);
        range.setEndBefore(document.getElementById('hl'));
        return range.toString().length;
    }""")
    assert offset == start
    in_view = page.evaluate("""() => {
        const box = document.getElementById('hl').getBoundingClientRect();
        return box.top >= 0 && box.top < window.innerHeight && box.bottom > 0;
    }""")
    assert in_view
    assert page.locator("#outline a").count() > 5
    assert page.locator("#report-text .anchor").count() == page.locator("#outline a").count()
    assert page.errors == []


def test_passage_link_highlights_the_passage(page):
    page.goto("/?q=" + "商圈微法庭")
    page.wait_for_selector("#passage-list .passage")
    passage = page.locator("#passage-list .passage-text").first.text_content()
    page.locator("#passage-list .passage a.issuer").first.click()
    page.wait_for_selector("mark#hl.hl-passage")
    assert page.locator("mark#hl").text_content() == passage


def test_chat_follow_up_is_resolved_and_cited(page):
    page.goto("/")
    page.click("#tab-chat")
    page.fill("#chat-input", "哪些地方推行简案快办？")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#t1 .answer-bubble[data-state=done]")
    assert "坦洲镇" in page.locator("#t1 .answer-text").text_content()
    page.fill("#chat-input", "坦洲镇办了多少宗？")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#t2 .answer-bubble[data-state=done]")
    answer = page.locator("#t2 .answer-text").text_content()
    assert "37宗" in answer
    assert "[1]" in answer and page.locator("#t2-c1").count() == 1
    assert page.locator("#t2 .resolved").text_content().startswith("已理解为：")

    page.locator("#t2-c1 button.copy").click()
    page.wait_for_selector("#t2-c1 button.copy.done")
    copied = page.evaluate("navigator.clipboard.readText()")
    quote = page.locator("#t2-c1 blockquote").text_content()
    # No title line and an id for a file name: the title named from the text, marked so.
    assert copied.startswith(f"“{quote}”（来源：《坦洲镇2023年法治政府建设年度报告》（据正文拟）一、工作开展情况 ")
    assert copied.endswith("）")
    assert page.errors == []


def test_hostile_text_never_becomes_markup(page):
    page.goto("/")
    _ask(page, HOSTILE)
    page.click("#tab-chat")
    page.fill("#chat-input", HOSTILE)
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#t1 .answer-bubble[data-state=done]")
    assert page.locator("#t1 .question-bubble").text_content() == HOSTILE
    page.goto("/?q=" + urllib.parse.quote(HOSTILE))
    page.wait_for_selector("#answer[data-state=done], #answer[data-state=error]", state="attached")
    page.wait_for_timeout(200)
    assert page.locator("img").count() == 0
    page.goto("/reports/" + urllib.parse.quote(HOSTILE))
    assert "页面不存在" in page.locator("h1").text_content()
    assert page.locator("img").count() == 0
    assert page.dialogs == []


def test_too_long_question_gets_a_chinese_sentence(page):
    page.goto("/")
    _ask(page, "法" * 501)
    status = page.locator("#status").text_content()
    assert "问题太长了" in status and "501" in status
    assert page.locator("#q-count").is_visible()


def test_phone_width_stacks_the_layout(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server)
    page = context.new_page()
    page.goto("/?q=" + "哪些街道设立了商圈微法庭？")
    page.wait_for_selector("#answer[data-state=done] .place")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways at phone width"
    facets = page.locator("#facets").bounding_box()
    answer = page.locator("#answer").bounding_box()
    assert facets["y"] > answer["y"]
    context.close()


def test_choosing_a_facet_re_asks_with_the_filter(page):
    page.goto("/?q=" + "哪些地方推行“容缺受理”?")
    page.wait_for_selector("#answer[data-state=done] .place")
    page.wait_for_selector("#facet-note:text('相关段落')")
    with page.expect_request(lambda r: r.url.endswith("/api/ask") and "filters" in (r.post_data or "")) as request:
        page.locator("#facet-groups .facet", has_text="街道").first.click()
    assert request.value.post_data_json["filters"] == {"level": "街道"}
    page.wait_for_selector("#answer[data-state=done]")
    expect(page.locator("#answer .place")).to_have_count(1)
    assert page.locator("#answer .place .place-name").all_text_contents() == ["粤海街道"]
    assert page.locator("#active-filters").is_visible()
    assert "level=%E8%A1%97%E9%81%93" in page.url


def test_the_task_area_facet_filters_the_passages(page):
    page.goto("/?q=" + "行政执法")
    page.wait_for_selector("#facet-groups .facet-group[data-field=area] .facet")
    with page.expect_request(lambda r: "/api/search" in r.url and "area=" in r.url) as request:
        page.locator("[data-field=area] .facet", has_text="行政执法工作体系").first.click()
    assert "area=%E8%A1%8C%E6%94%BF%E6%89%A7%E6%B3%95" in request.value.url
    page.wait_for_selector("#active-filters:has-text('任务领域')")
    expect(page.locator("[data-field=area] .facet")).to_have_count(1)
    assert "area=" in page.url
    assert not page.errors


def test_facets_list_values_with_hits_most_frequent_first_and_fold_the_rest(page):
    page.goto("/")
    region = page.locator("#facet-groups .facet-group[data-field=region]")
    region.locator(".facet").first.wait_for()
    shown = region.locator(":scope > .facet-list > .facet")
    folded = region.locator("details.facet-more .facet")
    assert shown.count() == 8 and folded.count() > 0
    summary = region.locator("details.facet-more > summary")
    assert summary.text_content() == f"更多（{folded.count()}）"
    assert not folded.first.is_visible()
    summary.click()
    page.wait_for_selector("[data-field=region] details.facet-more[open] > summary:text-is('收起')")
    assert folded.first.is_visible()
    page.fill("#q", "商圈微法庭")
    page.press("#q", "Enter")
    page.wait_for_selector("#facet-note:text('相关段落')")
    assert page.locator("#facet-groups .facet.zero").count() == 0
    for group in page.locator("#facet-groups .facet-group:not([data-field=region])").all():
        counts = [int(c) for c in group.locator(".facet-count").all_text_contents()]
        assert counts == sorted(counts, reverse=True) and all(counts)
    assert page.errors == []


def test_indicator_chart_has_one_bar_per_place_stating_the_chosen_indicator(page, server):
    figures = json.loads(_get(f"{server}/api/indicators", timeout=30))["indicators"]
    places: dict[str, dict[str, dict]] = {}  # indicator -> doc_id -> its first figure (what the bar shows)
    for figure in figures:
        places.setdefault(figure["name"], {}).setdefault(figure["doc_id"], figure)
    page.goto("/indicators")
    chart = page.locator("figure.indicator-chart:not(.indicator-profile):not(.indicator-line) svg")
    chart.wait_for()
    default = page.locator("select[name=chart]").input_value()
    # Choose, through the form, an indicator that several places state and that is not the default.
    chosen = max((name for name in places if name != default), key=lambda name: len(places[name]))
    assert len(places[chosen]) >= 2, places
    page.select_option("select[name=chart]", chosen)
    page.locator("form:has(select[name=chart]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"chart="))
    assert page.locator("select[name=chart]").input_value() == chosen
    chart.wait_for()
    assert chosen in chart.locator("title").first.text_content()

    expected = sorted(places[chosen].values(), key=lambda f: -f["number"])
    bars = chart.locator("rect.bar")
    assert bars.count() == len(expected)
    tips = [t.split("：", 1) for t in chart.locator("rect.bar > title").all_text_contents()]
    assert [text for _, text in tips] == [f"{f['value']}{f['unit']}" for f in expected]
    for (label, _), figure in zip(tips, expected):
        assert label.startswith(figure["issuer"] or figure["doc_id"])
    links = chart.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links == [f["url"] for f in expected]
    widths = [float(w) for w in bars.evaluate_all("rects => rects.map(r => r.getAttribute('width'))")]
    assert widths == sorted(widths, reverse=True) and widths[0] > 0
    if expected[-1]["number"] > 0:  # bars are drawn to scale against the largest value
        ratio = widths[-1] / widths[0]
        assert abs(ratio - expected[-1]["number"] / expected[0]["number"]) < 0.02
    assert page.errors == []
