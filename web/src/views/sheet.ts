// A side sheet for measurements of the whole space (compression, ...): a title, a body, a close button.
import { h } from './dom';

export class Sheet {
  private readonly body: HTMLElement;
  private readonly title: HTMLElement;

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

  open(title: string, ...content: Node[]): void {
    this.title.textContent = title;
    this.body.replaceChildren(...content);
    this.root.hidden = false;
    document.body.classList.add('sheet-open');
  }

  close(): void {
    if (this.root.hidden) return;
    this.root.hidden = true;
    document.body.classList.remove('sheet-open');
    this.onClose();
  }
}
