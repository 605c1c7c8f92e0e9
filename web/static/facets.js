// Which facet values the search page lists, in what order, and which are folded away.

/** Values shown in a list before the rest is folded behind 「更多（N）」. */
export const FACET_LIMIT = 8;

/** Higher count first, then by name; values with no count (unknown) keep their place after counted ones. */
export function byCount(counts) {
  return (a, b) => {
    const x = counts[String(a)];
    const y = counts[String(b)];
    if (x === undefined || y === undefined) return (x === undefined) - (y === undefined);
    if (x !== y) return y - x;
    const p = String(a);
    const q = String(b);
    return p < q ? -1 : p > q ? 1 : 0;
  };
}

/**
 * The values of one facet to list: those with hits (count > 0), most frequent first, then by
 * name. The selected value stays even with no hits, so it can be cleared. With counts
 * undefined (not known for this facet) every value is kept in the given order.
 */
export function facetValues(values, counts, selected) {
  const wanted = selected === undefined || selected === null ? '' : String(selected);
  if (!counts) return [...values];
  const kept = values.filter((v) => (counts[String(v)] || 0) > 0 || String(v) === wanted);
  return kept.sort(byCount(counts));
}

/** Split a list into what is shown and what is folded away (nothing folded up to the limit). */
export function foldAt(items, limit = FACET_LIMIT) {
  if (items.length <= limit) return { shown: items, folded: [] };
  return { shown: items.slice(0, limit), folded: items.slice(limit) };
}
