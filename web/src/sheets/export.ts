// The export sheet: the map as PNG, the selection as CSV, a link to this view, the CLI for everything.
import { download, exportView } from '../views/selection';
import { registerSheet } from './registry';

registerSheet({
  id: 'export',
  label: 'Export',
  title: 'Export: the map as PNG, the selection as CSV, a link to this view',
  async open(ctx) {
    const space = ctx.space;
    if (!space) return;
    ctx.saveView();
    ctx.sheet.open(
      'Export',
      exportView({
        png: () =>
          void ctx.run(async () => {
            download(await ctx.mapPng(), `${space}-${ctx.layout ?? 'map'}.png`);
          }),
        csv: ctx.selection.length ? () => void ctx.run(() => ctx.downloadSelection()) : null,
        link: window.location.href,
        workspaceHint: `The whole space with metadata, coordinates and vectors: embedscope export WORKSPACE --space ${space} ` +
          '--format parquet|csv|projector-tsv -o PATH (projector-tsv loads into projector.tensorflow.org).',
      }),
    );
  },
});
