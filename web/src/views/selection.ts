// Many points chosen at once (a lasso on the map): how many, how they split over the current colouring's
// categories, the first few items, and exports (CSV of the selection, the map as PNG, a link to this view).
import type { Item } from '../data/api';
import { h } from './dom';
import { type Encoding, categoryCounts } from '../data/encoding';

/** Items listed in the selection sheet (the CSV has them all). */
const LISTED = 50;

/** Save ``blob`` as a file named ``name`` (a download, no server round trip). */
export function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export interface SelectionActions {
  item(row: number): Promise<Item>;
  open(row: number): void;
  csv(): void;
  clear(): void;
}

/** The selection sheet: count, per-category counts of the current colouring, the first items, CSV, clear. */
export function selectionView(rows: number[], encoding: Encoding | null, total: number, act: SelectionActions): HTMLElement {
  const counts = categoryCounts(rows, encoding);
  const title = encoding && encoding.legend.kind !== 'none' ? encoding.legend.title : '';
  const countTable = counts
    ? h(
        'table',
        { class: 'table', id: 'selection-counts' },
        h('thead', {}, h('tr', {}, h('th', {}, title), h('th', {}, 'items'), h('th', {}, 'share'))),
        h(
          'tbody',
          {},
          ...counts.map((c) =>
            h(
              'tr',
              { 'data-label': c.label },
              h('td', {}, h('span', { class: 'swatch', style: `background:${c.color};display:inline-block;margin-right:6px` }), c.label),
              h('td', { class: 'num' }, c.count.toLocaleString()),
              h('td', { class: 'num' }, `${((100 * c.count) / rows.length).toFixed(1)}%`),
            ),
          ),
        ),
      )
    : h('p', { class: 'note' }, 'Colour the map by a categorical column to see how the selection splits over its values.');
  const list = h('ol', { class: 'hits', id: 'selection-items' });
  for (const row of rows.slice(0, LISTED)) {
    const li = h('li', { tabindex: 0, 'data-row': row }, h('span', { class: 'hit-id' }, `#${row}`));
    li.addEventListener('click', () => act.open(row));
    li.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') act.open(row);
    });
    list.append(li);
    void act.item(row).then(
      (it) => li.replaceChildren(h('span', { class: 'hit-id' }, it.id), ' ', h('span', { class: 'hit-text' }, (it.text ?? '').slice(0, 140))),
      () => {},
    );
  }
  const csv = h('button', { class: 'button', type: 'button', id: 'selection-csv' }, 'Download CSV');
  csv.addEventListener('click', () => act.csv());
  const clear = h('button', { class: 'button', type: 'button', id: 'selection-clear' }, 'Clear selection');
  clear.addEventListener('click', () => act.clear());
  return h(
    'div',
    { class: 'selection', id: 'selection-view' },
    h('p', { class: 'note' }, `${rows.length.toLocaleString()} of ${total.toLocaleString()} points selected (shift + drag draws a lasso).`),
    h('div', { class: 'actions' }, csv, clear),
    countTable,
    rows.length > LISTED ? h('div', { class: 'section-title' }, `First ${LISTED} items (the CSV has all)`) : h('div', { class: 'section-title' }, 'Items'),
    list,
  );
}

export interface ExportActions {
  png(): void;
  csv: (() => void) | null;
  link: string;
  workspaceHint: string;
}

/** The export sheet: the map as PNG, the selection as CSV, a link that restores this view, the CLI export. */
export function exportView(act: ExportActions): HTMLElement {
  const png = h('button', { class: 'button', type: 'button', id: 'export-png' }, 'Map as PNG');
  png.addEventListener('click', () => act.png());
  const csv = h('button', { class: 'button', type: 'button', id: 'export-csv', disabled: act.csv === null }, 'Selection as CSV');
  if (act.csv) csv.addEventListener('click', () => act.csv?.());
  const link = h('input', { class: 'link', id: 'export-link', readonly: true, value: act.link, 'aria-label': 'Link to this view' }) as HTMLInputElement;
  const copy = h('button', { class: 'button', type: 'button', id: 'export-copy' }, 'Copy link');
  copy.addEventListener('click', () => {
    link.select();
    void navigator.clipboard?.writeText(act.link).then(
      () => (copy.textContent = 'Copied'),
      () => document.execCommand('copy'),
    );
  });
  return h(
    'div',
    { class: 'export', id: 'export-view' },
    h('div', { class: 'actions' }, png, csv),
    h('div', { class: 'section-title' }, 'Link to this view'),
    h('p', { class: 'note' }, 'Restores the space, layout, colouring, zoom, the selected item or selection, and the search.'),
    h('div', { class: 'actions' }, link, copy),
    h('div', { class: 'section-title' }, 'Everything'),
    h('p', { class: 'note' }, act.workspaceHint),
  );
}
