import { describe, expect, it } from 'vitest';
import { MAX_SEL, type ViewState, formatHash, parseHash } from '../src/data/url';

describe('parseHash', () => {
  it('gives an empty state for an empty hash', () => {
    for (const hash of ['', '#']) {
      const state = parseHash(hash);
      expect(Object.values(state).every((v) => v === undefined), hash).toBe(true);
    }
  });

  it('reads every field', () => {
    const state = parseHash('#space=docs&layout=umap&color=topic&row=12&view=globe&labels=0&q=moon&mode=keyword&sel=1,2,3&cam=0.5,-2,10&filter=%7B%7D');
    expect(state).toEqual({
      space: 'docs', layout: 'umap', color: 'topic', row: 12, view: 'globe', labels: false, q: 'moon', mode: 'keyword',
      sel: [1, 2, 3], cam: [0.5, -2, 10], filter: '{}',
    });
  });

  it('takes the hash with or without its #', () => {
    expect(parseHash('space=a&row=0')).toEqual(parseHash('#space=a&row=0'));
    expect(parseHash('space=a&row=0').row).toBe(0);
  });

  it('leaves out a row that is not a whole number', () => {
    for (const row of ['-1', '1.5', 'abc', '', '1e3', ' 3', '0x10']) {
      expect(parseHash(`#row=${encodeURIComponent(row)}`).row, row).toBeUndefined();
    }
    expect(parseHash('#row=007').row).toBe(7);
  });

  it('leaves out a selection that is not a list of rows', () => {
    for (const sel of ['', '1,', ',1', '1,,2', '1;2', '-1,2', 'a', '1.5']) {
      expect(parseHash(`#sel=${encodeURIComponent(sel)}`).sel, sel).toBeUndefined();
    }
  });

  it('keeps at most MAX_SEL rows of a selection', () => {
    const rows = Array.from({ length: MAX_SEL + 10 }, (_, i) => i);
    const sel = parseHash(`#sel=${rows.join(',')}`).sel;
    expect(sel).toHaveLength(MAX_SEL);
    expect(sel?.[MAX_SEL - 1]).toBe(MAX_SEL - 1);
  });

  it('leaves out a camera that is not three finite numbers with a positive distance', () => {
    for (const cam of ['1,2', '1,2,3,4', '1,2,0', '1,2,-3', 'a,b,c', '1,2,Infinity', '']) {
      expect(parseHash(`#cam=${encodeURIComponent(cam)}`).cam, cam).toBeUndefined();
    }
  });

  it('reads only the values it knows for view, mode and labels (others are the defaults)', () => {
    const state = parseHash('#view=map&mode=semantic&labels=1');
    expect(state.view).toBeUndefined();
    expect(state.mode).toBeUndefined();
    expect(state.labels).toBeUndefined();
    expect(parseHash('#view=GLOBE&mode=nonsense').view).toBeUndefined();
  });

  it('decodes percent-encoded and non-ASCII values', () => {
    const state = parseHash('#space=caf%C3%A9%20%26%20co&q=%E6%9C%88+moon');
    expect(state.space).toBe('café & co');
    expect(state.q).toBe('月 moon');
  });

  it('does not throw on malformed percent escapes', () => {
    expect(() => parseHash('#space=%E0%A4%A&q=%')).not.toThrow();
  });
});

describe('formatHash', () => {
  it('writes nothing for the default state', () => {
    expect(formatHash({})).toBe('#');
    expect(formatHash({ space: undefined, labels: true, q: '' })).toBe('#');
  });

  it('writes labels off as 0', () => {
    expect(formatHash({ labels: false })).toBe('#labels=0');
  });

  it('writes row 0 (a falsy but real row)', () => {
    expect(parseHash(formatHash({ row: 0 })).row).toBe(0);
  });

  it('leaves out a selection over MAX_SEL rows, keeps one of exactly MAX_SEL', () => {
    const big = Array.from({ length: MAX_SEL + 1 }, (_, i) => i);
    expect(formatHash({ sel: big })).toBe('#');
    expect(parseHash(formatHash({ sel: big.slice(0, MAX_SEL) })).sel).toHaveLength(MAX_SEL);
  });

  it('rounds the camera to 6 significant digits', () => {
    expect(parseHash(formatHash({ cam: [1 / 3, -2 / 3, 12345.6789] })).cam).toEqual([0.333333, -0.666667, 12345.7]);
  });

  it('round-trips a full state', () => {
    const state: ViewState = {
      space: 'docs', layout: 'umap', color: 'topic', row: 12, view: 'globe', labels: false, q: 'moon', mode: 'keyword',
      sel: [0, 5, 99], cam: [0.5, -2, 10], filter: '{"topic":["a"]}',
    };
    expect(parseHash(formatHash(state))).toEqual(state);
  });

  it('round-trips odd and non-ASCII names and queries', () => {
    const odd = ['café & co', 'a=b&c=d', '#hash?', '100%', 'plus+sign', ' spaced ', '月🚀', 'ἐν ἀρχῇ', 'new\nline'];
    for (const s of odd) {
      const state = parseHash(formatHash({ space: s, layout: s, color: s, q: s, filter: s }));
      expect(state, s).toMatchObject({ space: s, layout: s, color: s, q: s, filter: s });
    }
  });

  it('keeps the other fields when one is odd', () => {
    const state = parseHash(formatHash({ space: 'a&row=7', row: 3 }));
    expect(state.space).toBe('a&row=7');
    expect(state.row).toBe(3);
  });
});
