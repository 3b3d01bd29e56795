// The sheets the header opens (Compress, Health, Filter, ...). Each sheet is one module in this folder that calls
// ``registerSheet`` (and holds its own view code if it has any); sheets/index.ts imports each module once. The
// explorer builds one header button a sheet (id ``<id>-open``, in registration order) and closes whatever is
// open on Escape. A new sheet is one file here plus one import line in sheets/index.ts.
import type { ColumnMeta, Info } from '../data/api';
import type { FilterSpec } from '../data/filter-spec';
import type { TestHook } from '../hook';
import type { Sheet } from '../views/sheet';

/** What a sheet may read and do in the explorer (app.ts implements it). */
export interface SheetContext {
  /** The workspace (null until it is loaded). */
  readonly info: Info | null;
  /** Name of the current space ('' while none is open). */
  readonly space: string;
  /** The current layout method, or null. */
  readonly layout: string | null;
  /** The side sheet the sheets share (one at a time). */
  readonly sheet: Sheet;
  /** The browser tests' read-back hook (window.__embedscope). */
  readonly hook: TestHook;
  /** Run a step with the page marked busy; errors go to the status line. */
  run(step: () => Promise<void>): Promise<void>;
  setStatus(text: string, error?: boolean): void;
  /** Close the side panel of the selected item. */
  deselect(): Promise<void>;
  /** The row of the item in the side panel, or null. */
  readonly selected: number | null;
  /** Select the item at ``row`` (the side panel opens; the sheet closes). */
  select(row: number): Promise<void>;
  /** Metadata columns and text columns of the current space. */
  readonly columns: ColumnMeta[];
  /** The metadata filter and how many items pass it (null when no filter is set). */
  readonly filter: FilterSpec | null;
  readonly kept: { count: number; total: number } | null;
  /** Keep only the items that pass ``spec`` (null: all), then show the filter sheet again (or the search). */
  applyFilter(spec: FilterSpec | null): Promise<void>;
  /** Rows chosen together with the lasso (empty when none). */
  readonly selection: readonly number[];
  /** Write the view to the URL now (so ``location.href`` links to it). */
  saveView(): void;
  /** The map as a PNG image. */
  mapPng(): Promise<Blob>;
  /** Download the selection as CSV. */
  downloadSelection(): Promise<void>;
}

export interface SheetDef {
  /** Short name; the header button's id is ``<id>-open`` (the browser tests click it). */
  id: string;
  /** The button's text. */
  label: string;
  /** The button's tooltip: what the sheet shows. */
  title: string;
  /** Whether the button is shown for this workspace; without it the button is always shown. Buttons with a
   * ``visible`` start hidden until the workspace is loaded. */
  visible?(info: Info): boolean;
  /** Open the sheet (``args``: what a sheet reopening itself passes, e.g. the spaces chosen in it). */
  open(ctx: SheetContext, ...args: string[]): Promise<void>;
  /** For a sheet with its own view instead of the shared side sheet: close that view if it is open and say
   * whether it was. The shared side sheet is closed by the explorer. */
  close?(ctx: SheetContext): boolean;
}

const registry: SheetDef[] = [];

/** Add a sheet (its button goes after those registered before it). */
export function registerSheet(def: SheetDef): void {
  if (registry.some((d) => d.id === def.id)) throw new Error(`a sheet "${def.id}" is already registered`);
  registry.push(def);
}

/** The registered sheets, in registration order. */
export function sheets(): readonly SheetDef[] {
  return registry;
}

/** The sheet registered as ``id``. */
export function sheetById(id: string): SheetDef {
  const def = registry.find((d) => d.id === id);
  if (!def) throw new Error(`no sheet "${id}" is registered`);
  return def;
}

/** The id of a sheet's header button. */
export const buttonId = (def: Pick<SheetDef, 'id'>): string => `${def.id}-open`;
