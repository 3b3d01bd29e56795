// The header toolbar: every control in one row when the row has room; else, step by step, the sheets' buttons
// (one at a time, the last first), then the less-used controls (layout, view, colour, labels), then the search
// mode go into a menu under a "More" button, and on a phone the honesty badge and the status line take a second row. Measured, not guessed:
// how many sheet buttons show depends on the workspace, and a filter's count or the honesty figures lengthen
// the row. The space selector and the search box stay in the header at every width.

/** The steps' names, fullest first (the header's ``data-mode``): nothing in the menu, some sheets' buttons, the
 * controls too, and a phone's two rows (everything movable in the menu). */
export const BAR_MODES = ['full', 'sheets', 'controls', 'phone'] as const;
export type BarMode = (typeof BAR_MODES)[number];

/** Width the status line keeps at least in the header's row (CSS pixels); a longer message is cut with an
 * ellipsis (its full text is the tooltip) and an error floats over the map (views/badges.ts). */
export const STATUS_ROOM = 200;

interface Movable {
  el: HTMLElement;
  /** Where the part sits in the header (a comment node left in its place). */
  home: Comment;
}

export class Toolbar {
  private modeIndex = 0;
  private readonly movables: Movable[];
  private readonly observer: MutationObserver;
  private scheduled = 0;

  /**
   * @param bar the header (``.bar``)
   * @param button the "More" button (shown when the menu holds anything)
   * @param menu the menu (outside the header, under it)
   * @param status the status line (kept at least ``STATUS_ROOM`` wide in the row)
   * @param movables the parts that go into the menu, first to go first (one a step after ``full``)
   * @param modes the step's name once each movable is in the menu (``movables.length`` names)
   * @param watched elements whose size may change (their text, children, ``hidden``): the row is fitted again
   */
  constructor(
    private readonly bar: HTMLElement,
    private readonly button: HTMLButtonElement,
    private readonly menu: HTMLElement,
    private readonly status: HTMLElement,
    movables: HTMLElement[],
    private readonly modes: BarMode[],
    watched: HTMLElement[],
  ) {
    this.movables = movables.map((el) => {
      const home = document.createComment(` ${el.id} `);
      el.before(home);
      return { el, home };
    });
    button.addEventListener('click', () => this.toggle());
    // a sheet's button closes the menu, so the sheet it opens is seen (it runs its own click handler too)
    menu.addEventListener('click', (ev) => {
      if ((ev.target as HTMLElement).closest('button.button')) this.close();
    });
    document.addEventListener('pointerdown', (ev) => {
      const target = ev.target as Node;
      if (!menu.hidden && !menu.contains(target) && !button.contains(target)) this.close();
    });
    this.observer = new MutationObserver(() => this.schedule());
    for (const el of watched) this.observer.observe(el, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['hidden'] });
    new ResizeObserver(() => this.schedule()).observe(document.documentElement);
    this.fit();
  }

  /** The current step's name. */
  get mode(): BarMode {
    return this.modeIndex === 0 ? 'full' : this.modes[this.modeIndex - 1];
  }

  private get steps(): number {
    return this.movables.length + 1;
  }

  get isOpen(): boolean {
    return !this.menu.hidden;
  }

  /** Open or close the menu. */
  toggle(open = this.menu.hidden): void {
    this.menu.hidden = !open || this.modeIndex === 0;
    this.button.setAttribute('aria-expanded', String(!this.menu.hidden));
  }

  /** Close the menu; returns whether it was open (Escape closes it first). */
  close(): boolean {
    const was = this.isOpen;
    this.toggle(false);
    return was;
  }

  /** Fit the row again in the next frame (many changes at once fit once). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = requestAnimationFrame(() => {
      this.scheduled = 0;
      this.fit();
    });
  }

  /** Take the fullest step whose row has room for everything in it (the last step when none has). */
  fit(): void {
    let i = 0;
    for (; i < this.steps - 1; i++) {
      this.apply(i);
      if (this.fits()) break;
    }
    if (i === this.steps - 1) this.apply(i);
    if (this.modeIndex === 0) this.close();
    this.observer.takeRecords(); // our own moves are no reason to fit again
    document.documentElement.style.setProperty('--bar-h', `${this.bar.offsetHeight}px`);
  }

  private fits(): boolean {
    // the spacer takes the row's slack: with the status line it is the room the status line has
    const spacer = this.bar.querySelector('.spacer');
    const room = this.status.getBoundingClientRect().width + (spacer?.getBoundingClientRect().width ?? 0);
    return this.bar.scrollWidth <= this.bar.clientWidth && room >= STATUS_ROOM - 0.5;
  }

  private apply(index: number): void {
    this.modeIndex = index;
    const inMenu = this.movables.filter((_, j) => j < index);
    for (const m of this.movables) if (!inMenu.includes(m) && m.el.previousSibling !== m.home) m.home.after(m.el);
    // the menu lists its parts in their header order
    const ordered = inMenu.sort((a, b) => (a.home.compareDocumentPosition(b.home) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    const now = [...this.menu.children];
    if (ordered.length !== now.length || ordered.some((m, j) => now[j] !== m.el)) this.menu.replaceChildren(...ordered.map((m) => m.el));
    this.bar.dataset.mode = this.mode;
    this.button.hidden = index === 0;
  }
}
