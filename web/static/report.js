// A report as published: outline sidebar, section anchors, and the cited sentence highlighted.
import { el, fetchJson } from './common.js';

const root = document.getElementById('report-text');
const docId = root.dataset.docId;
let report = null;

/** Where each heading's visible text ends: the whole line, or its first clause when it runs on. */
function headingEnd(text, section) {
  const start = section.orig_start;
  const limit = Math.min(section.orig_end, text.length);
  let lineEnd = text.indexOf('\n', start);
  if (lineEnd < 0 || lineEnd > limit) lineEnd = limit;
  const budget = section.heading.length * 2 + 10;
  if (lineEnd - start <= budget) return lineEnd;
  const clause = text.slice(start, start + budget).search(/[,，。;；:：]/);
  return clause > 0 ? start + clause : start;
}

/** The [start, end) range and kind a fragment such as #q-968-1154 or #c-s1.2.2-1 points to. */
function target(hash) {
  let m = /^#q-(\d+)-(\d+)$/.exec(hash);
  if (m) return { start: Number(m[1]), end: Number(m[2]), kind: 'quote' };
  m = /^#c-(.+)-(\d+)$/.exec(hash);
  if (m) {
    const chunkId = `${docId}:${decodeURIComponent(m[1])}:${m[2]}`;
    const chunk = report.chunks.find((c) => c.chunk_id === chunkId);
    if (chunk) return { start: chunk.start, end: chunk.end, kind: 'passage' };
  }
  return null;
}

/** Append text[from, to) to container: text nodes, section anchors, headings and garbled spans. */
function renderRange(container, from, to, decorations) {
  const cuts = new Set([from, to]);
  for (const d of decorations) {
    for (const p of [d.start, d.end]) if (p > from && p < to) cuts.add(p);
    if (d.anchor && d.start >= from && d.start < to) cuts.add(d.start);
  }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i < points.length - 1; i += 1) {
    const a = points[i];
    const b = points[i + 1];
    for (const d of decorations) {
      if (d.anchor && d.start === a) container.append(el('span', { class: 'anchor', id: d.anchor }));
    }
    let node = document.createTextNode(report.text.slice(a, b));
    for (const d of decorations) {
      if (d.wrap && d.start <= a && b <= d.end) node = el(d.wrap, { class: d.class, title: d.title }, node);
    }
    container.append(node);
  }
}

function decorations() {
  const out = [];
  for (const s of report.outline) {
    out.push({ start: s.orig_start, end: s.orig_start, anchor: `sec-${s.section_id}` });
    const end = headingEnd(report.text, s);
    if (end > s.orig_start) out.push({ start: s.orig_start, end, wrap: 'strong', class: `heading level-${Math.min(s.level, 4)}` });
  }
  for (const p of report.problem_spans || []) {
    out.push({ start: p.start, end: p.end, wrap: 'span', class: 'garbled', title: '此处原文为乱码，未编入索引' });
  }
  return out;
}

/** Rebuild the text, with the target range (if any) as one <mark id="hl">. */
function render(range) {
  const decos = decorations();
  const text = report.text;
  const body = el('div', { class: 'text-body' });
  if (range && range.start >= 0 && range.end <= text.length && range.end > range.start) {
    renderRange(body, 0, range.start, decos);
    const mark = el('mark', { id: 'hl', class: `hl hl-${range.kind}`, tabindex: '-1' });
    renderRange(mark, range.start, range.end, decos);
    body.append(mark);
    renderRange(body, range.end, text.length, decos);
  } else {
    renderRange(body, 0, text.length, decos);
  }
  root.replaceChildren(body);
  const note = document.getElementById('locate-note');
  const mark = document.getElementById('hl');
  if (mark) {
    note.hidden = false;
    note.replaceChildren(
      el('span', { text: range.kind === 'quote' ? '已定位到引用的原句（黄色高亮）。' : '已定位到检索到的段落（高亮）。' }),
      el('button', { type: 'button', class: 'link', text: '回到高亮处', onclick: () => reveal() }));
    reveal();
  } else {
    note.hidden = true;
  }
}

function reveal() {
  const mark = document.getElementById('hl');
  if (!mark) return;
  mark.scrollIntoView({ block: 'center' });
  mark.focus({ preventScroll: true });
}

function renderOutline() {
  const nav = document.getElementById('outline');
  if (!report.outline.length) {
    nav.replaceChildren(el('p', { class: 'muted', text: '这份报告没有识别出章节。' }));
    return;
  }
  nav.replaceChildren(el('ol', {}, report.outline.map((s) => el('li', { class: `level-${Math.min(s.level, 4)}` },
    el('a', { href: `#sec-${s.section_id}`, title: s.heading, text: s.heading })))));
}

function onHashChange() {
  const range = target(window.location.hash);
  if (range) render(range);
}

async function init() {
  try {
    report = await fetchJson(`/api/reports/${encodeURIComponent(docId)}`);
  } catch (error) {
    root.replaceChildren(el('p', { class: 'status error', text: `原文加载失败：${error.message}` }));
    return;
  }
  renderOutline();
  const range = target(window.location.hash);
  render(range);
  if (!range && window.location.hash.startsWith('#sec-')) {
    const anchor = document.getElementById(window.location.hash.slice(1));
    if (anchor) anchor.scrollIntoView();
  }
  if (report.problem_spans && report.problem_spans.length) {
    document.getElementById('report-text').before(el('p', { class: 'note',
      text: `原文有 ${report.problem_spans.length} 处乱码（以灰色虚线标出），这些文字未编入索引。` }));
  }
  window.addEventListener('hashchange', onHashChange);
}

init();
