// The filter sheet: categories, numeric ranges and text matches over the metadata.
import { getColumn } from '../data/api';
import { filterView } from '../views/filter';
import { registerSheet } from './registry';

registerSheet({
  id: 'filter',
  label: 'Filter',
  title: 'Keep only some items: categories, numeric ranges, text matches',
  async open(ctx) {
    const space = ctx.space;
    if (!space || !ctx.info) return;
    const view = await filterView(
      ctx.columns,
      ctx.info.has_text,
      (meta) => getColumn(space, meta),
      ctx.filter,
      ctx.kept,
      { apply: (spec) => void ctx.run(() => ctx.applyFilter(spec)) },
    );
    ctx.sheet.open('Filter', view);
  },
});
