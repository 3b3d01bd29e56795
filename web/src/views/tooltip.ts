// Hover tooltip: the item's text (or id and metadata), fetched after a short pause, cached.
import type { Item } from '../data/api';
import { h } from './dom';
import { markedText } from './marked';
import { thumbImg } from './thumb';

const DELAY_MS = 60;
const MAX_CHARS = 280;

export class Tooltip {
  private timer: number | undefined;
  private current: number | null = null;

  constructor(
    private readonly el: HTMLElement,
    private readonly load: (row: number) => Promise<Item>,
    /** The item's picture (null: none); by default its thumbnail from the server (views/thumb.ts). */
    private readonly picture: (item: Item) => HTMLElement | null = (item) =>
      item.has_image ? thumbImg(item.id, true, 96, 'thumb-md', false) : null,
  ) {}

  /** Show ``row`` at ``at`` (CSS pixels inside the stage) after a short pause; ``null`` hides. */
  show(row: number | null, at: [number, number] | null): void {
    window.clearTimeout(this.timer);
    this.current = row;
    if (row === null || at === null) {
      this.el.hidden = true;
      return;
    }
    this.timer = window.setTimeout(async () => {
      try {
        const item = await this.load(row);
        if (this.current !== row) return;
        this.render(item);
        this.place(at);
      } catch {
        if (this.current === row) this.el.hidden = true;
      }
    }, DELAY_MS);
  }

  private render(item: Item): void {
    const text = item.text ?? summary(item.metadata);
    const cut = text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
    this.el.dataset.row = String(item.row);
    const thumb = this.picture(item);
    const body = markedText(item, 'div', { class: 'tooltip-text' }, MAX_CHARS) ?? h('div', { class: 'tooltip-text' }, cut);
    this.el.replaceChildren(...(thumb ? [thumb] : []), h('div', { class: 'tooltip-id' }, item.id), body);
  }

  private place([x, y]: [number, number]): void {
    const el = this.el;
    el.hidden = false;
    const parent = el.parentElement?.getBoundingClientRect();
    const w = el.offsetWidth;
    const hgt = el.offsetHeight;
    const maxX = (parent?.width ?? window.innerWidth) - w - 8;
    const left = Math.max(8, Math.min(x + 14, maxX));
    const top = y - hgt - 12 >= 8 ? y - hgt - 12 : y + 16;
    el.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  }
}

function summary(metadata: Record<string, unknown>): string {
  return Object.entries(metadata)
    .slice(0, 6)
    .map(([k, v]) => `${k}: ${v}`)
    .join(' · ');
}
