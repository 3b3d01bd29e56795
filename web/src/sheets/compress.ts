// The compression sheet of the current space: the stored table, or a button that measures it.
import { getCompress, measureCompress } from '../data/api';
import { compressView } from '../views/compress';
import { h } from '../views/dom';
import { registerSheet } from './registry';

registerSheet({
  id: 'compress',
  label: 'Compress',
  title: 'How small can these vectors get? Recall against bytes per vector',
  async open(ctx) {
    const space = ctx.space;
    if (!space) return;
    await ctx.deselect();
    const title = `Compression · ${space}`;
    const ticket = ctx.sheet.open(title, h('p', { class: 'note loading' }, 'Reading the compression table…'));
    const found = await getCompress(space);
    if (!ctx.sheet.isCurrent(ticket)) return;
    if (found) {
      ctx.sheet.fill(ticket, title, compressView(found));
      return;
    }
    const button = h('button', { class: 'button', type: 'button', id: 'compress-measure' }, 'Measure now');
    button.addEventListener('click', () =>
      void ctx.run(async () => {
        button.setAttribute('disabled', '');
        button.textContent = 'Measuring…';
        ctx.setStatus('Measuring compression…');
        try {
          const result = await measureCompress(space);
          if (ctx.space === space) ctx.sheet.fill(ticket, title, compressView(result));
        } finally {
          ctx.setStatus('');
        }
      }),
    );
    ctx.sheet.fill(
      ticket,
      title,
      h('p', { class: 'note' }, 'Not measured yet: float16, int8, binary (with and without rescoring), truncation and PCA, ' +
        'each searched for the exact neighbours of held-out queries (embedscope compress).'),
      button,
    );
  },
});
