// The 2D map: every point of a layout drawn with regl-scatterplot (WebGL), coloured by an Encoding.
// Points are normalised to [-1, 1] keeping the aspect ratio; rows are point-order indices throughout.
import createScatterplot, { createRenderer } from 'regl-scatterplot';
import type { Layout } from '../data/api';
import { ACTIVE, BACKGROUND, HOVER, type Rgb } from '../data/colors';
import { DIMMED, type Encoding, drawnRgb } from '../data/encoding';
import { type SpatialIndex, spatialIndex } from '../data/spatial';
import type { TileMarks } from '../data/tile-plan';
import { type TouchCamera, touchGestures } from './touch';
/** Lines from the selected point to its neighbours (normalised RGBA). */
const LINK: [number, number, number, number] = [1, 0.82, 0.4, 0.55];

export interface MapHandlers {
  hover(row: number | null): void;
  click(row: number): void;
  /** Several points selected at once (lasso: shift + drag, or a plain drag in lasso mode). */
  selectMany(rows: number[]): void;
  deselect(): void;
}

type Plot = ReturnType<typeof createScatterplot>;

/** Point size in CSS pixels for ``n`` points: big for a few, small for millions. */
export function pointSizeFor(n: number): number {
  if (n <= 2_000) return 8;
  if (n <= 20_000) return 5;
  if (n <= 200_000) return 3;
  if (n <= 500_000) return 2;
  return 1; // a million 2 px points would cover a full-HD canvas twice over; 1 px keeps the density readable
}

export class MapView {
  /** The scatterplot, made on first need (``expect`` makes it in the style the layout needs). */
  private made: Plot | null = null;
  /** The WebGL context and its frame loop, made with the first plot and kept when the plot is remade. */
  private renderer: ReturnType<typeof createRenderer> | null = null;
  private readonly handlers: MapHandlers;
  /** Points are drawn as squares: at 2 px or less they look the same as circles and a software renderer
   * draws them about a third faster (a million points). */
  private squares = false;
  private readonly canvas: HTMLCanvasElement;
  private n = 0;
  private x: Float32Array = new Float32Array();
  private y: Float32Array = new Float32Array();
  private encoding: Encoding | null = null;
  private focus: number | null = null;
  private neighbors: number[] = [];
  private highlighted = new Set<number>();
  /** The current layout's spatial index (built once per layout, off the main thread, reused by every
   * recolouring draw; the draw does not wait for it, see ``spatial.ts``). */
  private index: SpatialIndex = spatialIndex(new Float32Array(), new Float32Array());
  /** Neighbour lines are drawn (clearing none would cost a full redraw). */
  private annotated = false;
  private readonly viewListeners: (() => void)[] = [];
  /** The highlight is a lasso selection (``selectRows``), not an item with its neighbours. */
  private chosenRows = false;
  /** The point under the mouse, or null. */
  private hovered: number | null = null;
  private readonly markListeners: (() => void)[] = [];
  /** A plain drag draws the lasso (``lassoMode``) instead of panning. */
  private lassoDrag = false;

  constructor(container: HTMLElement, handlers: MapHandlers) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'map-canvas';
    container.appendChild(this.canvas);
    this.handlers = handlers;
    if ('ResizeObserver' in window) new ResizeObserver(() => this.viewChanged()).observe(this.canvas);
    touchGestures(this.canvas, () => (this.made?.get('camera') as TouchCamera | undefined) ?? null, () => this.made?.redraw());
  }

  private get plot(): Plot {
    this.made ??= this.makePlot(this.squares);
    return this.made;
  }

  /** The scatterplot; ``squares`` draws points as squares (a choice the library fixes at creation). */
  private makePlot(squares: boolean): Plot {
    const handlers = this.handlers;
    performance.mark('map:make');
    this.renderer ??= createRenderer();
    performance.mark('map:renderer');
    const plot = createScatterplot({
      renderer: this.renderer,
      canvas: this.canvas,
      width: 'auto',
      height: 'auto',
      backgroundColor: BACKGROUND,
      pointColorActive: ACTIVE,
      pointColorHover: HOVER,
      pointOutlineWidth: 2,
      pointSizeSelected: 3,
      opacityInactiveScale: 1,
      showReticle: false,
      deselectOnDblClick: false,
      lassoColor: '#7aa2f7',
      renderPointsAsSquares: squares,
      mouseMode: this.lassoDrag ? 'lasso' : 'panZoom',
    });
    plot.subscribe('pointOver', (row) => {
      this.hovered = row;
      this.marksChanged();
      handlers.hover(row);
    });
    plot.subscribe('pointOut', () => {
      this.hovered = null;
      this.marksChanged();
      handlers.hover(null);
    });
    plot.subscribe('select', ({ points }) => {
      if (points.length === 1) handlers.click(points[0]);
      else if (points.length > 1) handlers.selectMany(points);
    });
    plot.subscribe('deselect', () => handlers.deselect());
    plot.subscribe('view', () => this.viewChanged());
    this.squares = squares;
    performance.mark('map:made');
    return plot;
  }

  /** Lasso mode: a plain drag draws the lasso (no modifier key, for hosts that take shift + drag, such as
   * JupyterLab's cell selection); off: a drag pans. Shift + drag draws the lasso either way. */
  set lassoMode(on: boolean) {
    this.lassoDrag = on;
    this.canvas.classList.toggle('lasso-mode', on);
    if (this.made) void this.made.set({ mouseMode: on ? 'lasso' : 'panZoom' });
  }

  get lassoMode(): boolean {
    return this.lassoDrag;
  }

  /** Call ``listener`` whenever what is on screen moves: pan, zoom, resize, a new layout. */
  onView(listener: () => void): void {
    this.viewListeners.push(listener);
  }

  /** Call ``listener`` whenever the highlight (selected item, neighbours, lasso rows) or the hovered point changes. */
  onMarks(listener: () => void): void {
    this.markListeners.push(listener);
  }

  /** What is marked now, for layers drawn over the points (views/thumb-layer.ts). */
  get marks(): TileMarks {
    if (this.focus === null) return { focus: null, chosen: [], hovered: this.hovered };
    if (this.chosenRows) return { focus: null, chosen: [this.focus, ...this.neighbors], hovered: this.hovered };
    return { focus: this.focus, chosen: this.neighbors, hovered: this.hovered };
  }

  private marksChanged(): void {
    for (const listener of this.markListeners) listener();
  }

  private viewChanged(): void {
    if (!this.made) return; // nothing drawn yet
    for (const listener of this.viewListeners) listener();
  }

  /** The drawn coordinates (normalised, point order). */
  get coords(): [Float32Array, Float32Array] {
    return [this.x, this.y];
  }

  /** CSS pixels (relative to the canvas' top-left corner) of a position in normalised map coordinates.
   * The same transform as the library's ``getScreenPosition`` (projection x view x model), for any position. */
  toScreen(x: number, y: number): [number, number] {
    return this.projector()(x, y);
  }

  /** ``toScreen`` for the current camera, read once (to place many points in one frame). */
  projector(): (x: number, y: number) => [number, number] {
    const view = this.plot.get('cameraView');
    const aspect = this.plot.get('aspectRatio') || 1;
    const width = Math.max(1, this.canvas.clientWidth);
    const height = Math.max(1, this.canvas.clientHeight);
    return (x, y) => {
      const mx = x * aspect;
      const vx = view[0] * mx + view[4] * y + view[12];
      const vy = view[1] * mx + view[5] * y + view[13];
      const clipX = vx / (width / height);
      return [(width * (clipX + 1)) / 2, height * (0.5 - vy / 2)];
    };
  }

  get count(): number {
    return this.n;
  }

  /** Get the plot ready for a layout of ``n`` points while its data is on the way: the point style depends on
   * ``n``, and the library fixes squares or circles when a plot is made (making one takes a while in a
   * software renderer). Nothing is redrawn when the style already fits. */
  async expect(n: number): Promise<void> {
    const size = pointSizeFor(n);
    if (!this.made) this.squares = size <= 2;
    else if (size <= 2 !== this.squares) {
      this.made.destroy();
      this.made = this.makePlot(size <= 2);
      this.annotated = false;
    }
    if (this.plot.get('pointSize') !== size) await this.plot.set({ pointSize: size });
  }

  /** Resolves when hover, click and lasso can find the current layout's points (its spatial index is built). */
  get indexed(): Promise<void> {
    return this.index.built;
  }

  /** Draw a new layout (all points, no sampling). ``order``: where to get the points' spatial index order
   * (the server's ``kdorder``), asked for after the first frame; without it a worker sorts big layouts. */
  async setLayout(layout: Layout, encoding: Encoding, order?: () => Promise<Uint32Array>): Promise<void> {
    performance.mark('map:layout');
    this.n = layout.x.length;
    [this.x, this.y] = normalise(layout.x, layout.y);
    this.index = spatialIndex(this.x, this.y, order);
    performance.mark('map:normalised');
    this.focus = null;
    this.neighbors = [];
    this.highlighted.clear();
    this.hovered = null;
    this.marksChanged();
    await this.expect(this.n);
    if (this.plot.get('opacityInactiveScale') !== 1) await this.plot.set({ opacityInactiveScale: 1 });
    await this.setEncoding(encoding);
    this.index.start();
    await this.annotate([]);
    this.viewChanged();
  }

  /** Draw neighbour lines; clearing lines that are not there is skipped (each call redraws every point). */
  private async annotate(lines: Parameters<Plot['drawAnnotations']>[0]): Promise<void> {
    if (lines.length === 0 && !this.annotated) return;
    this.annotated = lines.length > 0;
    await this.plot.drawAnnotations(lines);
  }

  /** Zoom so the whole layout fits the canvas, also when it is taller than wide (the default view fits the
   * height only). */
  async fitAll(): Promise<void> {
    await this.plot.zoomToArea({ x: -1, y: -1, width: 2, height: 2 }, { transition: false });
    this.viewChanged();
  }

  /** Show only ``rows`` (a metadata filter); ``null`` shows every point again. */
  async setFilter(rows: number[] | null): Promise<void> {
    if (rows === null) await this.plot.unfilter({ preventEvent: true });
    else await this.plot.filter(rows, { preventEvent: true });
  }

  /** The camera as ``[target x, target y, distance]`` (for the link that restores a view). */
  get camera(): [number, number, number] {
    const t = this.plot.get('cameraTarget') as [number, number];
    return [t[0], t[1], this.plot.get('cameraDistance') as number];
  }

  async setCamera([x, y, distance]: [number, number, number]): Promise<void> {
    if (![x, y, distance].every(Number.isFinite) || distance <= 0) return;
    await this.plot.set({ cameraTarget: [x, y], cameraDistance: distance });
    this.viewChanged();
  }

  /** The map as drawn (points, current colours and zoom) as a PNG file. */
  async toPng(): Promise<Blob> {
    const image = (await this.plot.export({ scale: 1 })) as ImageData;
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas to write the PNG');
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const layer = document.createElement('canvas');
    layer.width = image.width;
    layer.height = image.height;
    layer.getContext('2d')?.putImageData(image, 0, 0);
    ctx.drawImage(layer, 0, 0);
    return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  }

  /** Recolour the points (same layout). */
  async setEncoding(encoding: Encoding): Promise<void> {
    this.encoding = encoding;
    await this.plot.set({
      colorBy: 'valueA',
      pointColor: encoding.palette,
      // One entry per palette colour (the library accepts lists here; its types say a single colour).
      pointColorActive: encoding.palette.map(() => ACTIVE) as unknown as string,
      pointColorHover: encoding.palette.map(() => HOVER) as unknown as string,
    });
    performance.mark('map:encoding');
    const index = this.index.data;
    await this.plot.draw(
      columnarPoints(this.x, this.y, encoding.codes),
      { zDataType: 'categorical', transition: false, preventFilterReset: true, ...(index ? { spatialIndex: index } : {}) },
    );
    performance.mark('map:drawn');
    if (this.focus !== null) this.highlight(this.focus, this.neighbors);
  }

  /** Mark ``focus`` and its ``neighbors`` (selected colour, lines from the focus), dim the rest. */
  async highlight(focus: number, neighbors: number[]): Promise<void> {
    this.focus = focus;
    this.neighbors = neighbors.filter((r) => r >= 0 && r < this.n);
    this.highlighted = new Set([focus, ...this.neighbors]);
    this.chosenRows = false;
    this.marksChanged();
    this.plot.select([focus, ...this.neighbors], { preventEvent: true });
    await this.plot.set({ opacityInactiveScale: DIMMED });
    const [fx, fy] = [this.x[focus], this.y[focus]];
    await this.annotate(
      this.neighbors.map((r) => ({
        vertices: [[fx, fy], [this.x[r], this.y[r]]] as [number, number][],
        lineColor: LINK,
        lineWidth: 1,
      })),
    );
  }

  /** Mark ``rows`` as selected (selected colour, the rest dimmed) without neighbour lines; ``[]`` clears.
   * Call it again after ``setEncoding`` (which restores the focus-and-neighbours look). */
  async selectRows(rows: number[]): Promise<void> {
    const valid = rows.filter((r) => r >= 0 && r < this.n);
    if (valid.length === 0) return this.clearHighlight();
    [this.focus, ...this.neighbors] = valid;
    this.highlighted = new Set(valid);
    this.chosenRows = true;
    this.marksChanged();
    this.plot.select(valid, { preventEvent: true });
    await this.plot.set({ opacityInactiveScale: DIMMED });
    await this.annotate([]);
  }

  async clearHighlight(): Promise<void> {
    this.focus = null;
    this.neighbors = [];
    this.highlighted.clear();
    this.marksChanged();
    this.plot.deselect({ preventEvent: true });
    await this.plot.set({ opacityInactiveScale: 1 });
    await this.annotate([]);
  }

  /** For each of ``rows``, how many points lie closer to ``focus`` on this map (its rank by 2-D distance,
   * 0 = the nearest point). One pass over all points. */
  mapRanks(focus: number, rows: number[]): number[] {
    const fx = this.x[focus];
    const fy = this.y[focus];
    const d = (r: number) => (this.x[r] - fx) ** 2 + (this.y[r] - fy) ** 2;
    const targets = rows.map(d);
    const ranks = new Array<number>(rows.length).fill(0);
    for (let i = 0; i < this.n; i++) {
      if (i === focus) continue;
      const di = d(i);
      for (let j = 0; j < targets.length; j++) if (di < targets[j]) ranks[j] += 1;
    }
    return ranks;
  }

  /** Show the hover state of ``row`` as if the mouse were on it. */
  hover(row: number): void {
    this.plot.hover(row);
  }

  /** CSS pixels of ``row`` relative to the canvas' top-left corner. */
  screenPosition(row: number): [number, number] | null {
    if (this.n === 0 || row < 0 || row >= this.n) return null;
    const p = this.plot.getScreenPosition(row);
    return p ? [p[0], p[1]] : null;
  }

  /** The RGB ``row`` is drawn with (before overlap with other points). */
  colorOf(row: number): Rgb | null {
    if (!this.encoding || row < 0 || row >= this.n) return null;
    return drawnRgb(this.encoding, row, { focus: this.focus, rows: this.highlighted });
  }

  /** The hex colour of ``row``'s value (its category or bin), whatever its highlight state. */
  baseColorOf(row: number): string | null {
    if (!this.encoding || row < 0 || row >= this.n) return null;
    return this.encoding.palette[this.encoding.codes[row]];
  }

  get element(): HTMLCanvasElement {
    return this.canvas;
  }
}

/** Centre on the bounding box and scale the longer side to [-0.95, 0.95]; shape is kept. */
/** Where the points' columns ride along (read by the build's patch of regl-scatterplot, web/vite.patches.ts). */
const COLUMNS = Symbol.for('embedscope.columns');

/** Points as regl-scatterplot takes them (``points[i]`` is ``[x, y, z]``), without making a million small arrays:
 * items are made when the library asks for one (hover, lasso), and its state texture reads the typed columns. */
export function columnarPoints(x: Float32Array, y: Float32Array, z: ArrayLike<number>): number[][] {
  const n = x.length;
  const columns = { x, y, z };
  const row = (prop: string | symbol): number => {
    if (typeof prop !== 'string') return -1;
    const i = Number(prop);
    return Number.isInteger(i) && i >= 0 && i < n && String(i) === prop ? i : -1;
  };
  return new Proxy(new Array<number[]>(n), {
    get(target, prop, receiver) {
      if (prop === COLUMNS) return columns;
      const i = row(prop);
      return i >= 0 ? [x[i], y[i], z[i]] : Reflect.get(target, prop, receiver);
    },
    has(target, prop) {
      return prop === COLUMNS || row(prop) >= 0 || Reflect.has(target, prop);
    },
  });
}

export function normalise(x: ArrayLike<number>, y: ArrayLike<number>): [Float32Array, Float32Array] {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < x.length; i++) {
    if (x[i] < x0) x0 = x[i];
    if (x[i] > x1) x1 = x[i];
    if (y[i] < y0) y0 = y[i];
    if (y[i] > y1) y1 = y[i];
  }
  const half = Math.max(x1 - x0, y1 - y0, 1e-12) / 2;
  const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
  const s = 0.95 / half;
  const nx = new Float32Array(x.length);
  const ny = new Float32Array(y.length);
  for (let i = 0; i < x.length; i++) {
    nx[i] = Number.isFinite(x[i]) ? (x[i] - cx) * s : 0;
    ny[i] = Number.isFinite(y[i]) ? (y[i] - cy) * s : 0;
  }
  return [nx, ny];
}
