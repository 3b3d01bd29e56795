// The compare view: two spaces' maps side by side, coloured by neighbour agreement, linked. It has its own
// full-width view (#compare) instead of the side sheet, made on first open. Opened on a tuned space or its
// base, it pairs the two (base on the left).
import { tunedPair } from '../data/tuned';
import { CompareView } from '../views/compare';
import { $ } from '../views/dom';
import { type SheetContext, registerSheet } from './registry';

const views = new WeakMap<SheetContext, CompareView>();

registerSheet({
  id: 'compare',
  label: 'Compare',
  title: 'Compare two spaces of the same items: neighbour agreement, similarity scales, retrieval, two maps linked',
  visible: (info) => info.spaces.length >= 2,
  async open(ctx) {
    if (!ctx.info) return;
    let view = views.get(ctx);
    if (!view) {
      view = new CompareView($('compare'), ctx.info, (task) => ctx.run(task));
      views.set(ctx, view);
      ctx.hook.compare = view.hook;
    }
    // a tuned space (or its base) opens as base vs tuned; any other space against the first other one
    const pair = tunedPair(ctx.info.spaces, ctx.space);
    const others = ctx.info.spaces.map((s) => s.name).filter((n) => n !== ctx.space);
    await view.open(...(pair ?? [ctx.space, others[0]]));
  },
  close(ctx) {
    const view = views.get(ctx);
    if (!view?.isOpen) return false;
    view.close();
    return true;
  },
});
