// The translate sheet: pick two spaces, see the stored evaluation of maps between them or run it.
import { getTranslate, measureTranslate } from '../data/api';
import { fillSelect, h } from '../views/dom';
import { translateView } from '../views/translate';
import { type SheetContext, registerSheet } from './registry';

const TITLE = 'Translate between spaces';

async function openTranslate(ctx: SheetContext, from?: string, to?: string): Promise<void> {
  const names = ctx.info?.spaces.map((sp) => sp.name) ?? [];
  if (names.length < 2) return;
  await ctx.deselect();
  const a = from ?? ctx.space ?? names[0];
  const b = to ?? names.find((n) => n !== a) ?? names[0];
  const pick = (id: string, value: string) => {
    const sel = h('select', { id, 'aria-label': id === 'translate-from' ? 'From space' : 'To space' });
    fillSelect(sel, names.map((n) => ({ value: n, label: n })), value);
    sel.disabled = false;
    sel.addEventListener('change', () => void ctx.run(() => openTranslate(ctx, fromSel.value, toSel.value)));
    return sel;
  };
  const fromSel = pick('translate-from', a);
  const toSel = pick('translate-to', b);
  const chooser = h('div', { class: 'translate-pick' }, 'from ', fromSel, ' to ', toSel);
  if (a === b) {
    ctx.sheet.open(TITLE, chooser, h('p', { class: 'note' }, 'Choose two different spaces.'));
    return;
  }
  const ticket = ctx.sheet.open(TITLE, chooser, h('p', { class: 'note loading' }, `Reading the evaluation of ${a} to ${b}…`));
  const found = await getTranslate(a, b);
  if (!ctx.sheet.isCurrent(ticket)) return;
  if (found) {
    ctx.sheet.fill(ticket, TITLE, chooser, translateView(found));
    return;
  }
  const button = h('button', { class: 'button', type: 'button', id: 'translate-measure' }, 'Fit and evaluate now');
  button.addEventListener('click', () =>
    void ctx.run(async () => {
      button.setAttribute('disabled', '');
      button.textContent = 'Fitting…';
      ctx.setStatus('Fitting translators…');
      try {
        const result = await measureTranslate(a, b);
        ctx.sheet.fill(ticket, TITLE, chooser, translateView(result));
      } finally {
        ctx.setStatus('');
      }
    }),
  );
  ctx.sheet.fill(
    ticket,
    TITLE,
    chooser,
    h('p', { class: 'note' }, `Not evaluated yet: Procrustes, ridge, low-rank and MLP maps from ${a} to ${b}, each ` +
      'fitted on shared items and scored on held-out ones against baselines (embedscope translate eval).'),
    button,
  );
}

registerSheet({
  id: 'translate',
  label: 'Translate',
  title: 'Translate vectors from one space to another: fitted maps and their held-out accuracy',
  visible: (info) => info.spaces.length >= 2,
  open: openTranslate,
});
