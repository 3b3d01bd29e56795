// The filter sheet: keep only items with chosen categories, numbers in a range, or text that contains a string.
// The filter is a small JSON object (see src/embedscope/filters.py) that the server applies to the map, the
// search (hits and histogram) and the neighbour lists alike.
import type { ColumnData, ColumnMeta } from '../data/api';
import type { FilterSpec } from '../data/filter-spec';
import { h } from './dom';

/** Categorical columns with more values than this get no checkbox list (a text match instead). */
const MAX_CHOICES = 60;

export interface FilterActions {
  apply(spec: FilterSpec | null): void;
}

/** The editor: one block per column. ``data`` loads a column's values (for categories and ranges). */
export async function filterView(
  columns: ColumnMeta[],
  hasText: boolean,
  data: (meta: ColumnMeta) => Promise<ColumnData>,
  current: FilterSpec | null,
  kept: { count: number; total: number } | null,
  act: FilterActions,
): Promise<HTMLElement> {
  const readers: (() => [string, FilterSpec[string]] | null)[] = [];
  const blocks: HTMLElement[] = [];
  const textCols = [...(hasText ? [{ name: 'text', kind: 'text', n_unique: 0 } as ColumnMeta] : []),
    ...columns.filter((c) => c.kind === 'text' || (c.kind === 'categorical' && c.n_unique > MAX_CHOICES))];
  for (const meta of columns) {
    if (meta.kind === 'categorical' && meta.n_unique <= MAX_CHOICES) {
      const col = await data(meta);
      if (col.kind !== 'categorical') continue;
      const counts = new Array<number>(col.categories.length).fill(0);
      col.codes.forEach((c) => c >= 0 && (counts[c] += 1));
      const chosen = new Set(Array.isArray(current?.[meta.name]) ? (current?.[meta.name] as string[]) : []);
      const boxes = col.categories.map((cat, i) => {
        const box = h('input', { type: 'checkbox', value: cat, 'data-column': meta.name, checked: chosen.has(cat) }) as HTMLInputElement;
        return h('label', { class: 'filter-choice' }, box, ` ${cat} `, h('span', { class: 'muted' }, counts[i].toLocaleString()));
      });
      readers.push(() => {
        const on = boxes.map((b) => b.querySelector('input') as HTMLInputElement).filter((b) => b.checked).map((b) => b.value);
        return on.length ? [meta.name, on] : null;
      });
      blocks.push(h('fieldset', { class: 'filter-block', 'data-column': meta.name }, h('legend', {}, meta.name), ...boxes));
    } else if (meta.kind === 'numeric') {
      const col = await data(meta);
      if (col.kind !== 'numeric') continue;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of col.values) if (!Number.isNaN(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      const cur = (current?.[meta.name] ?? {}) as { min?: number; max?: number };
      const min = h('input', { type: 'number', step: 'any', placeholder: Number.isFinite(lo) ? String(lo) : '', value: cur.min ?? '', 'aria-label': `${meta.name} minimum`, 'data-column': meta.name, 'data-end': 'min' }) as HTMLInputElement;
      const max = h('input', { type: 'number', step: 'any', placeholder: Number.isFinite(hi) ? String(hi) : '', value: cur.max ?? '', 'aria-label': `${meta.name} maximum`, 'data-column': meta.name, 'data-end': 'max' }) as HTMLInputElement;
      readers.push(() => {
        const r: { min?: number; max?: number } = {};
        if (min.value !== '' && Number.isFinite(Number(min.value))) r.min = Number(min.value);
        if (max.value !== '' && Number.isFinite(Number(max.value))) r.max = Number(max.value);
        return Object.keys(r).length ? [meta.name, r] : null;
      });
      blocks.push(h('fieldset', { class: 'filter-block', 'data-column': meta.name }, h('legend', {}, meta.name), min, ' to ', max));
    }
  }
  for (const meta of textCols) {
    const cur = current?.[meta.name] as { contains?: string } | undefined;
    const input = h('input', { type: 'text', class: 'filter-text', placeholder: 'contains (substring)…', value: cur?.contains ?? '', 'aria-label': `${meta.name} contains`, 'data-column': meta.name }) as HTMLInputElement;
    readers.push(() => (input.value.trim() ? [meta.name, { contains: input.value.trim() }] : null));
    blocks.push(h('fieldset', { class: 'filter-block', 'data-column': meta.name }, h('legend', {}, `${meta.name} (text match)`), input));
  }
  const read = (): FilterSpec | null => {
    const spec: FilterSpec = {};
    for (const r of readers) {
      const got = r();
      if (got) spec[got[0]] = got[1];
    }
    return Object.keys(spec).length ? spec : null;
  };
  const apply = h('button', { class: 'button', type: 'submit', id: 'filter-apply' }, 'Apply');
  const clear = h('button', { class: 'button', type: 'button', id: 'filter-clear' }, 'Clear');
  clear.addEventListener('click', () => act.apply(null));
  const form = h(
    'form',
    { class: 'filter', id: 'filter-view' },
    h('p', { class: 'note', id: 'filter-count' },
      kept ? `${kept.count.toLocaleString()} of ${kept.total.toLocaleString()} items pass the filter. The map, the search and the neighbour lists show only them.`
        : 'Keep only some items: the map, the search (hits and histogram) and the neighbour lists then show only them.'),
    ...blocks,
    h('div', { class: 'actions' }, apply, clear),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act.apply(read());
  });
  return form;
}
