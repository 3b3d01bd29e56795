// The health sheet of the current space: every check with its verdict, and the pair-similarity histogram.
import { getDimensions } from '../data/api';
import { h } from '../views/dom';
import { getHealth, healthView } from '../views/health';
import { registerSheet } from './registry';

registerSheet({
  id: 'health',
  label: 'Health',
  title: 'Space health: hubness, anisotropy, rogue dimensions, duplicates, and the distribution of pair similarities',
  async open(ctx) {
    const space = ctx.space;
    if (!space) return;
    await ctx.deselect();
    const ticket = ctx.sheet.open(`Health · ${space}`,
      h('p', { class: 'note loading', id: 'health-loading' }, 'Measuring the health of this space…'));
    ctx.setStatus('Measuring health…');
    try {
      const [health, dims] = await Promise.all([getHealth(space), getDimensions(space).catch(() => null)]);
      if (ctx.space === space) ctx.sheet.fill(ticket, `Health · ${space}`, healthView(health, dims));
    } finally {
      ctx.setStatus('');
    }
  },
});
