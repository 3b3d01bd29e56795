// Least-recently-used slots of a fixed-size atlas: which key (a row) sits in which slot, and which slot to reuse.

export class SlotCache {
  /** key -> slot, in use order (oldest first: a Map keeps insertion order). */
  private readonly where = new Map<number, number>();
  private free: number[];

  constructor(readonly size: number) {
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  /** The slot of ``key``, marked as just used; undefined when it has none. */
  get(key: number): number | undefined {
    const slot = this.where.get(key);
    if (slot !== undefined) {
      this.where.delete(key);
      this.where.set(key, slot);
    }
    return slot;
  }

  has(key: number): boolean {
    return this.where.has(key);
  }

  /** A slot for ``key``: a free one, or the least recently used one's (its key is forgotten). Keys in ``pinned``
   * (e.g. on screen now) are not evicted while an older one is left. */
  put(key: number, pinned: ReadonlySet<number> = new Set()): number {
    const had = this.get(key);
    if (had !== undefined) return had;
    let slot = this.free.pop();
    if (slot === undefined) {
      let victim: number | undefined;
      for (const k of this.where.keys()) {
        if (!pinned.has(k)) {
          victim = k;
          break;
        }
      }
      victim ??= this.where.keys().next().value as number;
      slot = this.where.get(victim) as number;
      this.where.delete(victim);
    }
    this.where.set(key, slot);
    return slot;
  }

  /** Forget every key (a new layout or space). */
  clear(): void {
    this.where.clear();
    this.free = Array.from({ length: this.size }, (_, i) => this.size - 1 - i);
  }

  get used(): number {
    return this.where.size;
  }
}
