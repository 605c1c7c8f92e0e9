// The 报告体检 panel of a report page: parts present or missing, timeliness, figures, repeats.
import { el, fetchJson } from './common.js';

const panel = document.getElementById('checkup');
const NUMERALS = '一二三四五';

function badge(kind, text) {
  return el('span', { class: `badge ${kind}`, text });
}

function partItem(part) {
  let mark;
  if (part.present && part.basis === 'text') mark = badge('thin', '正文提及');
  else if (part.present) mark = badge('ok', '有');
  else mark = part.required ? badge('bad', '缺') : badge('none', '无');
  const links = part.sections.map((s, i) => [i ? '；' : '', el('a', { href: `#sec-${s.section_id}`, text: s.heading })]);
  return el('li', { class: 'part', 'data-part': part.part }, mark, ` ${NUMERALS[part.part - 1]}、${part.name}`,
    links.length ? ['：', ...links.flat()] : []);
}

function timeliness(c) {
  if (c.on_time === null) {
    const why = c.published ? '报告年度不明' : '正文和来源都没有给出发布日期';
    return el('p', { class: 'on-time' }, badge('unknown', '按时公开：未知'), `（${why}，无法判断）`);
  }
  const text = c.on_time ? '按时公开' : '逾期公开';
  return el('p', { class: 'on-time' }, badge(c.on_time ? 'ok' : 'bad', text),
    `（发布日期 ${c.published}，应在 ${c.deadline} 之前）`);
}

function repeats(c) {
  if (!c.repeats.length) return el('p', { class: 'repeats' }, '未发现与其他报告雷同的段落。');
  return el('div', { class: 'repeats' }, el('p', { text: `与其他报告雷同的段落 ${c.repeats.length} 处：` }),
    el('ul', {}, c.repeats.map((r) => el('li', {},
      el('a', { href: `#q-${r.start}-${r.end}`, text: r.text.length > 40 ? `${r.text.slice(0, 40)}…` : r.text }),
      ' 亦见于 ', el('a', { href: r.other_url, text: r.other_issuer || r.other_doc_id }),
      `（相似度 ${Math.round(r.similarity * 100)}%）`))));
}

async function load() {
  try {
    const c = await fetchJson(`/api/reports/${encodeURIComponent(panel.dataset.docId)}/checkup`);
    panel.replaceChildren(el('h2', { text: '报告体检' }), el('ul', { class: 'parts' }, c.parts.map(partItem)),
      timeliness(c), el('p', { class: 'figures', text: `含数据的表述：${c.figures} 句` }), repeats(c));
  } catch (error) {
    panel.replaceChildren(el('h2', { text: '报告体检' }), el('p', { class: 'status error', text: error.message }));
  }
}

if (panel) load();
