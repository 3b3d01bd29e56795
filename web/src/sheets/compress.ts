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
    const found = await getCompress(space);
    if (found) {
      ctx.sheet.open(`Compression · ${space}`, compressView(found));
      return;
    }
    const button = h('button', { class: 'button', type: 'button', id: 'compress-measure' }, 'Measure now');
    button.addEventListener('click', () =>
      void ctx.run(async () => {
        button.setAttribute('disabled', '');
        ctx.setStatus('Measuring compression…');
        const result = await measureCompress(space);
        if (ctx.space === space) ctx.sheet.open(`Compression · ${space}`, compressView(result));
        ctx.setStatus('');
      }),
    );
    ctx.sheet.open(
      `Compression · ${space}`,
      h('p', { class: 'note' }, 'Not measured yet: float16, int8, binary (with and without rescoring), truncation and PCA, ' +
        'each searched for the exact neighbours of held-out queries (embedscope compress).'),
      button,
    );
  },
});
