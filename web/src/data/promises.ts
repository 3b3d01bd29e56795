// Promise helpers of the page: requests started early and awaited later, caches of fetched data.

/** ``promise`` itself, marked as handled: a request started early and awaited later must not be reported as an
 * unhandled rejection if it fails before anyone awaits it (the await still throws). */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** The text of a thrown value (an Error's message, anything else as a string). */
export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Promises by key, each made once; one that rejects is forgotten, so the next ``get`` asks again. */
export class Memo<K, V> {
  private readonly hits = new Map<K, Promise<V>>();

  /** The promise kept for ``key``, or the one ``make`` returns (kept from now on). */
  get(key: K, make: () => Promise<V>): Promise<V> {
    let hit = this.hits.get(key);
    if (!hit) {
      const made = make();
      made.catch(() => {
        if (this.hits.get(key) === made) this.hits.delete(key);
      });
      this.hits.set(key, made);
      hit = made;
    }
    return hit;
  }

  /** Whether a promise is kept for ``key``. */
  has(key: K): boolean {
    return this.hits.has(key);
  }
}
