// The Jupyter widget (anywidget): the web app's map of one layout, in a notebook cell.
// Python (src/embedscope/widget.py) sends coordinates and the colour column as bytes traits; hover text is
// fetched on demand with custom messages, and so are thumbnails (by id, the WebP bytes as the reply's buffer:
// data/kernel-thumbs.ts) when the workspace has images; the selection goes back as a uint32 bytes trait of rows.
// The lasso: the bar's "Lasso" button turns lasso mode on, where a plain drag draws it (JupyterLab takes
// shift + drag to select cells, so the web app's shift + drag never reaches the map there).
// The module's only export is the default ``{ render }`` (anywidget deprecates named exports).
import type { ColumnData, Item } from './data/api';
import { KernelThumbs } from './data/kernel-thumbs';
import { h } from './views/dom';
import { type Encoding, encode, plainEncoding } from './data/encoding';
import { renderLegend } from './views/legend';
import { MapView } from './views/map';
import { pendingThumbImg } from './views/thumb';
import { Tooltip } from './views/tooltip';
import css from './widget.css?inline';

/** The part of anywidget's model the widget uses (anywidget >= 0.9; ``Bytes`` traits arrive as DataView). */
export interface WidgetModel {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string, callback?: (...args: any[]) => void): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
}

/** What tests (and the curious) can read back from the widget's root element (``el.embedscope``). */
export interface WidgetHook {
  ready: boolean;
  count: number;
  /** Selected rows, as the map shows them. */
  selected: number[];
  pointToScreen(row: number): [number, number] | null;
  colorOf(row: number): [number, number, number] | null;
  /** Milliseconds of the last layout's steps: ``encode`` (typed arrays and colours), ``draw`` (the
   * scatterplot's first draw, spatial index included), ``fit`` (zoom to the whole layout), ``total``. */
  timings: Record<string, number>;
}

type Bytes = DataView | ArrayBuffer | Uint8Array | null | undefined;

/** A typed-array view on a bytes trait (copied only when it is not aligned for ``T``). */
function typed<T extends Float32Array | Int16Array | Uint32Array>(
  bytes: Bytes,
  Kind: { new (buffer: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number },
): T {
  if (!bytes) return new Kind(new ArrayBuffer(0), 0, 0);
  const buffer = bytes instanceof ArrayBuffer ? bytes : (bytes.buffer as ArrayBuffer);
  const offset = bytes instanceof ArrayBuffer ? 0 : bytes.byteOffset;
  const length = Math.floor(bytes.byteLength / Kind.BYTES_PER_ELEMENT);
  if (offset % Kind.BYTES_PER_ELEMENT === 0) return new Kind(buffer, offset, length);
  return new Kind(buffer.slice(offset, offset + length * Kind.BYTES_PER_ELEMENT), 0, length);
}

/** The colour column the model holds, as the web app's encoder expects it. */
function column(model: WidgetModel): ColumnData | null {
  const name = model.get('color') as string;
  const kind = model.get('_color_kind') as string;
  if (!name || kind === 'none') return null;
  if (kind === 'categorical') {
    return { kind, name, codes: Int32Array.from(typed(model.get('_codes'), Int16Array)), categories: model.get('_categories') };
  }
  return { kind: 'numeric', name, values: typed(model.get('_codes'), Float32Array) };
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const style = h('style', {}, css);
  const select = h('select', { class: 'es-color', 'aria-label': 'colour by' });
  const info = h('span', { class: 'es-info' });
  const picked = h('span', { class: 'es-selected' });
  const lasso = h('button', { type: 'button', class: 'es-lasso', 'aria-pressed': 'false',
    title: 'Lasso mode: drag a loop around points to select them (off: drag pans)' }, 'Lasso');
  const legend = h('div', { class: 'legend', hidden: true });
  const tip = h('div', { class: 'tooltip', hidden: true, role: 'tooltip' });
  const stage = h('div', { class: 'es-stage' }, legend, tip);
  const root = h('div', { class: 'embedscope-widget' }, style,
    h('div', { class: 'es-bar' }, info, h('label', {}, 'colour ', select), lasso, h('span', { class: 'es-spacer' }), picked), stage);
  el.appendChild(root);

  let encoding: Encoding = plainEncoding(0);
  let rows: number[] = [];
  const hook: WidgetHook = {
    ready: false,
    count: 0,
    selected: [],
    pointToScreen: (row) => map.screenPosition(row),
    colorOf: (row) => map.colorOf(row),
    timings: {},
  };
  (root as unknown as { embedscope: WidgetHook }).embedscope = hook;

  // Hover text, on demand: one custom message per item, answered by the kernel, cached.
  const items = new Map<number, Item>();
  const waiting = new Map<number, ((item: Item) => void)[]>();
  const thumbs = new KernelThumbs((content) => model.send(content));
  const onMessage = (msg: { type?: string; item?: Item }, buffers?: DataView[]) => {
    if (thumbs.receive(msg, buffers)) return;
    if (msg?.type !== 'item' || !msg.item) return;
    items.set(msg.item.row, msg.item);
    for (const resolve of waiting.get(msg.item.row) ?? []) resolve(msg.item);
    waiting.delete(msg.item.row);
  };
  model.on('msg:custom', onMessage);
  const load = (row: number): Promise<Item> => {
    const hit = items.get(row);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => {
      const queue = waiting.get(row);
      if (queue) queue.push(resolve);
      else {
        waiting.set(row, [resolve]);
        model.send({ type: 'item', row });
      }
    });
  };
  const picture = (item: Item) =>
    model.get('_images') && item.has_image ? pendingThumbImg(item.id, thumbs.url(item.id), 96, 'thumb-md') : null;
  const tooltip = new Tooltip(tip, load, picture);

  // Redraws run one at a time (the scatterplot ignores a draw while another is in flight). A redraw asked for
  // while one of the same kind is still waiting is merged into it: jobs read the model when they run.
  let chain: Promise<void> = Promise.resolve();
  const queued = new Set<string>();
  const redraw = (kind: 'layout' | 'color' | 'selection', job: () => Promise<void>) => {
    if (queued.has(kind)) return;
    queued.add(kind);
    chain = chain.then(async () => {
      queued.delete(kind);
      try {
        await job();
      } catch (e) {
        console.error('embedscope widget:', e);
      }
    });
  };
  const showRows = () => redraw('selection', () => map.selectRows(rows));

  const pushSelection = (next: number[]) => {
    rows = next;
    hook.selected = next;
    showSelected();
    model.set('_selected_rows', new DataView(Uint32Array.from(next).buffer));
    model.save_changes();
  };
  const map = new MapView(stage, {
    hover: (row) => tooltip.show(row, row === null ? null : map.screenPosition(row)),
    click: (row) => {
      pushSelection([row]);
      showRows();
    },
    selectMany: (many) => {
      pushSelection(many);
      showRows();
    },
    deselect: () => {
      if (rows.length) pushSelection([]);
      showRows();
    },
  });

  function showSelected(): void {
    picked.textContent = rows.length ? `${rows.length.toLocaleString()} selected` : '';
  }

  function fillColors(): void {
    const options = [{ name: '', kind: 'none' }, ...(model.get('_columns') as { name: string; kind: string }[])];
    select.replaceChildren(...options.map((c) => h('option', { value: c.name }, c.name || '(none)')));
    select.value = model.get('color') ?? '';
    select.disabled = options.length <= 1;
  }

  async function recolor(): Promise<void> {
    const col = column(model);
    encoding = col ? encode(col) : plainEncoding(map.count);
    await map.clearHighlight();
    await map.setEncoding(encoding);
    renderLegend(legend, encoding.legend);
    select.value = model.get('color') ?? '';
    await map.selectRows(rows);
  }

  async function relayout(): Promise<void> {
    hook.ready = false;
    const t0 = performance.now();
    const x = typed(model.get('_x'), Float32Array);
    const y = typed(model.get('_y'), Float32Array);
    const col = column(model);
    encoding = col ? encode(col) : plainEncoding(x.length);
    const t1 = performance.now();
    await map.setLayout({ x, y }, encoding);
    const t2 = performance.now();
    await map.fitAll();
    const t3 = performance.now();
    renderLegend(legend, encoding.legend);
    hook.count = map.count;
    info.textContent = `${model.get('space')} · ${model.get('method')} · ${map.count.toLocaleString()} points`;
    rows = Array.from(typed(model.get('_selected_rows'), Uint32Array));
    hook.selected = rows;
    showSelected();
    if (rows.length) await map.selectRows(rows);
    hook.timings = { encode: t1 - t0, draw: t2 - t1, fit: t3 - t2, total: performance.now() - t0 };
    hook.ready = true;
  }

  const onSelected = () => {
    rows = Array.from(typed(model.get('_selected_rows'), Uint32Array));
    hook.selected = rows;
    showSelected();
    showRows();
  };
  // The colour's name, kind, categories and codes arrive together; one recolour serves them all.
  const onColor = () => redraw('color', recolor);
  const COLOR_TRAITS = ['color', '_color_kind', '_categories', '_codes'];
  const onLayout = () => redraw('layout', relayout);
  const onHeight = () => {
    stage.style.height = `${model.get('height')}px`;
  };
  lasso.addEventListener('click', () => {
    map.lassoMode = !map.lassoMode;
    lasso.setAttribute('aria-pressed', String(map.lassoMode));
  });
  select.addEventListener('change', () => {
    model.set('color', select.value);
    model.save_changes();
  });
  model.on('change:_selected_rows', onSelected);
  for (const name of COLOR_TRAITS) model.on(`change:${name}`, onColor);
  model.on('change:_columns', fillColors);
  model.on('change:_x', onLayout);
  model.on('change:height', onHeight);

  onHeight();
  fillColors();
  onLayout();

  return () => {
    model.off('msg:custom', onMessage);
    model.off('change:_selected_rows', onSelected);
    for (const name of COLOR_TRAITS) model.off(`change:${name}`, onColor);
    model.off('change:_columns', fillColors);
    model.off('change:_x', onLayout);
    model.off('change:height', onHeight);
    thumbs.dispose();
    root.remove();
  };
}

export default { render };
