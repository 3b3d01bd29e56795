// Tuned spaces (``embedscope train``) in the compare view: which base and tuned spaces pair up, which space's split
// a pair shows, and the held-out items' rows on each map. No DOM.

/** What the pairing reads of /api/info's spaces. */
export interface PairSpace {
  name: string;
  tuned?: { base: string; n_train: number; n_held_out: number; by?: string | null } | null;
}

/** ``[base, tuned]`` when ``space`` is a tuned space whose base is in the workspace, or the base of one (its
 * first tuned space, in the workspace's order); else null. */
export function tunedPair(spaces: PairSpace[], space: string): [string, string] | null {
  const names = new Set(spaces.map((s) => s.name));
  const own = spaces.find((s) => s.name === space)?.tuned;
  if (own && own.base !== space && names.has(own.base)) return [own.base, space];
  const child = spaces.find((s) => s.tuned?.base === space && s.name !== space);
  return child ? [space, child.name] : null;
}

/** Which side of ``[a, b]`` holds the split the pair shows: the tuned one (the second when both are), or null. */
export function splitSide(spaces: PairSpace[], pair: [string, string]): 0 | 1 | null {
  const tuned = (name: string) => !!spaces.find((s) => s.name === name)?.tuned;
  return tuned(pair[1]) ? 1 : tuned(pair[0]) ? 0 : null;
}

/** The held-out rows of both maps: the split side's rows whose part is 1 (held-out), and the same items' rows on
 * the other side through ``other`` (the split side's point -> its row in the other space, -1 when absent). */
export function heldOutRows(parts: ArrayLike<number>, other: ArrayLike<number>): { own: number[]; other: number[] } {
  const own: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] !== 1) continue;
    own.push(i);
    const o = i < other.length ? other[i] : -1;
    if (o >= 0) theirs.push(o);
  }
  return { own, other: theirs.sort((x, y) => x - y) };
}
