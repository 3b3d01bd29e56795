// The selected item's vector in the side panel, and "Compare with…" a second item: both strips and their
// element-wise product (whose sum is the dot product), the cosine, the dimensions that contribute most and the
// pair's rank among all pairs of the space. The second item comes from the text box, a neighbour in the list or a
// point on the map ("Pick on map": the next click the item selection passes here). A later item wins over a slower
// earlier one; nothing of a previous item or space stays on screen.
import { type ItemRef, type PairResult, getPair, getVector } from '../data/api';
import { message } from '../data/promises';
import { maxAbs, product, rankText } from '../data/vectors';
import { formatNumber, h } from '../views/dom';
import { ItemPicker } from '../views/item-picker';
import { VectorStrip, scaleKey } from '../views/vector-strip';

/** The strips' width: the panel's inner width (CSS pixels). */
const stripWidth = (slot: HTMLElement) => Math.max(160, (slot.clientWidth || 360) - 32);

export class VectorView {
  /** The next map click or neighbour click names the item to compare with. */
  picking = false;
  private token = 0;
  private pairToken = 0;
  private space = '';
  private row: number | null = null;
  private vector: Float32Array | null = null;
  private readonly body: HTMLElement;
  private readonly compare: HTMLElement;
  private readonly picker: ItemPicker;
  private readonly pickButton: HTMLButtonElement;

  constructor(private readonly slot: HTMLElement) {
    this.body = h('div', { class: 'vec-body', id: 'vec-body' });
    this.compare = h('div', { class: 'vec-compare', id: 'vec-compare' });
    this.picker = new ItemPicker(() => this.space, 'compare-input', 'Compare with…', 'id, or pick a neighbour or a point');
    const go = h('button', { class: 'button', type: 'submit', id: 'compare-go' }, 'Compare');
    this.pickButton = h('button', { class: 'button', type: 'button', id: 'compare-pick', 'aria-pressed': 'false',
      title: 'Then click a point on the map or a neighbour in the list' }, 'Pick on map');
    this.pickButton.addEventListener('click', () => this.setPicking(!this.picking));
    const form = h('form', { class: 'vec-form', id: 'compare-form' }, this.picker.el, go, this.pickButton);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const ref = this.picker.ref();
      if (ref) void this.compareWith(ref);
    });
    slot.replaceChildren(
      h('div', { class: 'section-head' }, h('span', {}, 'Vector')),
      this.body, form, this.compare);
    slot.hidden = true;
  }

  /** Show ``row``'s vector (the compare part emptied). */
  async show(space: string, row: number): Promise<void> {
    const token = ++this.token;
    this.pairToken++;
    this.space = space;
    this.row = row;
    this.vector = null;
    this.setPicking(false);
    this.picker.input.value = '';
    this.compare.replaceChildren();
    this.slot.classList.remove('comparing');
    this.slot.hidden = false;
    this.body.replaceChildren(h('div', { class: 'muted', id: 'vec-loading' }, 'Loading the vector…'));
    try {
      const v = await getVector(space, row);
      if (token !== this.token) return;
      this.vector = v;
      const strip = new VectorStrip(`${v.length} dimensions`, 'vec-a', 'Point at a cell: its dimension and value.');
      const scale = maxAbs(v);
      this.body.replaceChildren(strip.el, scaleKey(scale));
      strip.draw(v, scale, stripWidth(this.slot));
    } catch (e) {
      if (token === this.token) this.body.replaceChildren(h('div', { class: 'muted error' }, message(e)));
    }
  }

  /** Compare the shown item with ``ref`` (a row from a click, or what was typed). */
  async compareWith(ref: ItemRef): Promise<void> {
    const { space, row } = this;
    if (!space || row === null) return;
    this.setPicking(false);
    const token = ++this.pairToken;
    this.compare.replaceChildren(h('div', { class: 'muted', id: 'compare-loading' }, 'Comparing…'));
    try {
      const pair = await getPair(space, { row }, ref);
      const [a, b] = await Promise.all([this.vector ?? getVector(space, row), getVector(space, pair.b.row)]);
      if (token !== this.pairToken) return;
      this.picker.input.value = pair.b.id;
      this.showPair(pair, a, b);
    } catch (e) {
      if (token === this.pairToken) this.compare.replaceChildren(h('div', { class: 'muted error', id: 'compare-error' }, message(e)));
    }
  }

  /** Forget the item (the panel closed, or the space changed). */
  clear(): void {
    this.token++;
    this.pairToken++;
    this.row = null;
    this.vector = null;
    this.setPicking(false);
    this.body.replaceChildren();
    this.compare.replaceChildren();
    this.slot.hidden = true;
  }

  private setPicking(on: boolean): void {
    this.picking = on;
    this.pickButton.setAttribute('aria-pressed', String(on));
    this.pickButton.textContent = on ? 'Click a point…' : 'Pick on map';
    document.body.classList.toggle('picking', on);
  }

  private showPair(pair: PairResult, a: Float32Array, b: Float32Array): void {
    const p = product(a, b);
    const width = stripWidth(this.slot);
    const shared = maxAbs(a, b);
    const sa = new VectorStrip(`A · ${pair.a.id}`, 'vec-pair-a', 'Point at a cell: its dimension and value.');
    const sb = new VectorStrip(`B · ${pair.b.id}`, 'vec-pair-b');
    const sp = new VectorStrip('A × B, element by element (the sum is the dot product)', 'vec-product');
    const figures = h('dl', { class: 'meta vec-figures', id: 'vec-figures' },
      h('dt', {}, 'cosine'), h('dd', { id: 'vec-cosine', 'data-value': String(pair.cosine) }, formatNumber(pair.cosine)),
      h('dt', {}, 'dot'), h('dd', { id: 'vec-dot', 'data-value': String(pair.dot) },
        `${formatNumber(pair.dot)} (norms ${formatNumber(pair.norms.a)} and ${formatNumber(pair.norms.b)})`),
      h('dt', {}, 'euclidean'), h('dd', {}, formatNumber(pair.euclidean)),
      h('dt', {}, 'rank'), h('dd', { id: 'vec-rank', 'data-exact': String(pair.rank.exact), 'data-rank': String(pair.rank.rank) },
        rankText(pair.rank)));
    const top = h('table', { class: 'vec-top', id: 'vec-top' },
      h('thead', {}, h('tr', {}, h('th', {}, 'dim'), h('th', {}, 'A'), h('th', {}, 'B'), h('th', {}, 'A×B'),
        h('th', {}, 'share of dot'))),
      h('tbody', {}, ...pair.top.map((d) => h('tr', { 'data-dim': d.dim },
        h('td', {}, String(d.dim)), h('td', {}, formatNumber(d.a)), h('td', {}, formatNumber(d.b)),
        h('td', { class: d.product < 0 ? 'neg' : 'pos' }, formatNumber(d.product)),
        h('td', {}, pair.dot !== 0 ? `${formatNumber((100 * d.product) / pair.dot)} %` : '—')))));
    this.slot.classList.add('comparing');
    this.compare.replaceChildren(
      h('div', { class: 'vec-pair', id: 'vec-pair', 'data-b': String(pair.b.row) },
        sa.el, sb.el, scaleKey(shared), sp.el, scaleKey(maxAbs(p)), figures,
        h('div', { class: 'vec-caption' }, 'Dimensions that contribute most to the dot product (largest |A×B|):'), top));
    sa.draw(a, shared, width);
    sb.draw(b, shared, width);
    sp.draw(p, maxAbs(p), width);
  }
}
