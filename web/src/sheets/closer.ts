// "Which is closer?": pick A, B and C (type an id or part of a text and take a suggestion; A starts as the selected
// item) and see, under cosine, dot, euclidean and manhattan, which of B and C is closer to A, with both scores and
// both ranks among all items seen from A.
import { type CloserResult, getCloser, getItem } from '../data/api';
import { message } from '../data/promises';
import { formatNumber, h } from '../views/dom';
import { ItemPicker } from '../views/item-picker';
import { type SheetContext, registerSheet } from './registry';

const TITLE = 'Which is closer?';

async function openCloser(ctx: SheetContext): Promise<void> {
  const space = ctx.space;
  if (!space) return;
  const selected = ctx.selected;
  const first = selected !== null ? await getItem(space, selected).catch(() => null) : null;
  await ctx.deselect();
  const pickers = ['A', 'B', 'C'].map((name) =>
    new ItemPicker(() => space, `closer-${name.toLowerCase()}`, name, name === 'A' ? 'the item…' : `is it closer to ${name}?`));
  if (first) pickers[0].set({ row: first.row, id: first.id, text: first.text });
  const answer = h('div', { id: 'closer-answer', class: 'closer-answer' });
  const form = h('form', { class: 'vec-sheet-form', id: 'closer-form' }, ...pickers.map((p) => p.el),
    h('button', { class: 'button', type: 'submit', id: 'closer-go' }, 'Which is closer?'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const [a, b, c] = pickers.map((p) => p.ref());
    if (!a || !b || !c) {
      answer.replaceChildren(h('p', { class: 'note error' }, 'Name all three items: A, B and C.'));
      return;
    }
    answer.replaceChildren(h('p', { class: 'muted', id: 'closer-loading' }, 'Measuring…'));
    void ctx.run(async () => {
      try {
        const result = await getCloser(space, a, b, c);
        if (ctx.space !== space) return;
        answer.replaceChildren(closerView(result));
      } catch (e) {
        if (ctx.space === space) answer.replaceChildren(h('p', { class: 'note error', id: 'closer-error' }, message(e)));
      }
    });
  });
  ctx.sheet.open(`${TITLE} · ${space}`,
    h('p', { class: 'note' }, 'Is B or C closer to A? Each metric answers, with both scores and where B and C rank ' +
      'among all items seen from A (1 = A’s nearest).'),
    form, answer);
}

function closerView(r: CloserResult): HTMLElement {
  const name = (who: 'b' | 'c' | 'tie') => (who === 'tie' ? 'a tie' : who === 'b' ? r.b.id : r.c.id);
  const cosine = r.metrics.find((m) => m.metric === 'cosine') ?? r.metrics[0];
  const agree = r.metrics.every((m) => m.closer === cosine.closer);
  return h('div', { id: 'closer-view' },
    h('p', { class: 'closer-verdict', id: 'closer-verdict', 'data-closer': cosine.closer_id ?? '' },
      cosine.closer === 'tie' ? `${r.b.id} and ${r.c.id} are equally close to ${r.a.id}`
        : `${name(cosine.closer)} is closer to ${r.a.id}`,
      agree ? ' under every metric.' : ' by cosine; the metrics disagree (below).'),
    h('table', { class: 'closer-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'metric'), h('th', {}, 'closer'), h('th', {}, `A–B · ${r.b.id}`),
        h('th', {}, `A–C · ${r.c.id}`))),
      h('tbody', {}, ...r.metrics.map((m) => h('tr', { 'data-metric': m.metric, 'data-closer': m.closer },
        h('td', { title: m.higher_is_closer ? 'similarity: higher is closer' : 'distance: lower is closer' },
          `${m.metric} ${m.higher_is_closer ? '↑' : '↓'}`),
        h('td', { class: 'closer-who' }, name(m.closer)),
        h('td', { class: m.closer === 'b' ? 'win' : undefined }, `${formatNumber(m.score_b)} · rank ${m.rank_b.toLocaleString('en-US')}`),
        h('td', { class: m.closer === 'c' ? 'win' : undefined }, `${formatNumber(m.score_c)} · rank ${m.rank_c.toLocaleString('en-US')}`))))),
    h('p', { class: 'note' }, `Ranks among the ${(r.metrics[0]?.n ?? 0).toLocaleString('en-US')} other items seen from ` +
      `${r.a.id}. ↑ similarity (higher is closer), ↓ distance (lower is closer).`));
}

registerSheet({
  id: 'closer',
  label: 'Closer',
  title: 'Which is closer? Pick A, B and C: under each metric, which of B and C is closer to A',
  visible: (info) => info.spaces.length > 0,
  open: openCloser,
});
