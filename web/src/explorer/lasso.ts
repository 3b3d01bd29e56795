// The lasso selection: the points chosen together, marked on the map, and the sheet that shows how they split
// over the colouring's categories with their first items and exports (CSV, PNG, link).
import { selectionCsv } from '../data/api';
import type { Encoding } from '../data/encoding';
import type { ItemCache } from '../data/items';
import type { MapView } from '../views/map';
import { download, selectionView } from '../views/selection';
import type { Sheet } from '../views/sheet';

/** What the lasso selection needs of the explorer. */
export interface LassoHost {
  /** The current space ('' while none is open) and layout method. */
  readonly spaceName: string;
  readonly layoutName: string | null;
  /** The current colouring (the sheet counts its categories), or null. */
  readonly encoding: Encoding | null;
  /** Run a step with the page marked busy; errors go to the status line. */
  run(step: () => Promise<void>): Promise<void>;
  setStatus(text: string): void;
  /** Open ``row`` in the side panel. */
  select(row: number): Promise<void>;
  /** Close the side panel. */
  deselect(): Promise<void>;
  /** Write the view to the URL. */
  saveView(): void;
}

export class Lasso {
  private chosen: number[] = [];

  constructor(
    private readonly map: MapView,
    private readonly sheet: Sheet,
    private readonly items: ItemCache,
    private readonly host: LassoHost,
  ) {}

  /** The chosen points, point order; empty when none. */
  get rows(): number[] {
    return this.chosen;
  }

  /** Choose ``rows``: mark them, and show how they split over the colouring's categories. */
  async choose(rows: number[]): Promise<void> {
    if (!this.host.spaceName || rows.length === 0) return;
    await this.host.deselect();
    this.chosen = rows.slice();
    await this.map.selectRows(this.chosen);
    this.show();
    this.host.saveView();
    this.host.setStatus(`${rows.length.toLocaleString()} points selected`);
  }

  /** The selection sheet. */
  show(): void {
    const space = this.host.spaceName;
    this.sheet.open(
      `Selection · ${this.chosen.length.toLocaleString()} items`,
      selectionView(this.chosen, this.host.encoding, this.map.count, {
        item: (row) => this.items.get(space, row),
        open: (row) => void this.host.run(() => this.host.select(row)),
        csv: () => void this.host.run(() => this.download()),
        clear: () => void this.host.run(() => this.clear()),
      }),
    );
  }

  /** The colouring changed: mark the points again, and redraw the selection sheet when it is open. */
  async recolor(): Promise<void> {
    if (!this.chosen.length) return;
    await this.map.selectRows(this.chosen);
    if (this.sheet.isOpen && document.getElementById('selection-view')) this.show();
  }

  /** Drop the selection and its sheet, and clear the marks. */
  async clear(): Promise<void> {
    this.chosen = [];
    this.sheet.close();
    await this.map.clearHighlight();
    this.host.saveView();
  }

  /** Drop the selection without redrawing (an item is being selected instead). */
  forget(): void {
    this.chosen = [];
  }

  /** Keep only the chosen points that pass the filter (``keep[row]``). */
  keepOnly(keep: Uint8Array): void {
    this.chosen = this.chosen.filter((r) => keep[r]);
  }

  /** Download the selection as CSV (with the current layout's coordinates). */
  async download(): Promise<void> {
    const space = this.host.spaceName;
    if (!space || !this.chosen.length) return;
    this.host.setStatus('Preparing the CSV…');
    const blob = await selectionCsv(space, this.host.layoutName, this.chosen);
    download(blob, `${space}-selection-${this.chosen.length}.csv`);
    this.host.setStatus(`CSV of ${this.chosen.length.toLocaleString()} items downloaded`);
  }
}
