// window.__embedscope: a read-back hook for browser tests (and curious users in the console).
import type { Rgb } from './colors';

export interface TestHook {
  /** True once the first map is drawn and after every later redraw settles. */
  ready: boolean;
  count: number;
  space: string | null;
  layout: string | null;
  colorBy: string | null;
  /** Row of the item in the side panel, or null. */
  selected: number | null;
  /** Rows of the highlighted neighbours of ``selected``. */
  neighbors: number[];
  /** CSS pixels of a point relative to the map canvas' top-left corner. */
  pointToScreen(row: number): [number, number] | null;
  /** The RGB a point is drawn with. */
  colorOf(row: number): Rgb | null;
  hover(row: number): void;
  select(row: number): Promise<void>;
  deselect(): Promise<void>;
}

declare global {
  interface Window {
    __embedscope: TestHook;
  }
}

export function installHook(hook: TestHook): TestHook {
  window.__embedscope = hook;
  return hook;
}
