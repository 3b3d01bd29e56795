// A text box that names one item of a space: type an id (or part of an id or a text) and pick a suggestion;
// the vector sheets (Closer, Analogy) and the panel's "Compare with…" use it.
import { type ItemBrief, type ItemRef, lookupItems } from '../data/api';
import { h } from './dom';

let lists = 0;

export class ItemPicker {
  readonly el: HTMLElement;
  readonly input: HTMLInputElement;
  private readonly list: HTMLDataListElement;
  private found: ItemBrief[] = [];
  private picked: ItemBrief | null = null;
  private timer: number | undefined;

  /** ``id``: the input's id; ``label``: its visible label (``A``, ``+``); ``placeholder``: a hint. */
  constructor(private readonly space: () => string, id: string, label: string, placeholder = 'id or text…') {
    this.list = h('datalist', { id: `${id}-list-${++lists}` });
    this.input = h('input', { id, type: 'text', list: this.list.id, placeholder, autocomplete: 'off', spellcheck: false,
      'aria-label': label, class: 'picker-input' });
    this.el = h('label', { class: 'picker' }, h('span', { class: 'picker-label' }, label), this.input, this.list);
    this.input.addEventListener('input', () => {
      this.picked = null;
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => void this.suggest(), 120);
    });
  }

  /** Fill in an item (from the selection, or a clicked result). */
  set(item: ItemBrief): void {
    this.picked = item;
    this.input.value = item.id;
  }

  /** The item named: the suggestion picked, else the text typed as an id (the server says when none has it). */
  ref(): ItemRef | null {
    const value = this.input.value.trim();
    if (!value) return null;
    if (this.picked && this.picked.id === value) return { row: this.picked.row };
    const hit = this.found.find((f) => f.id === value);
    return hit ? { row: hit.row } : { id: value };
  }

  private async suggest(): Promise<void> {
    const q = this.input.value.trim();
    const space = this.space();
    if (!q || !space) return;
    try {
      const found = await lookupItems(space, q, 12);
      if (this.input.value.trim() !== q) return;
      this.found = found;
      this.list.replaceChildren(...found.map((f) =>
        h('option', { value: f.id }, f.text && f.text !== f.id ? f.text.slice(0, 80) : f.id)));
    } catch {
      /* suggestions are a help; the answer's request reports errors */
    }
  }
}
