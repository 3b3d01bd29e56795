import { describe, expect, it } from 'vitest';
import { NO_MARKS, picturesFit, tilePlan } from '../src/data/tile-plan';

describe('tilePlan', () => {
  it('draws every picture plainly in its order when nothing is marked', () => {
    expect(tilePlan([4, 2, 9], NO_MARKS)).toEqual([
      { row: 4, mark: 'plain' }, { row: 2, mark: 'plain' }, { row: 9, mark: 'plain' },
    ]);
  });

  it('dims the others and draws the neighbours, then the selected item, then the hovered point on top', () => {
    const plan = tilePlan([1, 2, 3, 4, 5, 6], { focus: 2, chosen: [5, 1], hovered: 6 });
    expect(plan).toEqual([
      { row: 3, mark: 'dim' }, { row: 4, mark: 'dim' },
      { row: 1, mark: 'chosen' }, { row: 5, mark: 'chosen' },
      { row: 2, mark: 'focus' },
      { row: 6, mark: 'hover' },
    ]);
  });

  it('marks a lasso selection without a focus, and hovering alone dims nothing', () => {
    expect(tilePlan([1, 2, 3], { focus: null, chosen: [3, 1], hovered: null }).map((t) => t.mark))
      .toEqual(['dim', 'chosen', 'chosen']);
    expect(tilePlan([1, 2, 3], { focus: null, chosen: [], hovered: 1 })).toEqual([
      { row: 2, mark: 'plain' }, { row: 3, mark: 'plain' }, { row: 1, mark: 'hover' },
    ]);
  });

  it('keeps a hovered selected item hovered, and marks only the rows on screen', () => {
    const plan = tilePlan([7, 8], { focus: 7, chosen: [99], hovered: 7 });
    expect(plan).toEqual([{ row: 8, mark: 'dim' }, { row: 7, mark: 'hover' }]);
  });
});

describe('picturesFit', () => {
  it('fits pictures whose total area is at most the span they spread over', () => {
    expect(picturesFit(1, 0, 0, 44)).toBe(true);
    expect(picturesFit(60, 700, 600, 44)).toBe(true);
    expect(picturesFit(200, 800, 700, 44)).toBe(true);
  });

  it('turns crowded points (zoomed out: the same points in a smaller span) back into dots', () => {
    expect(picturesFit(200, 200, 200, 44)).toBe(false);
    expect(picturesFit(200, 600, 400, 44, 1)).toBe(false); // less room asked for
    expect(picturesFit(0, 500, 500, 44)).toBe(false);
    expect(picturesFit(200, 400, 400, 44, 2)).toBe(true); // more overlap allowed
  });
});
