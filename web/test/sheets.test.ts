import { beforeEach, describe, expect, it, vi } from 'vitest';

type Registry = typeof import('../src/sheets/registry');

describe('the sheets registry', () => {
  let reg: Registry;
  const noop = async () => {};

  beforeEach(async () => {
    vi.resetModules(); // a fresh, empty registry for each test
    reg = await import('../src/sheets/registry');
  });

  it('lists sheets in registration order, each with its button id', () => {
    reg.registerSheet({ id: 'b', label: 'B', title: 'b', open: noop });
    reg.registerSheet({ id: 'a', label: 'A', title: 'a', open: noop });
    expect(reg.sheets().map((d) => d.id)).toEqual(['b', 'a']);
    expect(reg.sheets().map(reg.buttonId)).toEqual(['b-open', 'a-open']);
  });

  it('finds a sheet by id, and says which id is missing', () => {
    const def = { id: 'health', label: 'Health', title: 't', open: noop };
    reg.registerSheet(def);
    expect(reg.sheetById('health')).toBe(def);
    expect(() => reg.sheetById('nope')).toThrow(/"nope"/);
  });

  it('refuses a second sheet with the same id (its button id would clash)', () => {
    reg.registerSheet({ id: 'x', label: 'X', title: 'x', open: noop });
    expect(() => reg.registerSheet({ id: 'x', label: 'Y', title: 'y', open: noop })).toThrow(/already registered/);
    expect(reg.sheets()).toHaveLength(1);
  });
});

describe('the sheets of the header', () => {
  it('registers the eight sheets in the header order, with the button ids the browser tests click', async () => {
    vi.resetModules();
    const { sheets, buttonId } = await import('../src/sheets');
    expect(sheets().map(buttonId)).toEqual(
      ['compress-open', 'health-open', 'filter-open', 'export-open', 'compare-open', 'translate-open', 'closer-open',
        'analogy-open'],
    );
    expect(sheets().map((d) => d.label)).toEqual(['Compress', 'Health', 'Filter', 'Export', 'Compare', 'Translate',
      'Closer', 'Analogy']);
    for (const def of sheets()) expect(def.title.length, def.id).toBeGreaterThan(10);
  });

  it('shows Compare and Translate only for a workspace with two spaces or more, Closer and Analogy with one', async () => {
    vi.resetModules();
    const { sheets } = await import('../src/sheets');
    const info = (n: number) => ({ spaces: Array.from({ length: n }, (_, i) => ({ name: `s${i}` })) }) as never;
    const shown = (n: number) => sheets().filter((d) => !d.visible || d.visible(info(n))).map((d) => d.id);
    expect(shown(0)).toEqual(['compress', 'health', 'filter', 'export']);
    expect(shown(1)).toEqual(['compress', 'health', 'filter', 'export', 'closer', 'analogy']);
    expect(shown(2)).toEqual(['compress', 'health', 'filter', 'export', 'compare', 'translate', 'closer', 'analogy']);
    // buttons with a visibility rule start hidden until the workspace is loaded
    expect(sheets().filter((d) => d.visible).map((d) => d.id)).toEqual(['compare', 'translate', 'closer', 'analogy']);
  });
});
