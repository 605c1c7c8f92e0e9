// Sortable tables (the corpus, the check-up scorecard, the indicators): click a column header's
// button to sort by it, click again to reverse. Cells sort by data-sort; rows without a value
// for the column (a place that states no such figure) stay last either way.
export function sortable(table) {
  const headers = [...table.querySelectorAll('thead th')];
  const body = table.tBodies[0];

  function sortBy(index) {
    const th = headers[index];
    const ascending = th.getAttribute('aria-sort') !== 'ascending';
    const numeric = th.dataset.type === 'number';
    const rows = [...body.rows].filter((row) => row.cells.length === headers.length);
    const key = (row) => row.cells[index].dataset.sort || '';
    rows.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (!x || !y) return (x ? 0 : 1) - (y ? 0 : 1);
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y, 'zh-CN');
      return ascending ? order : -order;
    });
    headers.forEach((h) => h.setAttribute('aria-sort', 'none'));
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    body.append(...rows);
  }

  headers.forEach((th, index) => {
    const button = th.querySelector('button');
    if (button) button.addEventListener('click', () => sortBy(index));
  });
}
