// The compare view: two spaces' maps side by side, points coloured by how much of their neighbourhood the two
// spaces share (Jaccard@k, measured in the original spaces), hover and selection linked between the maps, the
// figures of the comparison and the items whose neighbourhoods changed most. A base space and its tuned space
// (``embedscope train``) show only the held-out items on both maps by default, and both spaces' probes of a label.
import {
  type ColumnMeta,
  type CompareResult,
  type ComparePoints,
  type Info,
  type Neighbor,
  type RetrievalRow,
  getColumn,
  getColumns,
  getCompare,
  getComparePoints,
  getItem,
  getLayout,
  getNeighbors,
  getProbe,
  getSplit,
  measureCompare,
} from '../data/api';
import { type ProbeResult, probeRows } from '../data/probe';
import { heldOutRows, splitSide } from '../data/tuned';
import { probeMessage, probeTable } from './probe';
import { $, fillSelect, h, svgEl } from './dom';
import { type Encoding, encode, encodeUnit, plainEncoding } from '../data/encoding';
import { defaultLayout } from '../data/layouts';
import { renderLegend } from './legend';
import { MapView } from './map';

type Side = 0 | 1;
const SIDES: Side[] = [0, 1];
const COLORS = ['#7aa2f7', '#f28e2b'];

/** State the browser tests read back (``window.__embedscope.compare``). */
export interface CompareHook {
  ready: boolean;
  spaces: [string, string] | null;
  /** The selected item's row on each map (-1: not in that space), or null. */
  selected: [number, number] | null;
  /** The highlighted neighbours on each map. */
  neighbors: [number[], number[]];
  /** The row hovered on the other map by the last linked hover, or null. */
  linkedHover: number | null;
  pointToScreen(side: Side, row: number): [number, number] | null;
  select(side: Side, row: number): Promise<void>;
  count(side: Side): number;
  /** Whether only held-out items are shown (null: neither space is tuned, no toggle). */
  heldOut: boolean | null;
  /** The points drawn on each map (all, or the held-out ones). */
  shown: [number, number];
  /** The probe on show: its label, whether on held-out items, each row's figures a space; null while none. */
  probe: { label: string; heldOut: boolean; rows: Record<string, number[]> } | null;
  /** The last probe asked for has answered (or failed). */
  probeDone: boolean;
}

/** Agreement on a fixed 0..1 ramp; items in only one space (or never compared) grey. */
function encodeAgreement(values: Float32Array, k: number): Encoding {
  return encodeUnit(
    values,
    `neighbour agreement (Jaccard@${k})`,
    `Share of an item's ${k} nearest neighbours that the two spaces have in common, measured in the original spaces (1 = the same neighbours).`,
    'not in both spaces',
  );
}

/** Both spaces' pair-similarity histograms on one axis. */
function similarityChart(r: CompareResult): SVGSVGElement | null {
  const sim = r.similarity;
  if (!sim.edges.length) return null;
  const W = 340;
  const H = 150;
  const m = { l: 8, r: 8, t: 8, b: 30 };
  const lo = sim.edges[0];
  const hi = sim.edges[sim.edges.length - 1];
  const top = Math.max(1, ...sim.a, ...sim.b);
  const x = (v: number) => m.l + ((v - lo) / (hi - lo || 1)) * (W - m.l - m.r);
  const y = (c: number) => H - m.b - (c / top) * (H - m.t - m.b);
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'pair similarity in both spaces' });
  (['a', 'b'] as const).forEach((key, j) => {
    const pts: string[] = [`${x(lo)},${y(0)}`];
    sim[key].forEach((c, i) => pts.push(`${x(sim.edges[i])},${y(c)}`, `${x(sim.edges[i + 1])},${y(c)}`));
    pts.push(`${x(hi)},${y(0)}`);
    svg.append(svgEl('polygon', { points: pts.join(' '), fill: COLORS[j], 'fill-opacity': 0.35, stroke: COLORS[j], 'stroke-width': 1.2 }));
    svg.append(svgEl('text', { x: W - m.r, y: m.t + 10 + 12 * j, 'text-anchor': 'end', style: `fill:${COLORS[j]}`, class: 'dot-label' }, r.spaces[j]));
  });
  // the end ticks anchored inwards: centred on the edge, "-0.23" lost its minus sign to the chart's border
  ([[lo, 'start'], [(lo + hi) / 2, 'middle'], [hi, 'end']] as const).forEach(([v, anchor]) =>
    svg.append(svgEl('text', { x: x(v), y: H - m.b + 12, 'text-anchor': anchor, class: 'tick' }, v.toFixed(2))));
  svg.append(svgEl('text', { x: W / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis' }, `cosine similarity of ${sim.pairs.toLocaleString()} random pairs`));
  return svg;
}

function retrievalTable(title: string, rows: RetrievalRow[], spaces: [string, string]): HTMLElement {
  const head = h('tr', {}, h('th', {}, title), ...spaces.map((s) => h('th', {}, s)), h('th', {}, 'winner'));
  const body = rows.map((r) =>
    h(
      'tr',
      { 'data-metric': r.metric },
      h('td', {}, r.metric),
      ...spaces.map((s) => h('td', { class: 'num' }, (r.values[s] ?? NaN).toFixed(3))),
      h('td', { title: `margin ${r.difference.toFixed(3)}, 95% CI ${r.ci95[0].toFixed(3)}..${r.ci95[1].toFixed(3)}` }, r.winner ?? 'tie'),
    ),
  );
  return h('table', { class: 'table' }, h('thead', {}, head), h('tbody', {}, ...body));
}

export class CompareView {
  readonly hook: CompareHook;
  private maps: MapView[] = [];
  private spaces: [string, string] = ['', ''];
  private points: ComparePoints[] = [];
  private result: CompareResult | null = null;
  private selected: [number, number] | null = null;
  private nbrs: [number[], number[]] = [[], []];
  /** The side whose space is tuned (its split shown), its parts, and the held-out rows of both maps. */
  private splitOf: Side | null = null;
  private held: [number[], number[]] | null = null;
  private probeAsked = 0;
  private cols: ColumnMeta[] = [];
  private readonly heldBox: HTMLInputElement;
  private readonly heldLabel: HTMLElement;
  private readonly probeBox: HTMLElement;
  private readonly selA: HTMLSelectElement;
  private readonly selB: HTMLSelectElement;
  private readonly labelSel: HTMLSelectElement;
  private readonly side: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly status: HTMLElement;
  private readonly titles: HTMLElement[];

  constructor(
    private readonly root: HTMLElement,
    private readonly info: Info,
    private readonly run: (task: () => Promise<void>) => Promise<void>,
  ) {
    this.selA = h('select', { id: 'compare-a', 'aria-label': 'First space' });
    this.selB = h('select', { id: 'compare-b', 'aria-label': 'Second space' });
    this.labelSel = h('select', { id: 'compare-label', 'aria-label': 'Label column for retrieval and the probe' });
    this.heldBox = h('input', { type: 'checkbox', id: 'compare-heldout' });
    this.heldLabel = h('label', { class: 'inline', title: 'Show only the items held out of training on both maps, and probe only those' },
      this.heldBox, ' held-out only');
    this.probeBox = h('div', { class: 'compare-probe', id: 'compare-probe' });
    const runBtn = h('button', { class: 'button', type: 'button', id: 'compare-run' }, 'Compare now');
    const close = h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Close', title: 'Close (Esc)', id: 'compare-close' }, '×');
    this.status = h('span', { class: 'compare-status', role: 'status' });
    const head = h(
      'div',
      { class: 'compare-head' },
      h('span', { class: 'panel-title' }, 'Compare spaces'),
      this.selA,
      h('span', { class: 'muted' }, 'vs'),
      this.selB,
      h('label', { class: 'inline' }, 'label ', this.labelSel),
      this.heldLabel,
      runBtn,
      this.status,
      h('span', { class: 'spacer' }),
      close,
    );
    this.titles = SIDES.map(() => h('div', { class: 'compare-map-title' }));
    const panes = SIDES.map((s) => h('div', { class: 'compare-map', id: `compare-map-${s === 0 ? 'a' : 'b'}` }, this.titles[s]));
    this.side = h('div', { class: 'compare-summary', id: 'compare-summary' });
    this.detail = h('div', { class: 'compare-detail', id: 'compare-detail' });
    const legend = h('div', { class: 'compare-legend', id: 'compare-legend' });
    root.replaceChildren(head, h('div', { class: 'compare-body' }, ...panes, h('aside', { class: 'compare-side' }, legend, this.probeBox, this.side, this.detail)));
    root.setAttribute('role', 'dialog');
    root.setAttribute('aria-label', 'Compare spaces');
    root.hidden = false; // the maps size their canvases on creation: they must be laid out
    this.maps = SIDES.map(
      (s) =>
        new MapView(panes[s], {
          hover: (row) => this.linkHover(s, row),
          click: (row) => void this.run(() => this.select(s, row)),
          selectMany: () => {},
          deselect: () => void this.run(() => this.clearSelection()),
        }),
    );
    const reopen = () => void this.run(() => this.open(this.selA.value, this.selB.value));
    this.selA.addEventListener('change', reopen);
    this.selB.addEventListener('change', reopen);
    runBtn.addEventListener('click', () => void this.run(() => this.measure()));
    this.labelSel.addEventListener('change', () => void this.run(async () => {
      if (!this.result) await this.refresh(); // not compared yet: the maps are coloured by the label
      await this.probe();
    }));
    this.heldBox.addEventListener('change', () => void this.run(() => this.applyHeldOut()));
    close.addEventListener('click', () => this.close());
    const self = this;
    this.hook = {
      ready: false,
      spaces: null,
      linkedHover: null,
      heldOut: null,
      shown: [0, 0],
      probe: null,
      probeDone: false,
      get selected() {
        return self.selected;
      },
      get neighbors(): [number[], number[]] {
        return [self.nbrs[0].slice(), self.nbrs[1].slice()];
      },
      pointToScreen: (side, row) => this.maps[side].screenPosition(row),
      select: (side, row) => this.select(side, row),
      count: (side) => this.maps[side].count,
    };
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  close(): void {
    this.root.hidden = true;
  }

  /** Show spaces ``a`` and ``b`` (default: the first two), their stored comparison if there is one. */
  async open(a?: string, b?: string): Promise<void> {
    const names = this.info.spaces.map((s) => s.name);
    a = a && names.includes(a) ? a : names[0];
    b = b && names.includes(b) && b !== a ? b : names.find((n) => n !== a) ?? names[0];
    this.root.hidden = false;
    this.hook.ready = false;
    const opts = names.map((n) => ({ value: n, label: n }));
    fillSelect(this.selA, opts, a);
    fillSelect(this.selB, opts, b);
    this.selA.disabled = this.selB.disabled = false;
    this.spaces = [a, b];
    this.hook.spaces = [a, b];
    this.selected = null;
    this.nbrs = [[], []];
    this.detail.replaceChildren();
    const cols = (await getColumns(a)).filter((c) => c.kind === 'categorical');
    this.cols = cols;
    this.splitOf = splitSide(this.info.spaces, [a, b]);
    const by = this.splitOf === null ? null : this.info.spaces.find((x) => x.name === this.spaces[this.splitOf!])?.tuned?.by;
    const label = this.labelSel.value || (by && cols.some((c) => c.name === by) ? by : '');
    fillSelect(this.labelSel, [{ value: '', label: '(none)' }, ...cols.map((c) => ({ value: c.name, label: c.name }))], label);
    this.labelSel.disabled = cols.length === 0;
    this.heldLabel.hidden = this.splitOf === null;
    this.heldBox.checked = this.splitOf !== null; // on by default for a base-vs-tuned pair
    this.held = null;
    await Promise.all(SIDES.map((s) => this.loadMap(s)));
    this.result = await getCompare(a, b);
    await this.refresh();
    if (this.splitOf !== null) {
      const parts = await getSplit(this.spaces[this.splitOf]);
      const rows = heldOutRows(parts, this.points[this.splitOf].other);
      this.held = this.splitOf === 0 ? [rows.own, rows.other] : [rows.other, rows.own];
    }
    await this.applyHeldOut();
  }

  /** Both maps show only the held-out items (the toggle on), or every item; the probe follows. */
  private async applyHeldOut(): Promise<void> {
    const only = this.splitOf !== null && this.held !== null && this.heldBox.checked;
    this.hook.heldOut = this.splitOf === null ? null : this.heldBox.checked;
    for (const s of SIDES) {
      const n = this.maps[s].count;
      if (n === 0 || n !== this.points[s]?.other.length) continue; // no layout on this side
      await this.maps[s].setFilter(only ? this.held![s] : null);
      this.hook.shown[s] = only ? this.held![s].length : n;
      const base = this.titles[s].dataset.base ?? this.titles[s].textContent ?? '';
      this.titles[s].dataset.base = base;
      this.titles[s].textContent = only ? `${base} · ${this.held![s].length.toLocaleString()} held-out items` : base;
    }
    await this.probe();
  }

  /** Probe the chosen label in both spaces (on the held-out items when only those are shown). */
  private async probe(): Promise<void> {
    const label = this.labelSel.value;
    const asked = ++this.probeAsked;
    this.hook.probeDone = false;
    this.hook.probe = null;
    if (!label) {
      this.probeBox.replaceChildren(
        h('div', { class: 'section-title' }, 'Probe'),
        probeMessage('Choose a label column: each space is probed for it (logistic regression and k-NN, cross-validated).'),
      );
      this.hook.probeDone = true;
      return;
    }
    const heldOut = this.splitOf !== null && this.heldBox.checked;
    const title = h('div', { class: 'section-title' }, `Probe of ${label}${heldOut ? ' · held-out items' : ''}`);
    this.probeBox.replaceChildren(title, probeMessage('Probing…'));
    let result: ProbeResult;
    try {
      result = await getProbe(label, [...this.spaces], heldOut ? this.spaces[this.splitOf!] : null);
    } catch (e) {
      if (asked === this.probeAsked) {
        this.probeBox.replaceChildren(title, probeMessage(`Probe failed: ${e instanceof Error ? e.message : String(e)}`, true));
        this.hook.probeDone = true;
      }
      return;
    }
    if (asked !== this.probeAsked) return; // a newer probe was asked for meanwhile
    const spaces = [...this.spaces];
    this.probeBox.replaceChildren(title, probeTable(result, spaces, heldOut));
    const rows: Record<string, number[]> = {};
    for (const r of probeRows(result, spaces)) rows[r.metric] = r.values;
    this.hook.probe = { label, heldOut, rows };
    this.hook.probeDone = true;
  }

  private async loadMap(s: Side): Promise<void> {
    const space = this.info.spaces.find((x) => x.name === this.spaces[s]);
    const method = space ? defaultLayout(space.layouts) : null;
    this.titles[s].textContent = method ? `${this.spaces[s]} · ${method}` : `${this.spaces[s]}: no layout (embedscope project)`;
    this.titles[s].dataset.base = this.titles[s].textContent;
    if (!method) return;
    const layout = await getLayout(this.spaces[s], method);
    await this.maps[s].setLayout(layout, plainEncoding(layout.x.length));
    await this.maps[s].fitAll();
  }

  /** Compare now (POST) with the chosen label column, then show it. */
  private async measure(): Promise<void> {
    const [a, b] = this.spaces;
    this.status.textContent = 'Comparing…';
    try {
      this.result = await measureCompare(a, b, this.result?.k ?? 10, this.labelSel.value || null);
    } finally {
      this.status.textContent = '';
    }
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    const [a, b] = this.spaces;
    this.points = await Promise.all([getComparePoints(a, b, 'a'), getComparePoints(a, b, 'b')]);
    const result = this.result;
    const k = this.result?.k ?? 10;
    // not compared yet: each map coloured by the chosen label column (its own point order), else plain
    const meta = this.result ? undefined : this.cols.find((c) => c.name === this.labelSel.value);
    const byLabel = meta ? await Promise.all(SIDES.map(async (s) => encode(await getColumn(this.spaces[s], meta)))) : null;
    if (this.result !== result) return; // compared meanwhile: that refresh colours the maps
    for (const s of SIDES) {
      if (this.maps[s].count !== this.points[s].jaccard.length) continue; // no layout on this side
      const n = this.maps[s].count;
      await this.maps[s].setEncoding(this.result ? encodeAgreement(this.points[s].jaccard, k) : byLabel ? byLabel[s] : plainEncoding(n));
    }
    const legend = $('compare-legend');
    renderLegend(legend, this.result ? encodeAgreement(this.points[0].jaccard, k).legend : byLabel ? byLabel[0].legend : { kind: 'none' });
    ($('compare-run') as HTMLButtonElement).textContent = this.result ? 'Recompute' : 'Compare now';
    this.renderSummary();
    this.hook.ready = true;
  }

  private renderSummary(): void {
    const r = this.result;
    if (!r) {
      this.side.replaceChildren(
        h('p', { class: 'note', id: 'compare-none' },
          `${this.spaces[0]} and ${this.spaces[1]} have not been compared yet. "Compare now" measures, in the original spaces, how much of each item's neighbourhood they share, their CKA, both similarity scales, and (with a label column) which retrieves better; or run embedscope compare WS --spaces ${this.spaces.join(',')}.`),
      );
      return;
    }
    const stats = h(
      'table',
      { class: 'table', id: 'compare-stats' },
      h('tbody', {},
        h('tr', {}, h('td', {}, `mean Jaccard@${r.k}`), h('td', { class: 'num' }, `${r.jaccard_mean.toFixed(3)} (chance ${r.chance_jaccard.toFixed(4)})`)),
        h('tr', {}, h('td', {}, 'linear CKA'), h('td', { class: 'num' }, r.cka.toFixed(3))),
        h('tr', {}, h('td', {}, 'Spearman of pair similarities'), h('td', { class: 'num' }, r.spearman.toFixed(3))),
        h('tr', {}, h('td', {}, 'items / dims'), h('td', { class: 'num' }, `${r.items.toLocaleString()} / ${r.dims.join(', ')}`)),
      ),
    );
    const cal = r.calibration;
    const calRows = cal
      ? cal.percentiles.map((p, i) => [p, cal.a[i], cal.b[i]] as const).filter(([p]) => [50, 90, 99].includes(p))
      : [];
    const calTable = cal
      ? h('table', { class: 'table', id: 'compare-calibration' },
          h('thead', {}, h('tr', {}, h('th', {}, 'pairs above'), h('th', {}, r.spaces[0]), h('th', {}, r.spaces[1]))),
          h('tbody', {}, ...calRows.map(([p, x, y]) => h('tr', {}, h('td', {}, `${(100 - p).toFixed(0)}%`), h('td', { class: 'num' }, x.toFixed(3)), h('td', { class: 'num' }, y.toFixed(3))))))
      : null;
    const changed = h(
      'ol',
      { class: 'hits compare-changed', id: 'compare-changed' },
      ...r.changed_most.map((c) => {
        const li = h('li', { tabindex: 0, 'data-id': c.id, 'data-row-a': c.row_a }, h('span', { class: 'score' }, c.jaccard.toFixed(2)), h('span', { class: 'hit-text' }, c.id));
        const go = () => void this.run(() => this.select(0, c.row_a));
        li.addEventListener('click', go);
        li.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter') go();
        });
        return li;
      }),
    );
    this.side.replaceChildren(
      h('p', { class: 'note', id: 'compare-verdict' }, r.verdict),
      stats,
      h('div', { class: 'section-title' }, 'Similarity scales'),
      similarityChart(r) ?? '',
      calTable ?? '',
      r.retrieval ? retrievalTable(`same ${r.retrieval.column}`, r.retrieval.rows, r.spaces) : '',
      r.qrels ? retrievalTable('qrels', r.qrels.rows, r.spaces) : '',
      h('div', { class: 'section-title' }, 'Changed most (lowest agreement)'),
      changed,
    );
  }

  /** Hovering a point on one map hovers the same item on the other. */
  private linkHover(s: Side, row: number | null): void {
    const other = (1 - s) as Side;
    if (row === null || !this.points[s]) {
      this.hook.linkedHover = null;
      return;
    }
    const o = this.points[s].other[row];
    this.hook.linkedHover = o >= 0 ? o : null;
    if (o >= 0 && o < this.maps[other].count) this.maps[other].hover(o);
  }

  /** Select an item on both maps: the item, its neighbours in each space (shared ones marked) drawn as edges. */
  async select(s: Side, row: number): Promise<void> {
    if (!this.points[s] || row < 0) return;
    const other = this.points[s].other[row];
    const rows: [number, number] = s === 0 ? [row, other] : [other, row];
    this.selected = rows;
    const k = this.result?.k ?? 10;
    const lists = await Promise.all(
      SIDES.map((t) => (rows[t] >= 0 ? getNeighbors(this.spaces[t], rows[t], k, 'cosine') : Promise.resolve(null))),
    );
    const item = await getItem(this.spaces[s], row);
    for (const t of SIDES) {
      const list = lists[t];
      this.nbrs[t] = list ? list.neighbors.map((n) => n.row) : [];
      if (list && rows[t] < this.maps[t].count) await this.maps[t].highlight(rows[t], this.nbrs[t]);
    }
    const ids = lists.map((l) => new Set((l?.neighbors ?? []).map((n) => n.id)));
    const column = (t: Side) => {
      const list = lists[t];
      if (!list) return h('div', { class: 'muted' }, `not in ${this.spaces[t]}`);
      return h(
        'ol',
        { class: 'compare-nbrs', id: `compare-nbrs-${t === 0 ? 'a' : 'b'}` },
        ...list.neighbors.map((n: Neighbor) =>
          h('li', { class: ids[1 - t].has(n.id) ? 'shared' : undefined, title: n.text ?? n.id }, h('span', { class: 'score' }, n.score.toFixed(2)), ' ', n.text ?? n.id),
        ),
      );
    };
    const shared = [...ids[0]].filter((i) => ids[1].has(i)).length;
    this.detail.replaceChildren(
      h('div', { class: 'section-title' }, `Selected: ${item.id}`),
      item.text ? h('p', { class: 'item-text' }, item.text) : '',
      h('p', { class: 'note' }, `${shared} of ${k} neighbours in common (highlighted).`),
      h('div', { class: 'compare-cols' },
        h('div', {}, h('div', { class: 'muted' }, this.spaces[0]), column(0)),
        h('div', {}, h('div', { class: 'muted' }, this.spaces[1]), column(1))),
    );
  }

  private async clearSelection(): Promise<void> {
    this.selected = null;
    this.nbrs = [[], []];
    this.detail.replaceChildren();
    for (const m of this.maps) await m.clearHighlight();
  }
}
