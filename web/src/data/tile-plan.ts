// What the deep-zoom picture layer (views/thumb-layer.ts) draws and in which order, without a DOM: whether the
// points on screen have room for pictures, and how each picture is marked so the selected item, its neighbours
// and the hovered point stay visible over the others (drawn last, bigger, with a border of the selection's colour;
// the rest dimmed while something is selected).

/** How a picture is drawn: ``plain`` (nothing selected), ``dim`` (not part of the selection), ``chosen`` (a
 * neighbour of the selected item or a point of a lasso selection), ``focus`` (the selected item), ``hover``. */
export type TileMark = 'plain' | 'dim' | 'chosen' | 'focus' | 'hover';

/** What the map marks: the selected item (null: none) and its neighbours, or the rows of a lasso selection
 * (``focus`` null, ``chosen`` the rows); the point under the mouse. */
export interface TileMarks {
  focus: number | null;
  chosen: readonly number[];
  hovered: number | null;
}

export const NO_MARKS: TileMarks = { focus: null, chosen: [], hovered: null };

/** Draw order of the marks: later ones are drawn on top. */
const ORDER: Record<TileMark, number> = { plain: 0, dim: 0, chosen: 1, focus: 2, hover: 3 };

/** Scale of a marked picture relative to the others. */
export const MARK_SCALE: Record<TileMark, number> = { plain: 1, dim: 1, chosen: 1, focus: 1.5, hover: 1.5 };

/** The pictures of ``rows`` in draw order with their marks (a stable sort: unmarked ones keep their order). */
export function tilePlan(rows: readonly number[], marks: TileMarks): { row: number; mark: TileMark }[] {
  const chosen = new Set(marks.chosen);
  const selecting = marks.focus !== null || chosen.size > 0;
  const markOf = (row: number): TileMark => {
    if (row === marks.hovered) return 'hover';
    if (row === marks.focus) return 'focus';
    if (chosen.has(row)) return 'chosen';
    return selecting ? 'dim' : 'plain';
  };
  return rows
    .map((row) => ({ row, mark: markOf(row) }))
    .map((t, i) => ({ t, i }))
    .sort((a, b) => ORDER[a.t.mark] - ORDER[b.t.mark] || a.i - b.i)
    .map(({ t }) => t);
}

/** How much overlap the pictures may have: their total area over the area they spread over (at 1.5, about a third
 * of each picture is covered by others on average, still readable; beyond, dots show the shape better). */
export const ROOM = 1.5;

/** Whether ``count`` pictures of side ``side`` (CSS pixels) have room among points that span ``width`` x
 * ``height`` pixels on screen: their total area at most ``room`` times the area they can spread over (the span
 * plus one picture). Zoomed out, the same points crowd into a smaller span and turn back into dots. */
export function picturesFit(count: number, width: number, height: number, side: number, room = ROOM): boolean {
  if (count === 0) return false;
  return count * side * side <= room * (width + side) * (height + side);
}
