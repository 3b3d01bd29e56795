// The explorer: the state (space, layout, colouring, filter, search, view) and the wiring of the header controls,
// the map, the globe, the legend and the parts in explorer/ (item selection, lasso, sheet context, test hook).
import {
  ApiError,
  type ColumnMeta,
  type Info,
  type Layout,
  type LayoutInfo,
  type SpaceInfo,
  getColumns,
  getFilter,
  getInfo,
  getKdOrder,
  getLayout,
  type SearchMode,
  type SearchResult,
  search,
  searchScores,
} from './data/api';
import { type ClusterData, Colorings, HONESTY, NONE, QUERY, type Scene, colorOptions, defaultColor } from './data/coloring';
import { type Encoding, type Highlight, filteredLegend } from './data/encoding';
import { type FilterSpec, filterJson, keptRows, parseFilter } from './data/filter-spec';
import { ItemCache } from './data/items';
import { NO_LAYOUT, defaultLayout, globeLayout } from './data/layouts';
import { message, quiet } from './data/promises';
import { type DoneSearch, reusable, searchIn } from './data/search-cache';
import { imagesOn, setImages } from './data/thumbs';
import { readHash, writeHash } from './data/url';
import { type ExplorerParts, installTestHook, sheetContext } from './explorer/bindings';
import { ItemSelection, type ItemSelectionHost } from './explorer/item-selection';
import { Lasso, type LassoHost } from './explorer/lasso';
import type { TestHook } from './hook';
import { type SheetContext, buttonId, sheetById, sheets } from './sheets';
import { setStatus, showHonesty } from './views/badges';
import { ContextsView } from './views/contexts';
import { $, fillSelect, frames, h } from './views/dom';
import { GlobePane } from './views/globe-pane';
import { ClusterLabels } from './views/labels';
import { renderLegend } from './views/legend';
import { MapView } from './views/map';
import { searchView, setSearchForm, wireSearchForm } from './views/search';
import { Sheet } from './views/sheet';
import { PICTURE_CAMERA, ThumbLayer } from './views/thumb-layer';
import { type BarMode, Toolbar } from './views/toolbar';
import { Tooltip } from './views/tooltip';

type View = 'map' | 'globe';

/** The explorer. Its public members are what its parts read and call back (``ExplorerParts`` in
 * explorer/bindings.ts, the hosts of explorer/item-selection.ts and explorer/lasso.ts); only app.ts sets them. */
export class Explorer implements ExplorerParts, ItemSelectionHost, LassoHost {
  info: Info | null = null;
  private space: SpaceInfo | null = null;
  layoutName: string | null = null;
  private layoutInfo: LayoutInfo | null = null;
  view: View = 'map';
  /** Metadata columns of the current space, and its text columns (the filter matches substrings in them). */
  columns: ColumnMeta[] = [];
  textColumns: ColumnMeta[] = [];
  private colorBy = NONE;
  encoding: Encoding | null = null;
  /** The metadata filter (see data/filter-spec.ts) and which points pass it, or null. */
  filter: FilterSpec | null = null;
  keep: Uint8Array | null = null;
  /** The current search (its result and every point's score), or null. */
  private query: DoneSearch | null = null;

  private readonly items = new ItemCache();
  private readonly colorings = new Colorings();
  private clusterData: ClusterData | null = null;
  private readonly labels: ClusterLabels;
  /** The header's "labels" toggle. */
  private labelsOn = true;
  private readonly labelsToggle = $('labels-toggle') as HTMLInputElement;
  readonly map: MapView;
  /** Pictures instead of dots at deep zoom (workspaces with images). */
  readonly thumbs: ThumbLayer;
  readonly globe: GlobePane;
  readonly tooltip: Tooltip;
  readonly sheet = new Sheet($('sheet'));
  /** The header's row and its menu. */
  private readonly toolbar: Toolbar;
  /** The item in the side panel and its neighbours; the points chosen together (a lasso). */
  readonly picked: ItemSelection;
  readonly lasso: Lasso;
  /** What the sheets (sheets/) may read and do; the browser tests' read-back hook. */
  private readonly ctx: SheetContext;
  readonly hook: TestHook;
  private saveTimer: number | undefined;
  /** Steps under way in ``run`` (the page is ready when none is). */
  private running = 0;
  private readonly spaceSelect = $('space-select') as HTMLSelectElement;
  private readonly layoutSelect = $('layout-select') as HTMLSelectElement;
  private readonly colorSelect = $('color-select') as HTMLSelectElement;
  private readonly status = $('status');
  /** A contexts workspace's title, layer control and the word alone on the map (hidden elsewhere). */
  private readonly contexts: ContextsView;

  constructor() {
    this.map = new MapView($('map'), {
      hover: (row) => this.tooltip.show(row, row === null ? null : this.map.screenPosition(row)),
      click: (row) => void this.select(row),
      selectMany: (rows) => void this.run(() => this.lasso.choose(rows)),
      deselect: () => void (this.lasso.rows.length ? this.run(() => this.lasso.clear()) : this.deselect()),
    });
    this.thumbs = new ThumbLayer($('map'), this.map, () => this.keep);
    this.labels = new ClusterLabels($('map'));
    this.contexts = new ContextsView($('map').parentElement as HTMLElement, $('map'), this.map, {
      openLayer: (space) => this.run(() => this.openLayer(space)),
      clustersOf: (space) => this.colorings.clustersOf(space),
    });
    this.map.onView(() => {
      this.thumbs.schedule();
      this.labels.schedule();
      this.saveViewSoon();
    });
    this.tooltip = new Tooltip($('tooltip'), (row) => this.items.get(this.spaceName, row));
    this.picked = new ItemSelection(this.map, this.items, this);
    this.lasso = new Lasso(this.map, this.sheet, this.items, this);
    this.spaceSelect.addEventListener('change', () => void this.run(() => this.openSpace(this.spaceSelect.value)));
    this.layoutSelect.addEventListener('change', () => void this.run(() => this.openLayout(this.layoutSelect.value)));
    this.colorSelect.addEventListener('change', () => void this.run(() => this.colorByColumn(this.colorSelect.value)));
    this.labelsToggle.addEventListener('change', () => this.setLabels(this.labelsToggle.checked));
    $('view-map').addEventListener('click', () => void this.run(() => this.setView('map')));
    $('view-globe').addEventListener('click', () => void this.run(() => this.setView('globe')));
    wireSearchForm((q, mode) => void this.run(() => (q ? this.runSearch(q, mode) : this.clearSearch())));
    this.globe = new GlobePane({
      hover: (row) => this.tooltip.show(row, row === null ? null : this.globe.screenPosition(row)),
      click: (row) => void this.select(row),
      deselect: () => void this.deselect(),
    });
    // one header button a sheet, in registration order, before the honesty badge and the status line
    const buttons = $('bar-sheets');
    for (const def of sheets()) {
      const button = h('button', { id: buttonId(def), class: 'button', type: 'button', hidden: def.visible !== undefined, title: def.title }, def.label);
      button.addEventListener('click', () => void this.run(() => def.open(this.ctx)));
      buttons.append(button);
    }
    // what does not fit in the header's row goes into its menu (a phone: all but the space and the search box)
    // the sheets' buttons go one at a time (the last first), so a laptop keeps the first ones in the row
    const sheetButtons = [...buttons.children].reverse() as HTMLElement[];
    this.toolbar = new Toolbar($('bar'), $('menu-open') as HTMLButtonElement, $('bar-menu'), this.status,
      [...sheetButtons, $('bar-controls'), $('search-mode-field')],
      [...sheetButtons.map((): BarMode => 'sheets'), 'controls', 'phone'],
      [buttons, ...sheetButtons, $('bar-controls'), $('honesty')]); // a button's ``hidden`` in the menu too
    window.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape') return;
      if (this.toolbar.close()) return;
      if (sheets().some((def) => def.close?.(this.ctx))) return;
      if (this.sheet.isOpen) this.sheet.close();
      else if (this.picked.selected !== null) void this.deselect();
      else if (this.lasso.rows.length) void this.run(() => this.lasso.clear());
    });
    this.ctx = sheetContext(this);
    this.hook = installTestHook(this);
  }

  get spaceName(): string {
    return this.space?.name ?? '';
  }

  /** An item is being selected: close the sheet, drop the lasso selection, hide the tooltip. */
  beforeSelect(): void {
    this.sheet.close();
    this.lasso.forget();
    this.tooltip.show(null, null);
  }

  /** Show the item selection's highlight on the globe when it shows this layout; turn ``focus`` into view. */
  showOnGlobe(highlight: Highlight, focus?: number): void {
    const globe = this.globe;
    if (this.globeShowsLayout()) globe.setHighlight(highlight);
    if (focus !== undefined && this.view === 'globe' && globe.loaded && globe.screenPosition(focus) === null) globe.lookAt(focus);
  }

  neighborFilter(): string | null {
    return filterJson(this.filter);
  }

  async start(): Promise<void> {
    await this.run(async () => {
      this.info = await getInfo();
      setImages(this.info);
      this.mark('info');
      const wanted = readHash();
      if (wanted.labels === false) {
        this.labelsOn = false;
        this.labelsToggle.checked = false;
      }
      if (this.info.spaces.length === 0) {
        this.showEmpty('This workspace has no embedding space yet. Embed it first, e.g. embedscope embed WORKSPACE.');
        return;
      }
      const names = this.info.spaces.map((s) => s.name);
      for (const def of sheets()) if (def.visible) $(buttonId(def)).hidden = !def.visible(this.info);
      const layer = this.contexts.setInfo(this.info.contexts);
      await this.contexts.loadSenses();
      const space = wanted.space && names.includes(wanted.space) ? wanted.space : (layer ?? this.info.default_space ?? names[0]);
      fillSelect(this.spaceSelect, this.info.spaces.map((s) => ({ value: s.name, label: spaceLabel(s) })), space);
      await this.openSpace(space, wanted.layout, wanted.color);
      if (wanted.view === 'globe' && this.sphere() !== null) await this.setView('globe');
      if (wanted.filter) await this.applyFilter(parseFilter(wanted.filter), false);
      if (wanted.cam) await this.map.setCamera(wanted.cam);
      else if (imagesOn()) await this.map.setCamera(PICTURE_CAMERA);
      else if (this.contexts.active || portrait($('map'))) await this.map.fitAll(); // a phone: the whole map, not its middle
      if (wanted.q) {
        setSearchForm(wanted.q, wanted.mode ?? 'semantic');
        await this.runSearch(wanted.q, wanted.mode ?? 'semantic');
      }
      if (wanted.sel?.length) await this.lasso.choose(wanted.sel.filter((r) => r < this.map.count));
      else if (wanted.row !== undefined && wanted.row < this.map.count) await this.select(wanted.row);
    });
  }

  /** Search the current space, colour the map by the scores, and list the hits in the sheet. */
  private async runSearch(q: string, mode: SearchMode): Promise<void> {
    const space = this.spaceName;
    if (!space) return;
    const filter = filterJson(this.filter);
    const cached = reusable(this.query, space, q, mode, filter);
    let result: SearchResult;
    let scores: Float32Array;
    if (cached) {
      ({ result, scores } = cached);
    } else {
      this.setStatus(mode === 'semantic' ? 'Embedding the query…' : 'Searching…');
      [result, scores] = await Promise.all([search(space, q, mode, 50, filter), searchScores(space, q, mode)]);
      if (this.spaceName !== space) return;
      if (scores.length !== this.map.count) throw new ApiError(500, 'the scores do not match the map');
    }
    await this.deselect();
    this.query = { result, scores, space, filter };
    this.hook.search = { query: q, mode, rows: result.hits.map((h) => h.row), total: result.total };
    this.sheet.open(
      `Search · ${mode === 'semantic' ? 'meaning' : 'words'}`,
      searchView(result, (row) => void this.select(row)),
    );
    this.colorBy = QUERY;
    this.refreshColorOptions();
    await this.colorByColumn(QUERY);
    this.setStatus(`${result.hits.length} hits for “${q}”`);
    this.saveView();
  }

  /** Forget the search: back to the default colouring. */
  private async clearSearch(): Promise<void> {
    if (!this.query) return;
    this.query = null;
    this.hook.search = null;
    this.sheet.close();
    this.saveView();
    this.refreshColorOptions();
    if (this.colorBy === QUERY) await this.colorByColumn(this.defaultColor());
  }

  /** What the colour choices depend on now. */
  private scene(): Scene {
    const { spaceName: space, layoutName: layout, layoutInfo, columns, clusterData: clusters } = this;
    return { space, layout, layoutInfo, columns, clusters, query: searchIn(this.query, space), senses: this.contexts.senses };
  }

  private refreshColorOptions(): void {
    fillSelect(this.colorSelect, colorOptions(this.scene()), this.colorBy);
  }

  private async openSpace(name: string, layout?: string, color?: string): Promise<void> {
    const space = this.info?.spaces.find((s) => s.name === name);
    if (!space) return;
    await this.deselect();
    this.sheet.close();
    this.space = space;
    this.hook.space = name;
    const layouts = space.layouts.length ? space.layouts.map((l) => l.method) : [NO_LAYOUT];
    const sphere = globeLayout(space.layouts);
    const fallback = (this.view === 'globe' ? sphere : null) ?? defaultLayout(space.layouts) ?? NO_LAYOUT;
    const method = layout && layouts.includes(layout) ? layout : fallback;
    // the columns, the clusters and the coordinates are independent: ask for all three at once
    const coords = quiet(getLayout(name, method));
    const [allColumns, clusterData] = await Promise.all([
      getColumns(name),
      space.has_clusters ? this.colorings.clustersOf(name) : Promise.resolve(null),
    ]);
    this.columns = allColumns.filter((c) => c.kind !== 'text');
    this.textColumns = allColumns.filter((c) => c.kind === 'text');
    this.clusterData = clusterData;
    this.labels.setClusters(this.clusterData?.meta.clusters ?? null);
    $('labels-field').hidden = !this.clusterData;
    this.hook.clusters = this.clusterData?.meta.total ?? 0;
    fillSelect(this.layoutSelect, layouts.map((l) => ({ value: l, label: l })), method);
    $('view-switch').hidden = sphere === null;
    this.colorBy = color ?? this.defaultColor();
    this.encoding = null;
    await this.openLayout(method, coords);
  }

  /** Show the layout ``method`` of the current space; ``coords``: its coordinates, when already asked for. */
  private async openLayout(method: string, coords?: Promise<Layout>): Promise<void> {
    if (!this.space) return;
    const space = this.space;
    this.setStatus(`Loading ${method} layout…`);
    const info = space.layouts.find((l) => l.method === method) ?? null;
    const pending = coords ?? getLayout(space.name, method);
    // a metadata colour does not depend on the layout: fetch it while the coordinates arrive, and get the plot
    // ready for this many points meanwhile
    const column = this.colorBy;
    const early = this.encoding === null && this.columns.some((c) => c.name === column)
      ? quiet(this.encodingFor(column, space.count)) : null;
    await this.map.expect(space.count);
    const raw = await pending;
    const layout = this.contexts.align(space.name, raw); // a layer's map turned like the one shown before
    this.mark('layout');
    this.layoutName = method;
    this.layoutInfo = info;
    // Colour choices: metadata columns, clusters, the honesty of this layout when measured, the search.
    const options = colorOptions(this.scene());
    if (!options.some((o) => o.value === this.colorBy)) {
      this.colorBy = this.defaultColor();
      this.encoding = null;
    }
    if (this.colorBy.startsWith(HONESTY)) this.encoding = null; // honesty belongs to the layout
    fillSelect(this.colorSelect, options, this.colorBy);
    if (this.encoding === null && early && this.colorBy === column) this.encoding = await early;
    this.encoding ??= await this.encodingFor(this.colorBy, layout.x.length);
    this.mark('colors');
    await this.map.setLayout(layout, this.encoding, layout === raw ? () => getKdOrder(space.name, method) : undefined);
    this.thumbs.reset(space.name);
    this.contexts.showing(space.name);
    void this.contexts.findStatic(space.name, this.columns);
    this.mark('drawn');
    if (this.filter) await this.refreshKeep();
    this.placeLabels();
    this.picked.forget();
    if (this.view === 'globe') {
      if (method === this.sphere()) await this.loadGlobe();
      else this.showView('map');
    }
    Object.assign(this.hook, { layout: method, count: this.map.count, colorBy: this.colorBy || null });
    this.showLegend();
    this.hook.honesty = showHonesty($('honesty'), info);
    $('empty').hidden = true;
    const clusters = this.clusterData ? ` · ${this.clusterData.meta.total} clusters${this.clusterData.meta.stale ? ' (stale)' : ''}` : '';
    this.setStatus(
      `${this.map.count.toLocaleString()} points · ${space.model ?? space.kind} · ${space.dim} dims${space.stale ? ' · stale' : ''}${clusters}`,
    );
    this.saveView();
  }

  /** The encoding of the colour choice ``column`` (the search's scores even when its space is not shown). */
  private encodingFor(column: string, n: number): Promise<Encoding> {
    return this.colorings.encodingFor(column, n, { ...this.scene(), query: this.query });
  }

  /** Cluster labels at the centres of their kept points in the current layout (when the space has clusters); a
   * cluster the filter leaves empty has no label. */
  private placeLabels(): void {
    const data = this.clusterData;
    const [x, y] = this.map.coords;
    const keep = this.keep;
    let labels = data?.labels ?? null;
    if (labels && keep && keep.length === labels.length) labels = labels.map((c, i) => (keep[i] ? c : -1));
    this.labels.setEnabled(this.labelsOn && data !== null);
    this.labels.setLayout(x, y, labels, (px, py) => this.map.toScreen(px, py));
    this.hook.labels = this.labels.shown;
  }

  private setLabels(on: boolean): void {
    this.labelsOn = on;
    this.labelsToggle.checked = on;
    this.labels.setEnabled(on && this.clusterData !== null);
    this.hook.labels = this.labels.shown;
    this.saveView();
  }

  private defaultColor(): string {
    return this.contexts.defaultColor(this.columns) ?? defaultColor(this.columns, this.clusterData !== null);
  }

  /** Show another layer of a contexts workspace: same colouring, the same occurrence kept selected. */
  private async openLayer(space: string): Promise<void> {
    const keep = this.picked.selected;
    this.spaceSelect.value = space;
    await this.openSpace(space, this.layoutName ?? undefined, this.colorBy);
    if (keep !== null && keep < this.map.count) await this.select(keep);
  }

  private async colorByColumn(column: string): Promise<void> {
    this.colorBy = column;
    this.encoding = await this.encodingFor(column, this.map.count);
    await this.map.setEncoding(this.encoding);
    this.thumbs.schedule();
    await this.lasso.recolor();
    if (this.globeShowsLayout()) this.globe.setEncoding(this.encoding);
    this.showLegend();
    this.hook.colorBy = column || null;
    this.saveView();
  }

  // ------------------------------------------------------------------------------------------- globe
  /** The current space's layout on the globe, or null when it has none. */
  private sphere(): string | null {
    return this.space ? globeLayout(this.space.layouts) : null;
  }

  private globeShowsLayout(): boolean {
    return this.globe.holds(this.space?.name) && this.layoutName !== null && this.layoutName === this.sphere();
  }

  /** Switch between the flat map and the globe (which shows the sphere layout; the map follows it). */
  private async setView(view: View): Promise<void> {
    if (view === this.view) return;
    if (view === 'map') {
      this.showView('map');
      this.saveView();
      return;
    }
    const sphere = this.sphere();
    if (!this.space || sphere === null) return;
    const keep = this.picked.selected;
    if (this.layoutName !== sphere) {
      this.layoutSelect.value = sphere;
      await this.openLayout(sphere);
    }
    await this.loadGlobe();
    this.showView('globe');
    if (keep !== null && this.picked.selected === null) await this.select(keep);
    this.saveView();
  }

  /** Put the current space's sphere on the globe (three.js is loaded the first time). */
  private async loadGlobe(): Promise<void> {
    const sphere = this.sphere();
    if (!this.space || !this.encoding || sphere === null) return;
    await this.globe.load(this.space.name, sphere, this.map.count, this.encoding, this.picked.highlight());
  }

  private showView(view: View): void {
    this.view = view;
    this.hook.view = view;
    this.tooltip.show(null, null);
    this.globe.show(view === 'globe');
  }

  select(row: number): Promise<void> {
    return this.picked.select(row);
  }

  deselect(): Promise<void> {
    return this.picked.deselect();
  }

  saveView(): void {
    const q = searchIn(this.query, this.space?.name)?.result ?? null;
    writeHash({
      space: this.space?.name,
      layout: this.layoutName ?? undefined,
      color: this.colorBy,
      row: this.picked.selected ?? undefined,
      view: this.view === 'globe' ? 'globe' : undefined,
      labels: this.labelsOn ? undefined : false,
      q: q?.query,
      mode: q && q.mode !== 'semantic' ? (q.mode as SearchMode) : undefined,
      sel: this.lasso.rows.length ? this.lasso.rows : undefined,
      filter: filterJson(this.filter) ?? undefined,
      cam: this.map.count ? this.map.camera : undefined,
    });
  }

  /** Save the view a moment after panning and zooming stop. */
  private saveViewSoon(): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => this.saveView(), 400);
  }

  /** Keep only the items that pass ``spec`` (null: all) on the map, in the search and in neighbour lists. */
  async applyFilter(spec: FilterSpec | null, reopen = true): Promise<void> {
    this.filter = spec && Object.keys(spec).length ? spec : null;
    await this.refreshKeep();
    if (this.keep) this.lasso.keepOnly(this.keep);
    const selected = this.picked.selected;
    if (selected !== null && this.keep && !this.keep[selected]) await this.deselect();
    else if (selected !== null) await this.picked.loadNeighbors(selected);
    if (this.query) await this.runSearch(this.query.result.query, this.query.result.mode as SearchMode);
    else if (reopen) await sheetById('filter').open(this.ctx);
    this.saveView();
  }

  /** The legend of the current colouring, counting the items that pass the filter. */
  private showLegend(): void {
    if (this.encoding) renderLegend($('legend'), filteredLegend(this.encoding, this.keep));
  }

  /** Which points pass the filter in the current space, and hide the others on the map. */
  private async refreshKeep(): Promise<void> {
    const json = filterJson(this.filter);
    const button = $('filter-open');
    if (!json || !this.space) {
      this.keep = null;
      await this.map.setFilter(null);
      this.thumbs.schedule();
      this.showLegend();
      this.placeLabels();
      button.textContent = 'Filter';
      button.classList.remove('on');
      return;
    }
    this.keep = await getFilter(this.space.name, json);
    const rows = keptRows(this.keep);
    await this.map.setFilter(rows);
    this.thumbs.schedule();
    this.showLegend();
    this.placeLabels();
    button.textContent = `Filter · ${rows.length.toLocaleString()}`;
    button.classList.add('on');
    this.setStatus(`${rows.length.toLocaleString()} of ${this.keep.length.toLocaleString()} items pass the filter`);
  }

  /** Run a step with the page marked busy; errors go to the status line (and the empty-state note). */
  async run(step: () => Promise<void>): Promise<void> {
    // steps can overlap (Escape, then Enter at once): the page is ready only when the last of them ends
    this.running += 1;
    this.hook.ready = false;
    try {
      await step();
    } catch (e) {
      this.setStatus(message(e), true);
      if (e instanceof ApiError && e.status === 404 && this.map.count === 0) this.showEmpty(message(e));
    } finally {
      await this.map.indexed; // hover, click and lasso find points from here on
      await frames(2);
      this.running -= 1;
      if (this.running === 0) {
        this.mark('ready');
        this.hook.ready = true;
      }
    }
  }

  private mark(step: string): void {
    this.hook.timings[step] = performance.now();
  }

  setStatus(text: string, error = false): void {
    setStatus(this.status, text, error);
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

/** Taller than wide (a phone held upright): the default camera would show only the middle of the map. */
const portrait = (el: HTMLElement) => el.clientHeight > el.clientWidth;

function spaceLabel(s: SpaceInfo): string {
  if (s.tuned) return `${s.name} (tuned from ${s.tuned.base})`;
  return s.model && s.model !== s.name ? `${s.name} (${s.model})` : s.name;
}
