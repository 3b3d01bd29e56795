import { describe, expect, it } from 'vitest';
import { formatCount } from '../src/views/dom';

describe('formatCount', () => {
  it('keeps small counts whole and shortens large ones so an axis label fits', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(9549.6)).toBe('9550');
    expect(formatCount(19100)).toBe('19.1K'); // was "1.91e+4", cut to ".91e+4" by the chart's margin
    expect(formatCount(2_500_000)).toBe('2.5M');
    for (const v of [12_345, 987_654, 45_000_000]) expect(formatCount(v).length).toBeLessThanOrEqual(6);
  });
});
