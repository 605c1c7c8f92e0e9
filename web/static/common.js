// Shared helpers for the pages. Data from the service only ever becomes text nodes or
// attribute values set through the DOM: markup is never parsed from strings.

/** Create an element; attrs: class, text, on<event> handlers, other attributes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'href') node.setAttribute('href', safeHref(value));
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Only same-site paths and fragments may become links; anything else is neutralised. */
export function safeHref(url) {
  const value = String(url);
  if (value.startsWith('#') || (value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\'))) return value;
  return '#';
}

/** Merge overlapping [start, end) spans, sorted. */
export function mergeSpans(spans) {
  const sorted = spans.filter(([a, b]) => b > a).map(([a, b]) => [a, b]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else out.push(span);
  }
  return out;
}

/** Drop one-character matches when longer ones exist: in Chinese they are mostly noise (镇, 办). */
export function meaningfulSpans(spans) {
  const long = spans.filter(([a, b]) => b - a >= 2);
  return long.length ? long : spans;
}

/** A fragment of text nodes with <mark> around the given [start, end) spans. */
export function markedText(text, spans) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const [a0, b0] of mergeSpans(meaningfulSpans(spans))) {
    const a = Math.max(a0, at);
    const b = Math.min(b0, text.length);
    if (b <= a) continue;
    if (a > at) fragment.append(document.createTextNode(text.slice(at, a)));
    fragment.append(el('mark', { text: text.slice(a, b) }));
    at = b;
  }
  if (at < text.length) fragment.append(document.createTextNode(text.slice(at)));
  return fragment;
}

const STOP_TERMS = new Set(['哪些', '地方', '什么', '多少', '如何', '怎么', '怎样', '是否', '哪个', '哪里', '情况', '有哪', '些地', '方推']);

/** Spans in `text` of the longest pieces (2+ characters) of `question` found in it. */
export function questionSpans(question, text) {
  const q = String(question).replace(/[\s“”"'‘’「」『』《》？?！!，,。.、：:；;（）()]/g, '|');
  const spans = [];
  for (let i = 0; i < q.length; i += 1) {
    for (let len = Math.min(16, q.length - i); len >= 2; len -= 1) {
      const piece = q.slice(i, i + len);
      if (piece.includes('|') || STOP_TERMS.has(piece)) continue;
      let from = text.indexOf(piece);
      if (from < 0) continue;
      while (from >= 0) {
        spans.push([from, from + len]);
        from = text.indexOf(piece, from + len);
      }
      i += len - 1;
      break;
    }
  }
  return mergeSpans(spans);
}

/** Section path as one line: "一、… （二）… 2. …". */
export function sectionLine(section) {
  return String(section || '').split(' › ').join(' ');
}

/** The usual Chinese citation form: “quote”（来源：《title》section）, a derived title marked so. */
export function citationLine(citation) {
  const section = sectionLine(citation.section);
  return `“${citation.quote}”（来源：《${citation.title}》${citation.titleNote || ''}${section}）`;
}

/** Fields of ReportMeta.derived the pages mark (as service/views.py DERIVED_FIELDS). */
const DERIVED_FIELDS = new Set(['title', 'issuer', 'level', 'region', 'year', 'published']);

/** {note, title} when a report's field was not stated in its text but taken from its file name or source page. */
export function derivedNote(report, field) {
  if (!report || !DERIVED_FIELDS.has(field) || !(report.derived || []).includes(field)) return null;
  if (field === 'title' && report.derived.includes('title_named')) {
    return { note: '（据正文拟）', title: '报告没有标题，文件名只是编号：按正文写明的发文单位和年份拟定。' };
  }
  const where = report.source_url ? '文件名或来源网页' : '文件名';
  return { note: `（据${where}）`, title: `报告正文没有写明这一项，取自${where}。` };
}

/** The small mark after a derived value, or null. */
export function derivedMark(report, field) {
  const note = derivedNote(report, field);
  return note ? el('small', { class: 'derived', 'data-field': field, title: note.title, text: note.note }) : null;
}

/** Copy text to the clipboard; falls back to a hidden textarea where the Clipboard API is missing. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      // Permission refused or document not focused: try the old way below.
    }
  }
  const area = el('textarea', { class: 'clipboard-helper', readonly: true, 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch (error) {
    ok = false;
  }
  area.remove();
  return ok;
}

/** A "复制引用" button that copies the citation line and says so. */
export function copyButton(citation) {
  const button = el('button', { type: 'button', class: 'copy', title: '复制为带出处的引用', text: '复制引用' });
  button.addEventListener('click', async () => {
    const ok = await copyText(citationLine(citation));
    button.textContent = ok ? '已复制' : '复制失败';
    button.classList.toggle('done', ok);
    window.setTimeout(() => { button.textContent = '复制引用'; button.classList.remove('done'); }, 1600);
  });
  return button;
}

/** The answer sentence with its [n] markers turned into links to the citations below it. */
export function answerText(answer, prefix) {
  const fragment = document.createDocumentFragment();
  const parts = String(answer).split(/\[(\d+)\]/);
  parts.forEach((part, i) => {
    if (i % 2 === 0) {
      if (part) fragment.append(document.createTextNode(part));
    } else {
      fragment.append(el('a', { class: 'ref', href: `#${prefix}-c${part}`, 'aria-label': `引文 ${part}` }, `[${part}]`));
    }
  });
  return fragment;
}

/** Metadata tags of a report: region · year · level. */
export function metaLine(item) {
  const parts = [];
  if (item.region) parts.push(item.region);
  if (item.year) parts.push(`${item.year}年度`);
  if (item.level) parts.push(item.level);
  return parts.join(' · ');
}

/** Read a JSON response, turning every failure into a Chinese sentence (Error.message). */
export async function fetchJson(url, options = {}, context = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new Error('无法连接到服务，请检查网络连接后重试。');
  }
  if (response.ok) return response.json();
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  const code = body && body.error ? body.error.code : '';
  const length = context.question ? context.question.length : 0;
  if (response.status === 503) throw new Error('服务正忙，请稍后再试。');
  if (response.status === 429) throw new Error('请求太频繁了，请稍等片刻再试。');
  if ((response.status === 400 && length > 500) || response.status === 413) {
    throw new Error(`问题太长了：最多 500 个字，现在有 ${length} 个字。请精简后再问。`);
  }
  if (code === 'unknown_filter_value') throw new Error('所选筛选条件在当前报告库中不存在，请清除筛选后重试。');
  if (response.status === 404) throw new Error('没有找到请求的内容，它可能已被删除。');
  if (response.status === 400) throw new Error('无法处理这个请求，请换个说法再试。');
  throw new Error(`服务出错了（状态码 ${response.status}），请稍后再试。`);
}
