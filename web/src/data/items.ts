// Items fetched by row, cached per space (hover and the panel ask for the same rows again and again).
import { type Item, getItem } from './api';

export class ItemCache {
  private cache = new Map<string, Promise<Item>>();
  private static readonly LIMIT = 2000;

  get(space: string, row: number): Promise<Item> {
    const key = `${space}\u0000${row}`;
    let hit = this.cache.get(key);
    if (!hit) {
      if (this.cache.size >= ItemCache.LIMIT) this.cache.delete(this.cache.keys().next().value as string);
      hit = getItem(space, row);
      hit.catch(() => this.cache.delete(key));
      this.cache.set(key, hit);
    }
    return hit;
  }
}
