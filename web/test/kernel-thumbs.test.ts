import { describe, expect, it } from 'vitest';
import { KernelThumbs, asBytes } from '../src/data/kernel-thumbs';

const WEBP = new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4]);

describe('KernelThumbs', () => {
  it('asks the kernel once per id and resolves every waiter with an object URL of the bytes', async () => {
    const sent: unknown[] = [];
    const thumbs = new KernelThumbs((m) => sent.push(m));
    const a = thumbs.url('pic/1 ü.png');
    const b = thumbs.url('pic/1 ü.png');
    expect(sent).toEqual([{ type: 'thumb', id: 'pic/1 ü.png' }]);
    expect(thumbs.receive({ type: 'thumb', id: 'pic/1 ü.png', found: true }, [new DataView(WEBP.buffer)])).toBe(true);
    const [ua, ub] = await Promise.all([a, b]);
    expect(ua).toBe(ub);
    expect(ua).toMatch(/^blob:/);
    const blob = await (await fetch(ua as string)).arrayBuffer();
    expect(new Uint8Array(blob)).toEqual(WEBP);
    expect(await thumbs.url('pic/1 ü.png')).toBe(ua); // cached: no second message
    expect(sent.length).toBe(1);
  });

  it('resolves null for an item without a picture and ignores other messages', async () => {
    const thumbs = new KernelThumbs(() => {});
    const p = thumbs.url('x');
    expect(thumbs.receive({ type: 'item' }, [])).toBe(false);
    expect(thumbs.receive(null)).toBe(false);
    expect(thumbs.receive({ type: 'thumb', id: 'x', found: false })).toBe(true);
    expect(await p).toBeNull();
  });

  it('keeps at most maxKept, forgetting the least recently used', async () => {
    const sent: string[] = [];
    const thumbs = new KernelThumbs((m) => sent.push(m.id), 2);
    for (const id of ['a', 'b']) {
      const p = thumbs.url(id);
      thumbs.receive({ type: 'thumb', id, found: true }, [WEBP]);
      await p;
    }
    await thumbs.url('a'); // a is now the most recently used
    const p = thumbs.url('c');
    thumbs.receive({ type: 'thumb', id: 'c', found: true }, [WEBP.buffer]);
    await p;
    expect(thumbs.kept).toBe(2);
    void thumbs.url('b'); // b was forgotten: asked again
    void thumbs.url('a'); // a was kept
    expect(sent).toEqual(['a', 'b', 'c', 'b']);
    thumbs.dispose();
    expect(thumbs.kept).toBe(0);
  });
});

describe('asBytes', () => {
  it('reads a DataView over part of a buffer without copying the rest', () => {
    const whole = new Uint8Array([9, 9, 1, 2, 3, 9]);
    expect(Array.from(asBytes(new DataView(whole.buffer, 2, 3)))).toEqual([1, 2, 3]);
    expect(Array.from(asBytes(whole.subarray(1, 3)))).toEqual([9, 1]);
  });
});
