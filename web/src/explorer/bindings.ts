// What the explorer (app.ts) hands out: the context the sheets work through and the test hook the browser tests
// read back (window.__embedscope). Both read the explorer's state at call time, through ``ExplorerParts``.
import type { ColumnMeta, Info } from '../data/api';
import { countKept, type FilterSpec, filterJson } from '../data/filter-spec';
import { type TestHook, installHook } from '../hook';
import type { SheetContext } from '../sheets';
import { frames } from '../views/dom';
import type { GlobePane } from '../views/globe-pane';
import type { MapView } from '../views/map';
import type { Sheet } from '../views/sheet';
import type { ThumbLayer } from '../views/thumb-layer';
import type { Tooltip } from '../views/tooltip';
import type { ItemSelection } from './item-selection';
import type { Lasso } from './lasso';

/** The explorer's state and parts that the sheets and the test hook reach. */
export interface ExplorerParts {
  readonly info: Info | null;
  /** The current space ('' while none is open) and layout method. */
  readonly spaceName: string;
  readonly layoutName: string | null;
  readonly view: 'map' | 'globe';
  /** Metadata columns and text columns of the current space. */
  readonly columns: ColumnMeta[];
  readonly textColumns: ColumnMeta[];
  /** The metadata filter and which points pass it, or null. */
  readonly filter: FilterSpec | null;
  readonly keep: Uint8Array | null;
  readonly map: MapView;
  readonly thumbs: ThumbLayer;
  readonly globe: GlobePane;
  readonly tooltip: Tooltip;
  readonly sheet: Sheet;
  readonly picked: ItemSelection;
  readonly lasso: Lasso;
  readonly hook: TestHook;
  run(step: () => Promise<void>): Promise<void>;
  setStatus(text: string, error?: boolean): void;
  applyFilter(spec: FilterSpec | null): Promise<void>;
  saveView(): void;
  select(row: number): Promise<void>;
  deselect(): Promise<void>;
}

/** What the sheets may read and do, read from ``app`` at call time. */
export function sheetContext(app: ExplorerParts): SheetContext {
  return {
    get info() {
      return app.info;
    },
    get space() {
      return app.spaceName;
    },
    get layout() {
      return app.layoutName;
    },
    sheet: app.sheet,
    get hook() {
      return app.hook;
    },
    run: (step) => app.run(step),
    setStatus: (text, error) => app.setStatus(text, error),
    deselect: () => app.deselect(),
    get selected() {
      return app.picked.selected;
    },
    select: (row) => app.select(row),
    get columns() {
      return [...app.columns, ...app.textColumns];
    },
    get filter() {
      return app.filter;
    },
    get kept() {
      return app.keep ? { count: countKept(app.keep), total: app.keep.length } : null;
    },
    applyFilter: (spec) => app.applyFilter(spec),
    get selection() {
      return app.lasso.rows;
    },
    saveView: () => app.saveView(),
    mapPng: () => app.map.toPng(),
    downloadSelection: () => app.lasso.download(),
  };
}

/** Install window.__embedscope for ``app``: the fields the explorer sets as it goes, and getters reading it. */
export function installTestHook(app: ExplorerParts): TestHook {
  return installHook({
    ready: false,
    count: 0,
    space: null,
    layout: null,
    colorBy: null,
    view: 'map',
    honesty: null,
    clusters: 0,
    labels: false,
    search: null,
    timings: {},
    get selected() {
      return app.picked.selected;
    },
    get neighbors() {
      return app.picked.neighbors.slice();
    },
    get farNeighbors() {
      return app.picked.far.slice();
    },
    get selection() {
      return app.lasso.rows.slice();
    },
    get camera() {
      return app.map.camera;
    },
    get thumbsDrawn() {
      return app.thumbs.drawn;
    },
    get thumbsFocus() {
      return app.thumbs.focus;
    },
    get filter() {
      return app.filter && app.keep ? { json: filterJson(app.filter) ?? '', count: countKept(app.keep) } : null;
    },
    pointToScreen: (row) => app.map.screenPosition(row),
    globePointToScreen: (row) => (app.view === 'globe' ? app.globe.screenPosition(row) : null),
    rotateGlobe: async (dLon, dLat) => {
      app.globe.rotate(dLon, dLat);
      await frames(2);
    },
    colorOf: (row) => app.map.colorOf(row),
    hover: (row) => {
      if (app.view === 'globe' && app.globe.loaded) {
        app.globe.hover(row);
        app.tooltip.show(row, app.globe.screenPosition(row));
      } else {
        app.map.hover(row);
        app.tooltip.show(row, app.map.screenPosition(row));
      }
    },
    select: (row) => app.select(row),
    deselect: () => app.deselect(),
  });
}
