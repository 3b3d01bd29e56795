// The contexts view's pure helpers (data/contexts.ts): layers, figures, the word's span, the alignment of maps.
import { describe, expect, it } from 'vitest';
import {
  type Contexts,
  alignTo,
  around,
  contextsTitle,
  defaultLayer,
  figure,
  layerFigure,
  layerOf,
  layerSummary,
  stepLayer,
  wordSpan,
} from '../src/data/contexts';

const layers = [0, 1, 2].map((n) => ({ layer: n, space: `layer_${n}`, purity: [0.55, 0.8, 0.97][n], silhouette: [0.05, 0.2, 0.41][n], clusters: 2 }));
const ctx: Contexts = { word: 'bank', label: 'sense', default_layer: 2, occurrences: 48, layers };

describe('layers', () => {
  it('finds a space\'s layer, the default layer and the neighbouring layers (clamped)', () => {
    expect(layerOf(ctx, 'layer_1')?.layer).toBe(1);
    expect(layerOf(ctx, 'other')).toBeNull();
    expect(defaultLayer(ctx).space).toBe('layer_2');
    expect(defaultLayer({ ...ctx, default_layer: 9 }).space).toBe('layer_2');
    expect(stepLayer(ctx, 'layer_1', -1).layer).toBe(0);
    expect(stepLayer(ctx, 'layer_0', -1).layer).toBe(0);
    expect(stepLayer(ctx, 'layer_2', 1).layer).toBe(2);
    expect(stepLayer(ctx, null, -1).layer).toBe(1); // from the default layer
  });

  it('shows purity with a label, else the silhouette; — when not measured', () => {
    expect(layerFigure(layers[2], 'sense')).toEqual({ name: 'purity', value: '0.97' });
    expect(layerFigure({ ...layers[2], purity: null }, null)).toEqual({ name: 'silhouette', value: '0.41' });
    expect(figure(null)).toBe('—');
    expect(figure(Number.NaN)).toBe('—');
    expect(layerSummary(layers[0], 'sense')).toBe('Layer 0 · purity 0.55 vs sense · silhouette 0.05 · 2 clusters');
    expect(layerSummary({ ...layers[0], clusters: 1 }, null)).toBe('Layer 0 · silhouette 0.05 · 1 cluster');
  });

  it('titles the view with the word and how many occurrences', () => {
    expect(contextsTitle(ctx, 49)).toBe('Contexts of “bank” · 48 occurrences');
    expect(contextsTitle({ ...ctx, occurrences: null }, 1235)).toBe('Contexts of “bank” · 1,234 occurrences');
    expect(contextsTitle({ ...ctx, occurrences: 1 }, 2)).toBe('Contexts of “bank” · 1 occurrence');
  });
});

describe('wordSpan and around', () => {
  const text = 'The heron waited on the muddy bank of the river';
  it('splits the sentence at word_start and word_end', () => {
    expect(wordSpan(text, { word_start: 30, word_end: 34 })).toEqual({ before: 'The heron waited on the muddy ', word: 'bank', after: ' of the river' });
  });

  it('has no span without the columns or when they do not fit the text', () => {
    expect(wordSpan(text, {})).toBeNull();
    expect(wordSpan(null, { word_start: 0, word_end: 4 })).toBeNull();
    expect(wordSpan(text, { word_start: 30, word_end: 300 })).toBeNull();
    expect(wordSpan(text, { word_start: 5, word_end: 5 })).toBeNull();
    expect(wordSpan(text, { word_start: '30', word_end: 34 })).toBeNull();
  });

  it('cuts a long sentence around the word, keeping it whole', () => {
    const long = { before: 'a'.repeat(500), word: 'bank', after: 'b'.repeat(500) };
    const cut = around(long, 104);
    expect(cut.word).toBe('bank');
    expect(cut.before).toBe(`…${'a'.repeat(50)}`);
    expect(cut.after).toBe(`${'b'.repeat(50)}…`);
    // room left on one side goes to the other
    const early = around({ before: 'The ', word: 'bank', after: 'c'.repeat(500) }, 20);
    expect(early.before).toBe('The ');
    expect(early.after).toBe(`${'c'.repeat(12)}…`);
    const short = { before: 'x ', word: 'bank', after: ' y' };
    expect(around(short, 280)).toBe(short);
  });
});

describe('alignTo', () => {
  const rng = (seed: number) => () => {
    seed = (seed * 1664525 + 1013904223) % 4294967296;
    return seed / 4294967296 - 0.5;
  };
  const r = rng(7);
  const n = 40;
  const refX = Float32Array.from({ length: n }, () => r() * 4);
  const refY = Float32Array.from({ length: n }, () => r());
  const centred = (v: Float32Array) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return Array.from(v, (u) => u - m);
  };
  const transform = (angle: number, mirror: boolean): [Float32Array, Float32Array] => {
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const py = mirror ? -refY[i] : refY[i];
      x[i] = c * refX[i] - s * py + 3;
      y[i] = s * refX[i] + c * py - 1;
    }
    return [x, y];
  };

  for (const [angle, mirror] of [[0.7, false], [2.5, false], [-1.2, true], [Math.PI, true]] as const) {
    it(`undoes a turn of ${angle} rad${mirror ? ' and a mirror' : ''} (up to a shift)`, () => {
      const [x, y] = alignTo(refX, refY, ...transform(angle, mirror));
      const [wx, wy] = [centred(refX), centred(refY)];
      for (let i = 0; i < n; i++) {
        expect(x[i]).toBeCloseTo(wx[i], 4);
        expect(y[i]).toBeCloseTo(wy[i], 4);
      }
    });
  }

  it('leaves maps of different sizes alone', () => {
    const x = new Float32Array([1, 2, 3, 4]);
    const y = new Float32Array([0, 1, 0, 1]);
    expect(alignTo(refX, refY, x, y)).toEqual([x, y]);
  });
});

describe('the senses colouring', () => {
  it('is a colour choice when the scene has senses, and colours every row by the default layer\'s cluster', async () => {
    const { Colorings, colorOptions } = await import('../src/data/coloring');
    const { SENSE } = await import('../src/data/contexts');
    const meta = { params: {}, unclustered: 0, total: 2, offset: 0, stale: false, version: 'v',
      clusters: [{ id: 0, size: 2, keywords: [], label: 'river' }, { id: 1, size: 1, keywords: [], label: 'money' }] };
    const senses = { data: { meta, labels: new Int32Array([1, 0, 0]) }, title: 'senses (layer 6 clusters)' };
    const scene = { space: 'layer_0', layout: 'umap', layoutInfo: null, columns: [], clusters: null, query: null, senses };
    expect(colorOptions(scene)).toContainEqual({ value: SENSE, label: 'senses (layer 6 clusters)' });
    expect(colorOptions({ ...scene, senses: null }).some((o) => o.value === SENSE)).toBe(false);
    const encoding = await new Colorings().encodingFor(SENSE, 3, scene);
    expect(Array.from(encoding.codes)).toEqual([1, 0, 0]);
    expect(encoding.legend).toMatchObject({ kind: 'categorical', title: 'senses (layer 6 clusters)' });
  });
});
