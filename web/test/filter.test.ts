import { describe, expect, it } from 'vitest';
import { type FilterSpec, countKept, filterJson, keptRows, parseFilter } from '../src/data/filter-spec';

describe('parseFilter', () => {
  it('reads a spec of categories, a range and a text match', () => {
    const text = '{"topic": ["a", "b"], "length": {"min": 3, "max": 9}, "text": {"contains": "moon"}}';
    expect(parseFilter(text)).toEqual({ topic: ['a', 'b'], length: { min: 3, max: 9 }, text: { contains: 'moon' } });
  });

  it('gives null for nothing', () => {
    expect(parseFilter(null)).toBeNull();
    expect(parseFilter(undefined)).toBeNull();
    expect(parseFilter('')).toBeNull();
  });

  it('gives null for text that is not JSON, without throwing', () => {
    for (const bad of ['{', '{"topic": [', 'topic=a', '}{', '\u0000', '{"a": NaN}']) {
      expect(parseFilter(bad), bad).toBeNull();
    }
  });

  it('gives null for JSON that is not an object', () => {
    for (const bad of ['null', '[]', '[{"topic": ["a"]}]', '"topic"', '3', 'true', 'false']) {
      expect(parseFilter(bad), bad).toBeNull();
    }
  });

  it('keeps non-ASCII column names and values', () => {
    const spec: FilterSpec = { 'thème': ['élan', '月', '🚀'], 'text': { contains: 'ἀρχῇ' } };
    expect(parseFilter(JSON.stringify(spec))).toEqual(spec);
  });

  it('keeps an empty object (filterJson then writes nothing)', () => {
    expect(parseFilter('{}')).toEqual({});
    expect(filterJson(parseFilter('{}'))).toBeNull();
  });
});

describe('filterJson', () => {
  it('is null for no filter and for an empty one', () => {
    expect(filterJson(null)).toBeNull();
    expect(filterJson({})).toBeNull();
  });

  it('round-trips through parseFilter', () => {
    const specs: FilterSpec[] = [
      { topic: ['a'] },
      { length: { min: -1.5 } },
      { length: { max: 1e-9 } },
      { text: { contains: 'a "quoted" \\ back\nslash' } },
      { 'col with spaces & = #': ['x,y', ''], n: { min: 0, max: 0 } },
    ];
    for (const spec of specs) {
      const json = filterJson(spec);
      expect(json).not.toBeNull();
      expect(parseFilter(json)).toEqual(spec);
    }
  });

  it('writes what the server reads (plain JSON of the spec)', () => {
    expect(JSON.parse(filterJson({ topic: ['a', 'b'] }) as string)).toEqual({ topic: ['a', 'b'] });
  });
});

describe('countKept and keptRows', () => {
  it('count and list the points that pass, in point order', () => {
    const keep = Uint8Array.from([0, 1, 1, 0, 1]);
    expect(countKept(keep)).toBe(3);
    expect(keptRows(keep)).toEqual([1, 2, 4]);
    expect(keptRows(new Uint8Array(0))).toEqual([]);
  });
});
