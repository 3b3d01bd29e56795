// The header's text badges: the honesty figures of the current layout (#honesty) and the status line (#status).
import { hasHonesty } from '../data/coloring';
import type { LayoutInfo } from '../data/api';
import type { TestHook } from '../hook';

/** The badge's text and tooltip for a layout with honesty figures (trustworthiness and kNN recall at k). */
export function honestyText(info: LayoutInfo): { text: string; title: string } {
  const k = info.k as number;
  const f = (v: number | null) => (v === null ? '–' : v.toFixed(2));
  return {
    text: `T@${k} ${f(info.trustworthiness)} · recall ${f(info.knn_recall)}`,
    title:
      `How honest the ${info.method} map is about neighbourhoods (1 = perfect), at k = ${k}:\n` +
      `· trustworthiness ${f(info.trustworthiness)}: items drawn near each other are neighbours in the original space ` +
      `(lower = the map puts far-apart items together)\n` +
      `· continuity ${f(info.continuity)}: neighbours in the original space stay near each other on the map\n` +
      `· kNN recall ${f(info.knn_recall)}: share of an item's ${k} nearest neighbours that are also its ${k} nearest on the map, on average\n` +
      (info.sampled ? `Measured on ${info.sampled.toLocaleString()} sampled items, not on every item.\n` : '') +
      `Colour by "map honesty" to see where the map distorts.${info.stale ? '\nThe layout is stale: the space changed since.' : ''}`,
  };
}

/** Show the honesty figures of ``info`` in ``el`` (hidden when it has none); returns them for the test hook. */
export function showHonesty(el: HTMLElement, info: LayoutInfo | null): TestHook['honesty'] {
  if (!info || !hasHonesty(info)) {
    el.hidden = true;
    return null;
  }
  const { text, title } = honestyText(info);
  el.hidden = false;
  el.textContent = text;
  el.title = title;
  return { k: info.k as number, trustworthiness: info.trustworthiness, knn_recall: info.knn_recall };
}

/** Show ``text`` in the status line (``error``: in the error style). */
export function setStatus(el: HTMLElement, text: string, error = false): void {
  el.textContent = text;
  el.classList.toggle('error', error);
  el.title = text;
  // an error must be read: when the header is too crowded for it (every button at 1280 px), it floats as a
  // pill over the map; other messages just shorten (the full text is the tooltip)
  el.classList.remove('floating');
  if (error && text && el.scrollWidth > el.clientWidth + 1) el.classList.add('floating');
}
