// Analogies: a + b − c (``king − man + woman``): the items nearest (cosine) to the sum of the unit vectors of the
// items added minus those taken away, ranked, the inputs left out; a click on a result selects it on the map.
// The last inputs and answer of each space are kept, so the sheet reopens as it was left.
import { type AnalogyResult, type ItemRef, getAnalogy } from '../data/api';
import { message } from '../data/promises';
import { formatNumber, h } from '../views/dom';
import { ItemPicker } from '../views/item-picker';
import { type SheetContext, registerSheet } from './registry';

const TITLE = 'Analogy';
/** Per space: the text of the three boxes and the last answer. */
const kept = new Map<string, { values: string[]; result: AnalogyResult | null }>();

async function openAnalogy(ctx: SheetContext): Promise<void> {
  const space = ctx.space;
  if (!space) return;
  await ctx.deselect();
  const last = kept.get(space);
  const a = new ItemPicker(() => space, 'analogy-a', 'a', 'king');
  const minus = new ItemPicker(() => space, 'analogy-minus', '−', 'man');
  const b = new ItemPicker(() => space, 'analogy-b', '+', 'woman');
  const boxes = [a, minus, b];
  boxes.forEach((p, i) => (p.input.value = last?.values[i] ?? ''));
  const answer = h('div', { id: 'analogy-answer' });
  const show = (result: AnalogyResult) => answer.replaceChildren(analogyView(result, (row) => void ctx.select(row)));
  if (last?.result) show(last.result);
  const form = h('form', { class: 'vec-sheet-form', id: 'analogy-form' }, a.el, minus.el, b.el,
    h('button', { class: 'button', type: 'submit', id: 'analogy-go' }, 'Find'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const plus = [a.ref(), b.ref()].filter((r): r is ItemRef => r !== null);
    const take = [minus.ref()].filter((r): r is ItemRef => r !== null);
    if (!plus.length) {
      answer.replaceChildren(h('p', { class: 'note error' }, 'Name at least one item to add.'));
      return;
    }
    answer.replaceChildren(h('p', { class: 'muted', id: 'analogy-loading' }, 'Searching…'));
    void ctx.run(async () => {
      try {
        const result = await getAnalogy(space, plus, take, 10);
        if (ctx.space !== space) return;
        kept.set(space, { values: boxes.map((p) => p.input.value), result });
        show(result);
      } catch (e) {
        if (ctx.space === space) answer.replaceChildren(h('p', { class: 'note error', id: 'analogy-error' }, message(e)));
      }
    });
  });
  ctx.sheet.open(`${TITLE} · ${space}`,
    h('p', { class: 'note' }, 'a − b + c: the items nearest (cosine) to the sum of the unit vectors added minus those ' +
      'taken away, the inputs left out (king − man + woman ≈ queen). Leave − empty for a plain sum.'),
    form, answer);
}

function analogyView(r: AnalogyResult, select: (row: number) => void): HTMLElement {
  const expr = [r.plus[0]?.id ?? '', ...r.minus.map((m) => `− ${m.id}`), ...r.plus.slice(1).map((p) => `+ ${p.id}`)].join(' ');
  const list = h('ol', { class: 'neighbors analogy-results', id: 'analogy-results' },
    ...r.results.map((hit) => h('li', { 'data-row': hit.row, 'data-id': hit.id, tabindex: 0 },
      h('span', {}), h('span', { class: 'nbr-text', title: hit.text ?? hit.id }, hit.text && hit.text !== hit.id ? `${hit.id} · ${hit.text}` : hit.id),
      h('span', { class: 'score' }, formatNumber(hit.score)))));
  const pick = (ev: Event) => {
    const li = (ev.target as HTMLElement).closest('li[data-row]') as HTMLElement | null;
    if (li) select(Number(li.dataset.row));
  };
  list.addEventListener('click', pick);
  list.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      pick(ev);
    }
  });
  return h('div', { id: 'analogy-view' },
    h('p', { class: 'note' }, `${expr} ≈ (cosine, inputs left out; click one to select it on the map)`), list);
}

registerSheet({
  id: 'analogy',
  label: 'Analogy',
  title: 'Analogies: a − b + c, the nearest items by cosine (king − man + woman ≈ queen)',
  visible: (info) => info.spaces.length > 0,
  open: openAnalogy,
});
