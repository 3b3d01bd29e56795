import { describe, expect, it } from 'vitest';
import { SlotCache } from '../src/data/slots';
import { imagesOn, setImages, thumbUrl } from '../src/data/thumbs';

describe('SlotCache', () => {
  it('hands out every slot once, then reuses the least recently used', () => {
    const c = new SlotCache(3);
    const slots = [10, 11, 12].map((k) => c.put(k));
    expect(new Set(slots).size).toBe(3);
    expect(c.get(10)).toBe(slots[0]); // 10 is now the most recently used
    const reused = c.put(13);
    expect(reused).toBe(slots[1]); // 11 was the oldest
    expect(c.has(11)).toBe(false);
    expect(c.used).toBe(3);
  });

  it('does not evict pinned keys while another is left', () => {
    const c = new SlotCache(2);
    const a = c.put(1);
    const b = c.put(2);
    expect(c.put(3, new Set([1]))).toBe(b);
    expect(c.has(1)).toBe(true);
    expect(c.put(3)).toBe(b); // already there
    c.clear();
    expect(c.used).toBe(0);
    expect(new Set([c.put(5), c.put(6)])).toEqual(new Set([a, b]));
  });

  it('stays within its size over a long browse', () => {
    const c = new SlotCache(1024);
    for (let k = 0; k < 10_000; k++) expect(c.put(k)).toBeLessThan(1024);
    expect(c.used).toBe(1024);
  });
});

describe('thumbUrl', () => {
  it('percent-encodes odd ids and adds the version', () => {
    expect(thumbUrl('a/b c.png', null)).toBe('api/thumbs/a%2Fb%20c.png');
    expect(thumbUrl('what?x=1#y', 'v1')).toBe('api/thumbs/what%3Fx%3D1%23y?v=v1');
    expect(thumbUrl('画像', null)).toBe(`api/thumbs/${encodeURIComponent('画像')}`);
  });

  it('follows /api/info', () => {
    setImages({ images: true, images_version: 'abc' });
    expect(imagesOn()).toBe(true);
    expect(thumbUrl('x')).toBe('api/thumbs/x?v=abc');
    setImages(null);
    expect(imagesOn()).toBe(false);
  });
});
