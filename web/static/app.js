// The search page: ask, show the answer with its cited places, ranked passages, facets and chat.
import {
  answerText, copyButton, derivedMark, derivedNote, el, fetchJson, markedText, metaLine, questionSpans,
} from './common.js';
import { byCount, facetValues, foldAt } from './facets.js';

const MAX_CHARS = 500;
const FIELDS = ['region', 'level', 'year', 'area', 'section', 'issuer'];
const FIELD_NAMES = { region: '地区', level: '层级', year: '年度', area: '任务领域', section: '章节', issuer: '发布机关' };
// Fields of a passage, not of its report: before a search there is nothing to count them by.
const PASSAGE_FIELDS = new Set(['section', 'area']);
const KIND_NAMES = { which: '地方列表', fact: '事实', figures: '各地数字', plans: '下一步安排', open: '综合' };
const LISTS_PLACES = new Set(['which', 'figures']);

const $ = (id) => document.getElementById(id);
const state = {
  filters: {},
  question: '',
  values: null, // /api/filters
  reports: [], // /api/reports, for the region tree and report counts
  reportsById: new Map(), // the same, by doc_id: which fields of a report are derived
  reportsReady: null, // resolves once /api/reports was read (or failed)
  unfolded: new Set(), // facets whose 「更多」 list the reader opened
  facets: null, // counts of the last search
  history: [], // chat turns sent back to /api/ask
  turns: 0,
  seq: 0,
};

// ---------- asking ----------

function askPayload(question, history) {
  const payload = { question };
  if (history && history.length) payload.history = history;
  if (Object.keys(state.filters).length) payload.filters = { ...state.filters };
  return payload;
}

function postAsk(payload) {
  return fetchJson('/api/ask', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  }, { question: payload.question });
}

function setStatus(text, kind = '') {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind}`.trim();
}

function updateUrl() {
  const params = new URLSearchParams();
  if (state.question) params.set('q', state.question);
  for (const [k, v] of Object.entries(state.filters)) params.set(k, v);
  const query = params.toString();
  window.history.replaceState(null, '', query ? `/?${query}` : '/');
}

async function search(question) {
  question = question.trim();
  if (!question) {
    setStatus('请输入问题或关键词。');
    return;
  }
  const started = performance.now();
  const seq = ++state.seq;
  state.question = question;
  updateUrl();
  const answer = $('answer');
  answer.setAttribute('aria-busy', 'true');
  answer.dataset.state = 'loading';
  delete answer.dataset.paintedAt;
  setStatus('正在检索…', 'loading');
  let result;
  try {
    result = await postAsk(askPayload(question));
  } catch (error) {
    if (seq !== state.seq) return;
    answer.hidden = true;
    answer.dataset.state = 'error';
    answer.removeAttribute('aria-busy');
    $('passages').hidden = true;
    setStatus(error.message, 'error');
    return;
  }
  if (seq !== state.seq) return;
  await state.reportsReady;
  if (seq !== state.seq) return;
  renderAnswer(result);
  renderPassages(result);
  answer.removeAttribute('aria-busy');
  answer.dataset.state = 'done';
  answer.dataset.ms = String(Math.round(performance.now() - started));
  // When the answer reaches the screen (next frame), on the page's clock: what the UI test measures.
  requestAnimationFrame(() => { answer.dataset.paintedAt = performance.now().toFixed(1); });
  refreshFacets(result.resolved_question || question, seq);
}

// ---------- the answer ----------

/** Absolute [start, end) spans of matched terms per report, from the search hits. */
function hitSpans(results) {
  const byDoc = new Map();
  for (const hit of results || []) {
    if ((hit.text || '').length !== hit.end - hit.start) continue; // offsets would not line up
    const spans = byDoc.get(hit.doc_id) || [];
    for (const [a, b] of hit.highlights || []) spans.push([hit.start + a, hit.start + b]);
    byDoc.set(hit.doc_id, spans);
  }
  return byDoc;
}

function quoteSpans(citation, byDoc, question) {
  const spans = [];
  if (citation.quote.length === citation.end - citation.start) {
    for (const [a, b] of byDoc.get(citation.doc_id) || []) {
      if (b > citation.start && a < citation.end) {
        spans.push([Math.max(a, citation.start) - citation.start, Math.min(b, citation.end) - citation.start]);
      }
    }
  }
  return spans.length ? spans : questionSpans(question, citation.quote);
}

/** What a card calls a report (its issuer, else its title), with the derived mark when the text does not state it. */
function reportName(item) {
  const report = state.reportsById.get(item.doc_id);
  const field = item.issuer ? 'issuer' : 'title';
  return [String(item[field] || ''), derivedMark(report, field)];
}

function citationItem(citation, prefix, byDoc, question) {
  const note = derivedNote(state.reportsById.get(citation.doc_id), 'title');
  return el('li', { class: 'quote', id: `${prefix}-c${citation.n}` },
    el('span', { class: 'num', 'aria-label': `引文 ${citation.n}` }, String(citation.n)),
    el('div', { class: 'quote-body' },
      el('blockquote', {}, markedText(citation.quote, quoteSpans(citation, byDoc, question))),
      el('div', { class: 'quote-meta' },
        el('span', { class: 'section', text: citation.section }),
        el('span', { class: 'quote-actions' },
          el('a', { class: 'open', href: citation.url, text: '在原文中查看' }),
          el('a', { class: 'peers', href: `/peers/${citation.chunk_id}`, text: '相似做法' }),
          copyButton(note ? { ...citation, titleNote: note.note } : citation)))));
}

function groupCard(group, prefix, byDoc, question) {
  const [name, nameMark] = reportName(group);
  return el('article', { class: 'place', 'data-issuer': group.issuer },
    el('header', { class: 'place-head' },
      el('h3', { class: 'place-name' }, name, nameMark),
      el('span', { class: 'place-meta', text: metaLine(group) }),
      el('span', { class: 'place-source' },
        el('a', { class: 'place-title', href: `/reports/${encodeURIComponent(group.doc_id)}`, text: `《${group.title}》` }),
        derivedMark(state.reportsById.get(group.doc_id), 'title'))),
    el('ol', { class: 'quotes' }, group.citations.map((c) => citationItem(c, prefix, byDoc, question))));
}

function csvLink(question) {
  const params = new URLSearchParams({ question });
  for (const [k, v] of Object.entries(state.filters)) params.set(k, v);
  return el('a', { class: 'button', href: `/api/ask.csv?${params.toString()}`, download: 'answer.csv', text: '导出 CSV' });
}

/** The answer's other take-away files (Excel table, Word document with citation lines), after the CSV link;
 * no name given to download, so the server's UTF-8 file name (filename*) is kept. */
function exportLinks(question) {
  const params = new URLSearchParams({ question });
  for (const [k, v] of Object.entries(state.filters)) params.set(k, v);
  return [['xlsx', '导出 Excel'], ['docx', '导出 Word']].map(([ext, text]) =>
    el('a', { class: 'button', href: `/api/ask.${ext}?${params.toString()}`, download: true, text }));
}

/** The answer block: kind, sentence with [n] links, and the cited places (shared with chat). */
function answerBlock(result, prefix, options = {}) {
  const byDoc = hitSpans(result.results);
  const question = result.resolved_question || result.question;
  const block = el('div', { class: `answer-block kind-${result.kind}` });
  if (result.resolved_question && result.resolved_question !== result.question) {
    block.append(el('p', { class: 'resolved', text: `已理解为：${result.resolved_question}` }));
  }
  const head = el('div', { class: 'answer-head' },
    el('span', { class: `kind kind-${result.kind}`, text: KIND_NAMES[result.kind] || '回答' }));
  if (LISTS_PLACES.has(result.kind) && result.groups.length) {
    head.append(el('span', { class: 'count', text: `${result.groups.length} 个地方` }));
  }
  if (options.csv && result.groups.length) {
    head.append(csvLink(question), ...exportLinks(question));
  }
  block.append(head);
  block.append(el('p', { class: 'answer-text' }, answerText(result.answer, prefix)));
  if (LISTS_PLACES.has(result.kind) && result.groups.length) {
    block.append(el('ul', { class: 'place-list', 'aria-label': '地方' }, result.groups.map((g) => el('li', {},
      el('strong', {}, ...reportName(g)), el('span', { class: 'muted', text: ` ${metaLine(g)}` })))));
  }
  for (const note of result.notes || []) block.append(el('p', { class: 'note', text: note }));
  if (!result.groups.length) {
    block.append(el('p', { class: 'empty', text: '报告中没有找到能回答这个问题的原文。可以换个说法，或减少筛选条件再试。' }));
  }
  block.append(el('div', { class: 'places' }, result.groups.map((g) => groupCard(g, prefix, byDoc, question))));
  return block;
}

function renderAnswer(result) {
  const answer = $('answer');
  answer.replaceChildren(answerBlock(result, 'a', { csv: true }));
  answer.hidden = false;
  setStatus('');
}

// ---------- ranked passages ----------

function renderPassages(result) {
  const list = $('passage-list');
  const hits = result.results || [];
  list.replaceChildren(...hits.map((hit) => el('li', { class: 'passage' },
    el('div', { class: 'passage-head' },
      el('span', { class: 'rank', text: String(hit.rank) }),
      el('a', { class: 'issuer', href: hit.url }, ...reportName(hit)),
      el('span', { class: 'muted', text: metaLine(hit) }),
      hit.section_label ? el('span', { class: 'tag', text: hit.section_label }) : null,
      ...(hit.areas || []).map((name) => el('span', { class: 'tag area', title: '任务领域', text: name })),
      el('a', { class: 'peers', href: `/peers/${hit.chunk_id}`, text: '相似做法' })),
    el('div', { class: 'path', text: hit.section }),
    el('p', { class: 'passage-text' }, markedText(hit.text, hit.highlights || [])))));
  $('passages-note').textContent = hits.length ? `前 ${hits.length} 条，按相关度排序` : '';
  $('passages').hidden = hits.length === 0;
  if (!hits.length && !result.groups.length) setStatus('没有找到相关内容。换个说法或减少筛选条件试试。', 'empty');
}

// ---------- facets ----------

async function loadFacetValues() {
  const reports = fetchJson('/api/reports');
  state.reportsReady = reports.then((body) => {
    state.reports = body.reports;
    state.reportsById = new Map(body.reports.map((r) => [r.doc_id, r]));
  }, () => {});
  try {
    const [values] = await Promise.all([fetchJson('/api/filters'), reports]);
    await state.reportsReady;
    state.values = values;
  } catch (error) {
    $('facet-groups').replaceChildren(el('p', { class: 'muted small', text: `筛选项加载失败：${error.message}` }));
    return;
  }
  renderFacets();
}

async function refreshFacets(query, seq) {
  const params = new URLSearchParams({ q: query.slice(0, MAX_CHARS), k: '10' });
  for (const [k, v] of Object.entries(state.filters)) params.set(k, v);
  try {
    const data = await fetchJson(`/api/search?${params.toString()}`);
    if (seq !== state.seq) return;
    state.facets = data.facets;
  } catch (error) {
    state.facets = null;
  }
  renderFacets();
}

/** Counts per value: passages of the last search, or reports before any search. */
function counts(field) {
  if (state.facets) return state.facets[field] || {};
  const out = {};
  const add = (v) => { if (v) out[String(v)] = (out[String(v)] || 0) + 1; };
  for (const r of state.reports) {
    if (field === 'region') [r.province, r.city, r.district].forEach(add);
    else if (!PASSAGE_FIELDS.has(field)) add(r[field]);
  }
  return out;
}

function facetButton(field, value, count, depth = 0) {
  const active = String(state.filters[field] ?? '') === String(value);
  const label = field === 'year' ? `${value}年` : String(value);
  return el('button', {
    type: 'button',
    class: `facet${active ? ' active' : ''}${count ? '' : ' zero'} depth-${depth}`,
    'aria-pressed': active ? 'true' : 'false',
    onclick: () => toggleFilter(field, value),
  }, el('span', { class: 'facet-label', text: label }), count !== undefined ? el('span', { class: 'facet-count', text: String(count) }) : null);
}

/** Regions as a province > city > district tree built from the reports' metadata. */
function regionTree() {
  const tree = new Map();
  for (const r of state.reports) {
    if (!r.province) continue;
    const cities = tree.get(r.province) || new Map();
    tree.set(r.province, cities);
    if (!r.city) continue;
    const districts = cities.get(r.city) || new Set();
    cities.set(r.city, districts);
    if (r.district && r.district !== r.city) districts.add(r.district);
  }
  return tree;
}

/** Region names as province > city > district nodes, plus values the tree does not place. */
function regionNodes(values) {
  const nodes = [];
  const seen = new Set();
  for (const [province, cities] of regionTree()) {
    const children = [];
    for (const [city, districts] of cities) {
      children.push({ name: city, children: [...districts].map((d) => ({ name: d, children: [] })) });
      seen.add(city);
      districts.forEach((d) => seen.add(d));
    }
    nodes.push({ name: province, children });
    seen.add(province);
  }
  for (const v of values) if (!seen.has(v)) nodes.push({ name: v, children: [] });
  return nodes;
}

/** The region buttons in tree order: at each level the places with hits, most frequent first. */
function regionButtons(values, c) {
  const selected = String(state.filters.region ?? '');
  const keep = (node) => (c[node.name] || 0) > 0 || node.name === selected || node.children.some(keep);
  const buttons = [];
  const walk = (nodes, depth) => {
    const order = byCount(c);
    for (const node of nodes.filter(keep).sort((a, b) => order(a.name, b.name))) {
      buttons.push(facetButton('region', node.name, c[node.name] || 0, depth));
      walk(node.children, depth + 1);
    }
  };
  walk(regionNodes(values), 0);
  return buttons;
}

/** A facet's buttons: the first few shown, the rest folded behind 「更多（N）」 (open when it holds the selection). */
function facetList(field, buttons) {
  const { shown, folded } = foldAt(buttons);
  const list = el('div', { class: 'facet-list' }, shown);
  if (!folded.length) return [list];
  const label = () => (more.open ? '收起' : `更多（${folded.length}）`);
  const open = state.unfolded.has(field) || folded.some((b) => b.classList.contains('active'));
  const summary = el('summary', {});
  const more = el('details', { class: 'facet-more', open }, summary, el('div', { class: 'facet-list' }, folded));
  summary.textContent = label();
  more.addEventListener('toggle', () => {
    if (more.open) state.unfolded.add(field);
    else state.unfolded.delete(field);
    summary.textContent = label();
  });
  return [list, more];
}

function renderFacets() {
  if (!state.values) return;
  const groups = [];
  for (const field of FIELDS) {
    const values = state.values[field] || [];
    if (!values.length) continue;
    const c = counts(field);
    const known = state.facets || !PASSAGE_FIELDS.has(field);
    let buttons;
    if (field === 'region') {
      buttons = regionButtons(values, c);
    } else {
      const shown = facetValues(values, known ? c : null, state.filters[field]);
      buttons = shown.map((v) => facetButton(field, v, known ? (c[String(v)] || 0) : undefined));
    }
    if (!buttons.length) continue;
    groups.push(el('section', { class: 'facet-group', 'data-field': field },
      el('h3', { text: FIELD_NAMES[field] }), ...facetList(field, buttons)));
  }
  if (!groups.length) groups.push(el('p', { class: 'muted small', text: '没有可用的筛选项。' }));
  $('facet-groups').replaceChildren(...groups);
  $('facet-note').textContent = state.facets ? '数字为前 10 条相关段落中的条数' : '数字为报告份数';
  renderActiveFilters();
}

function renderActiveFilters() {
  const box = $('active-filters');
  const entries = Object.entries(state.filters);
  box.hidden = entries.length === 0;
  $('clear-filters').hidden = entries.length === 0;
  box.replaceChildren(el('span', { class: 'muted', text: '筛选：' }), ...entries.map(([k, v]) => el('button', {
    type: 'button', class: 'chip active', 'aria-label': `取消筛选 ${FIELD_NAMES[k]} ${v}`, onclick: () => toggleFilter(k, v),
  }, `${FIELD_NAMES[k]}：${k === 'year' ? `${v}年` : v} ×`)));
}

function toggleFilter(field, value) {
  if (String(state.filters[field] ?? '') === String(value)) delete state.filters[field];
  else state.filters[field] = value;
  renderFacets();
  updateUrl();
  if (state.question && !$('search-pane').hidden) search(state.question);
}

// ---------- chat ----------

function chatTurn(question) {
  state.turns += 1;
  const prefix = `t${state.turns}`;
  const answer = el('div', { class: 'bubble answer-bubble', 'aria-busy': 'true' }, el('p', { class: 'muted', text: '正在检索…' }));
  const item = el('li', { class: 'turn', id: prefix },
    el('div', { class: 'bubble question-bubble', text: question }), answer);
  $('chat-log').append(item);
  return { prefix, answer, item };
}

async function chat(question) {
  question = question.trim();
  if (!question) return;
  const { prefix, answer, item } = chatTurn(question);
  item.scrollIntoView({ block: 'nearest' });
  try {
    const result = await postAsk(askPayload(question, state.history));
    await state.reportsReady;
    answer.replaceChildren(answerBlock(result, prefix, { csv: LISTS_PLACES.has(result.kind) }));
    state.history.push({ question: result.question, answer: result.answer }); // the server keeps no state: this is all it reads
  } catch (error) {
    answer.replaceChildren(el('p', { class: 'status error', text: error.message }));
  }
  answer.removeAttribute('aria-busy');
  answer.dataset.state = 'done';
  item.scrollIntoView({ block: 'start', behavior: 'smooth' });
}

function resetChat() {
  state.history = [];
  $('chat-log').replaceChildren();
  $('chat-input').focus();
}

// ---------- tabs and input ----------

function selectTab(name) {
  const chatMode = name === 'chat';
  $('tab-search').setAttribute('aria-selected', String(!chatMode));
  $('tab-chat').setAttribute('aria-selected', String(chatMode));
  $('tab-search').tabIndex = chatMode ? -1 : 0;
  $('tab-chat').tabIndex = chatMode ? 0 : -1;
  $('search-pane').hidden = chatMode;
  $('chat-pane').hidden = !chatMode;
  document.body.classList.toggle('chat-mode', chatMode);
  (chatMode ? $('chat-input') : $('q')).focus();
}

function showLength(input) {
  const note = $('q-count');
  const n = input.value.length;
  note.hidden = n <= MAX_CHARS;
  note.textContent = `问题最多 ${MAX_CHARS} 个字，现在有 ${n} 个字。`;
}

function init() {
  const params = new URLSearchParams(window.location.search);
  for (const field of FIELDS) {
    const value = params.get(field);
    if (value) state.filters[field] = field === 'year' ? Number(value) : value;
  }
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    search($('q').value);
  });
  $('q').addEventListener('input', () => showLength($('q')));
  for (const chip of document.querySelectorAll('#examples .chip')) {
    chip.addEventListener('click', () => {
      if (!$('chat-pane').hidden) {
        $('chat-input').value = chip.dataset.q;
        $('chat-input').focus();
        return;
      }
      $('q').value = chip.dataset.q;
      search(chip.dataset.q);
    });
  }
  $('clear-filters').addEventListener('click', () => {
    state.filters = {};
    renderFacets();
    updateUrl();
    if (state.question && !$('search-pane').hidden) search(state.question);
  });
  $('tab-search').addEventListener('click', () => selectTab('search'));
  $('tab-chat').addEventListener('click', () => selectTab('chat'));
  for (const tab of [$('tab-search'), $('tab-chat')]) {
    tab.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
        selectTab($('tab-chat').getAttribute('aria-selected') === 'true' ? 'search' : 'chat');
        ($('tab-chat').getAttribute('aria-selected') === 'true' ? $('tab-chat') : $('tab-search')).focus();
      }
    });
  }
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('chat-input');
    const question = input.value;
    input.value = '';
    chat(question);
  });
  $('chat-input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('chat-form').requestSubmit();
    }
  });
  $('chat-reset').addEventListener('click', resetChat);
  document.addEventListener('keydown', (event) => {
    const typing = ['INPUT', 'TEXTAREA'].includes(document.activeElement?.tagName);
    if (event.key === '/' && !typing) {
      event.preventDefault();
      ($('chat-pane').hidden ? $('q') : $('chat-input')).focus();
    }
  });
  loadFacetValues();
  const q = params.get('q');
  if (q) {
    $('q').value = q;
    search(q);
  }
}

init();
