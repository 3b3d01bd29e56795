// An occurrence's sentence with its word marked (items of a contexts workspace carry ``word_start`` and
// ``word_end``), for the tooltip and the item panel; and the line naming the item the sentence comes from.
import type { Item } from '../data/api';
import { type WordSpan, around, wordSpan } from '../data/contexts';
import { h } from './dom';

type Tag = 'div' | 'p';

/** ``text`` (cut to ``max`` characters) as a ``tag`` element with ``attrs``; the word in a ``<mark>`` when the
 * item has a span, null when it has none (the caller shows the text as usual). */
export function markedText(item: Item, tag: Tag, attrs: Record<string, string>, max = Infinity): HTMLElement | null {
  const span = wordSpan(item.text, item.metadata);
  if (!span) return null;
  const cut: WordSpan = Number.isFinite(max) ? around(span, max) : span;
  return h(tag, attrs, cut.before, h('mark', { class: 'word' }, cut.word), cut.after);
}

/** Where an occurrence comes from (``from item s03``), or that the item is the word alone; null otherwise. */
export function sourceLine(item: Item): HTMLElement | null {
  const { kind, item: source } = item.metadata;
  if (kind === 'static') return h('div', { class: 'item-source', id: 'item-source' }, 'The word alone: its vector with no context');
  if (typeof source !== 'string' || !source) return null;
  return h('div', { class: 'item-source', id: 'item-source' }, 'From item ', h('code', {}, source));
}
