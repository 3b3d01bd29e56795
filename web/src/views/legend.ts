// The legend card: category swatches with counts, or the numeric ramp with its range.
import { VIRIDIS_CSS } from '../data/colors';
import { formatNumber, h } from './dom';
import type { Legend } from '../data/encoding';

const MAX_ENTRIES = 64;

export function renderLegend(el: HTMLElement, legend: Legend): void {
  if (legend.kind === 'none') {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  el.hidden = false;
  const title = h('div', { class: 'legend-title' }, legend.title);
  if (legend.kind === 'categorical') {
    const rows = legend.entries.slice(0, MAX_ENTRIES).map((e) =>
      h(
        'li',
        { 'data-label': e.label, 'data-key': e.key },
        h('span', { class: 'swatch', style: `background:${e.color}` }),
        h('span', { class: 'label', title: e.label }, e.label),
        h('span', { class: 'count', title: e.total === undefined ? '' : `${e.count.toLocaleString()} of ${e.total.toLocaleString()} pass the filter` },
          e.count.toLocaleString()),
      ),
    );
    const more = legend.entries.length - MAX_ENTRIES;
    const rest = more > 0 ? h('div', { class: 'legend-missing' }, `… and ${more.toLocaleString()} more`) : '';
    el.replaceChildren(title, h('ul', { class: 'legend-list' }, ...rows), rest);
    return;
  }
  const ramp = h('div', { class: 'ramp', style: `background:${VIRIDIS_CSS}` });
  const ends = h('div', { class: 'ramp-ends' }, h('span', {}, formatNumber(legend.min)), h('span', {}, formatNumber(legend.max)));
  const missing = legend.missing
    ? h('div', { class: 'legend-missing' }, `${legend.missing.toLocaleString()} ${legend.missingLabel ?? 'missing'} (grey)`)
    : null;
  const note = legend.note ? h('div', { class: 'legend-note' }, legend.note) : null;
  el.replaceChildren(title, ramp, ends, note ?? '', missing ?? '');
}
