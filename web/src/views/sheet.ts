// A side sheet for measurements of the whole space (compression, ...): a title, a body, a close button.
import { h } from './dom';

export class Sheet {
  private readonly body: HTMLElement;
  private readonly title: HTMLElement;
  /** Bumped by every open and close: what a sheet opened earlier may no longer replace. */
  private generation = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly onClose: () => void = () => {},
  ) {
    this.title = h('div', { class: 'panel-title', id: 'sheet-title' });
    const close = h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Close', title: 'Close (Esc)' }, '×');
    close.addEventListener('click', () => this.close());
    this.body = h('div', { class: 'sheet-body' });
    root.replaceChildren(h('div', { class: 'panel-head' }, this.title, close), this.body);
    root.setAttribute('role', 'dialog');
    root.setAttribute('aria-labelledby', 'sheet-title');
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  /** Show ``content``; returns a ticket for :meth:`fill` (a sheet that computes shows a loading note first). */
  open(title: string, ...content: Node[]): number {
    this.title.textContent = title;
    this.body.replaceChildren(...content);
    this.root.hidden = false;
    document.body.classList.add('sheet-open');
    return ++this.generation;
  }

  /** Whether the sheet still shows what ``open`` returned ``ticket`` for (not closed, nothing opened since). */
  isCurrent(ticket: number): boolean {
    return !this.root.hidden && ticket === this.generation;
  }

  /** Replace the content opened as ``ticket`` when it is still shown; a late answer never lands in another
   * sheet's content (Health finishing after Compress was opened showed Health under Compress's title). */
  fill(ticket: number, title: string, ...content: Node[]): boolean {
    if (!this.isCurrent(ticket)) return false;
    this.title.textContent = title;
    this.body.replaceChildren(...content);
    return true;
  }

  close(): void {
    this.generation++;
    if (this.root.hidden) return;
    this.root.hidden = true;
    document.body.classList.remove('sheet-open');
    this.onClose();
  }
}
