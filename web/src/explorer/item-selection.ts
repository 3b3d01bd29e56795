// The selected item: the side panel with its text and metadata, its k nearest neighbours highlighted on the map
// (and on the globe), and which of them the map places far away. A later select or deselect wins over a slower
// earlier one.
import { type Metric, getNeighbors } from '../data/api';
import { MISSING } from '../data/colors';
import { type Highlight, NO_HIGHLIGHT } from '../data/encoding';
import type { ItemCache } from '../data/items';
import { message } from '../data/promises';
import { $ } from '../views/dom';
import type { MapView } from '../views/map';
import { Panel } from '../views/panel';
import { VectorView } from './vector-view';

/** What the item selection needs of the explorer. */
export interface ItemSelectionHost {
  /** The current space ('' while none is open). */
  readonly spaceName: string;
  /** The metadata filter's JSON (the neighbour lists keep to it), or null. */
  neighborFilter(): string | null;
  /** An item is being selected: close the sheet, drop the lasso selection, hide the tooltip. */
  beforeSelect(): void;
  /** The highlight changed: show it on the globe too; ``focus``: a newly selected row to turn into view. */
  showOnGlobe(highlight: Highlight, focus?: number): void;
  /** Write the view to the URL. */
  saveView(): void;
}

export class ItemSelection {
  private row: number | null = null;
  private rows: number[] = [];
  private farRows: number[] = [];
  private token = 0;
  private readonly panel: Panel;
  /** The selected item's vector and "Compare with…". */
  readonly vectors: VectorView;

  constructor(
    private readonly map: MapView,
    private readonly items: ItemCache,
    private readonly host: ItemSelectionHost,
  ) {
    this.panel = new Panel(
      $('panel'),
      {
        select: (row) => void this.select(row),
        close: () => void this.deselect(),
        query: () => this.row !== null && void this.loadNeighbors(this.row),
      },
      (row) => map.baseColorOf(row) ?? MISSING,
    );
    this.vectors = new VectorView(this.panel.vectorSlot);
  }

  /** Row of the item in the side panel, or null. */
  get selected(): number | null {
    return this.row;
  }

  /** Rows of the highlighted neighbours of ``selected``. */
  get neighbors(): number[] {
    return this.rows;
  }

  /** Those of the last neighbours shown that the map places far from their item. */
  get far(): number[] {
    return this.farRows;
  }

  /** What the views highlight: the selected item and its neighbours. */
  highlight(): Highlight {
    return this.row === null ? NO_HIGHLIGHT : { focus: this.row, rows: new Set([this.row, ...this.rows]) };
  }

  /** Show ``row`` in the side panel and highlight it with its neighbours. */
  async select(row: number): Promise<void> {
    const space = this.host.spaceName;
    if (!space || row < 0 || row >= this.map.count) return;
    if (this.vectors.picking && this.row !== null && row !== this.row) {
      // "Compare with…" is waiting for a click: the point (or neighbour) clicked is the second item
      await this.vectors.compareWith({ row });
      return;
    }
    this.host.beforeSelect();
    const token = ++this.token;
    this.row = row;
    this.rows = [];
    await this.map.highlight(row, []);
    this.host.showOnGlobe(this.highlight(), row);
    this.panel.loading(row);
    void this.vectors.show(space, row);
    this.host.saveView();
    const item = await this.items.get(space, row).catch((e: unknown) => {
      this.panel.error(message(e));
      return null;
    });
    if (item && token === this.token) this.panel.showItem(item);
    await this.loadNeighbors(row, token);
  }

  /** Ask for the neighbours of ``row`` again (k, metric or the filter changed). */
  async loadNeighbors(row: number, token = this.token): Promise<void> {
    const space = this.host.spaceName;
    if (!space) return;
    this.panel.neighborsLoading();
    try {
      const result = await getNeighbors(space, row, this.panel.k, this.panel.metric as Metric, this.host.neighborFilter());
      if (token !== this.token) return;
      const rows = result.neighbors.map((n) => n.row);
      // A true neighbour is "far on the map" when more than 5k points (at least 50) are drawn closer to the item.
      const ranks = this.map.mapRanks(row, rows);
      const farRank = Math.max(50, 5 * rows.length);
      this.farRows = rows.filter((_, i) => ranks[i] > farRank);
      this.panel.showNeighbors(result, ranks, farRank);
      await this.map.highlight(row, rows);
      this.rows = rows;
      this.host.showOnGlobe(this.highlight());
    } catch (e) {
      if (token === this.token) this.panel.error(message(e));
    }
  }

  /** Close the side panel and clear the highlight. */
  async deselect(): Promise<void> {
    this.token++;
    if (this.row === null && this.rows.length === 0) return;
    this.row = null;
    this.rows = [];
    this.vectors.clear();
    this.panel.close();
    await this.map.clearHighlight();
    this.host.showOnGlobe(this.highlight());
    this.host.saveView();
  }

  /** Forget the selection without redrawing (a new layout is drawn without a highlight). */
  forget(): void {
    this.row = null;
    this.rows = [];
    this.vectors.clear();
    this.panel.close();
  }
}
