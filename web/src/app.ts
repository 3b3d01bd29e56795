// The explorer: wires the header controls, the map, the legend, the tooltip and the side panel.
import {
  ApiError,
  type ColumnMeta,
  type Info,
  type Metric,
  type SpaceInfo,
  getColumn,
  getColumns,
  getInfo,
  getLayout,
  getNeighbors,
} from './api';
import { MISSING } from './colors';
import { $, fillSelect } from './dom';
import { type Encoding, encode, plainEncoding } from './encoding';
import { type TestHook, installHook } from './hook';
import { ItemCache } from './items';
import { renderLegend } from './legend';
import { MapView } from './map';
import { Panel } from './panel';
import { Tooltip } from './tooltip';
import { readHash, writeHash } from './url';

const NONE = '';
/** Columns worth colouring by first, when the URL does not say. */
const PREFERRED = /^(label|labels|category|categories|class|topic|cluster|group|genre|type|source|lang|language)$/i;

export class Explorer {
  private info: Info | null = null;
  private space: SpaceInfo | null = null;
  private layoutName: string | null = null;
  private columns: ColumnMeta[] = [];
  private colorBy = NONE;
  private encoding: Encoding | null = null;
  private selected: number | null = null;
  private neighbors: number[] = [];
  private selectToken = 0;

  private readonly items = new ItemCache();
  private readonly map: MapView;
  private readonly panel: Panel;
  private readonly tooltip: Tooltip;
  private readonly hook: TestHook;
  private readonly spaceSelect = $('space-select') as HTMLSelectElement;
  private readonly layoutSelect = $('layout-select') as HTMLSelectElement;
  private readonly colorSelect = $('color-select') as HTMLSelectElement;
  private readonly status = $('status');

  constructor() {
    this.map = new MapView($('map'), {
      hover: (row) => this.tooltip.show(row, row === null ? null : this.map.screenPosition(row)),
      click: (row) => void this.select(row),
      selectMany: () => void this.deselect(),
      deselect: () => void this.deselect(),
    });
    this.tooltip = new Tooltip($('tooltip'), (row) => this.items.get(this.spaceName, row));
    this.panel = new Panel(
      $('panel'),
      {
        select: (row) => void this.select(row),
        close: () => void this.deselect(),
        query: () => this.selected !== null && void this.loadNeighbors(this.selected),
      },
      (row) => this.map.baseColorOf(row) ?? MISSING,
    );
    this.spaceSelect.addEventListener('change', () => void this.run(() => this.openSpace(this.spaceSelect.value)));
    this.layoutSelect.addEventListener('change', () => void this.run(() => this.openLayout(this.layoutSelect.value)));
    this.colorSelect.addEventListener('change', () => void this.run(() => this.colorByColumn(this.colorSelect.value)));
    window.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && this.selected !== null) void this.deselect();
    });
    const self = this;
    this.hook = installHook({
      ready: false,
      count: 0,
      space: null,
      layout: null,
      colorBy: null,
      get selected() {
        return self.selected;
      },
      get neighbors() {
        return self.neighbors.slice();
      },
      pointToScreen: (row) => this.map.screenPosition(row),
      colorOf: (row) => this.map.colorOf(row),
      hover: (row) => {
        this.map.hover(row);
        this.tooltip.show(row, this.map.screenPosition(row));
      },
      select: (row) => this.select(row),
      deselect: () => this.deselect(),
    });
  }

  private get spaceName(): string {
    return this.space?.name ?? '';
  }

  async start(): Promise<void> {
    await this.run(async () => {
      this.info = await getInfo();
      const wanted = readHash();
      if (this.info.spaces.length === 0) {
        this.showEmpty('This workspace has no embedding space yet. Embed it first, e.g. embedscope embed WORKSPACE.');
        return;
      }
      const names = this.info.spaces.map((s) => s.name);
      const space = wanted.space && names.includes(wanted.space) ? wanted.space : (this.info.default_space ?? names[0]);
      fillSelect(this.spaceSelect, this.info.spaces.map((s) => ({ value: s.name, label: spaceLabel(s) })), space);
      await this.openSpace(space, wanted.layout, wanted.color);
      if (wanted.row !== undefined && wanted.row < this.map.count) await this.select(wanted.row);
    });
  }

  private async openSpace(name: string, layout?: string, color?: string): Promise<void> {
    const space = this.info?.spaces.find((s) => s.name === name);
    if (!space) return;
    await this.deselect();
    this.space = space;
    this.hook.space = name;
    this.columns = (await getColumns(name)).filter((c) => c.kind !== 'text');
    const layouts = space.layouts.length ? space.layouts : ['umap'];
    const method = layout && layouts.includes(layout) ? layout : layouts.includes('umap') ? 'umap' : layouts[0];
    fillSelect(this.layoutSelect, layouts.map((l) => ({ value: l, label: l })), method);
    const colorOptions = [{ value: NONE, label: 'none' }, ...this.columns.map((c) => ({ value: c.name, label: c.name }))];
    const names = this.columns.map((c) => c.name);
    const chosen = color !== undefined && (color === NONE || names.includes(color)) ? color : defaultColor(this.columns);
    fillSelect(this.colorSelect, colorOptions, chosen);
    this.colorSelect.disabled = colorOptions.length <= 1;
    this.colorBy = chosen;
    this.encoding = null;
    await this.openLayout(method);
  }

  private async openLayout(method: string): Promise<void> {
    if (!this.space) return;
    const space = this.space;
    this.setStatus(`Loading ${method} layout…`);
    const layout = await getLayout(space.name, method);
    this.encoding ??= await this.encodingFor(this.colorBy, layout.x.length);
    await this.map.setLayout(layout, this.encoding);
    this.selected = null;
    this.neighbors = [];
    this.panel.close();
    this.layoutName = method;
    Object.assign(this.hook, { layout: method, count: this.map.count, colorBy: this.colorBy || null });
    renderLegend($('legend'), this.encoding.legend);
    $('empty').hidden = true;
    this.setStatus(`${this.map.count.toLocaleString()} points · ${space.model ?? space.kind} · ${space.dim} dims${space.stale ? ' · stale' : ''}`);
    this.saveView();
  }

  private async encodingFor(column: string, n: number): Promise<Encoding> {
    const meta = this.columns.find((c) => c.name === column);
    if (!meta || !this.space) return plainEncoding(n);
    return encode(await getColumn(this.space.name, meta));
  }

  private async colorByColumn(column: string): Promise<void> {
    this.colorBy = column;
    this.encoding = await this.encodingFor(column, this.map.count);
    await this.map.setEncoding(this.encoding);
    renderLegend($('legend'), this.encoding.legend);
    this.hook.colorBy = column || null;
    this.saveView();
  }

  async select(row: number): Promise<void> {
    if (!this.space || row < 0 || row >= this.map.count) return;
    const token = ++this.selectToken;
    this.selected = row;
    this.neighbors = [];
    this.tooltip.show(null, null);
    await this.map.highlight(row, []);
    this.panel.loading(row);
    this.saveView();
    const item = await this.items.get(this.space.name, row).catch((e: unknown) => {
      this.panel.error(message(e));
      return null;
    });
    if (item && token === this.selectToken) this.panel.showItem(item);
    await this.loadNeighbors(row, token);
  }

  private async loadNeighbors(row: number, token = this.selectToken): Promise<void> {
    if (!this.space) return;
    this.panel.neighborsLoading();
    try {
      const result = await getNeighbors(this.space.name, row, this.panel.k, this.panel.metric as Metric);
      if (token !== this.selectToken) return;
      const rows = result.neighbors.map((n) => n.row);
      this.panel.showNeighbors(result);
      await this.map.highlight(row, rows);
      this.neighbors = rows;
    } catch (e) {
      if (token === this.selectToken) this.panel.error(message(e));
    }
  }

  async deselect(): Promise<void> {
    this.selectToken++;
    if (this.selected === null && this.neighbors.length === 0) return;
    this.selected = null;
    this.neighbors = [];
    this.panel.close();
    await this.map.clearHighlight();
    this.saveView();
  }

  private saveView(): void {
    writeHash({
      space: this.space?.name,
      layout: this.layoutName ?? undefined,
      color: this.colorBy,
      row: this.selected ?? undefined,
    });
  }

  /** Run a step with the page marked busy; errors go to the status line (and the empty-state note). */
  private async run(step: () => Promise<void>): Promise<void> {
    this.hook.ready = false;
    try {
      await step();
    } catch (e) {
      this.setStatus(message(e), true);
      if (e instanceof ApiError && e.status === 404 && this.map.count === 0) this.showEmpty(message(e));
    } finally {
      await frames(2);
      this.hook.ready = true;
    }
  }

  private setStatus(text: string, error = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }

  private showEmpty(text: string): void {
    const el = $('empty');
    el.textContent = text;
    el.hidden = false;
    this.setStatus('');
    for (const select of [this.spaceSelect, this.layoutSelect, this.colorSelect]) {
      (select.parentElement as HTMLElement).hidden = select.options.length === 0;
    }
  }
}

function defaultColor(columns: ColumnMeta[]): string {
  const categorical = columns.filter((c) => c.kind === 'categorical' && c.n_unique > 1);
  return (categorical.find((c) => PREFERRED.test(c.name)) ?? categorical[0])?.name ?? NONE;
}

function spaceLabel(s: SpaceInfo): string {
  return s.model && s.model !== s.name ? `${s.name} (${s.model})` : s.name;
}

const frames = (n: number) =>
  new Promise<void>((resolve) => {
    const tick = (left: number) => (left <= 0 ? resolve() : requestAnimationFrame(() => tick(left - 1)));
    tick(n);
  });

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
