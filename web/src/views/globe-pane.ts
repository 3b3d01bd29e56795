// The globe beside the map: the view switch (#view-map, #view-globe), the #globe pane, and the globe itself
// (views/globe.ts with three.js, loaded the first time it is shown) holding a space's sphere layout.
import { ApiError, getXyz } from '../data/api';
import type { Encoding, Highlight } from '../data/encoding';
import { Memo } from '../data/promises';
import { $ } from './dom';
import type { GlobeHandlers, GlobeView } from './globe';
import { pointSizeFor } from './map';

export class GlobePane {
  private globe: GlobeView | null = null;
  /** Which space's sphere the globe holds. */
  private space: string | null = null;
  private readonly xyz = new Memo<string, Float32Array>();

  constructor(private readonly handlers: GlobeHandlers) {}

  /** Whether the globe exists (it is made the first time a sphere is loaded). */
  get loaded(): boolean {
    return this.globe !== null;
  }

  /** Whether the globe holds the sphere of ``space``. */
  holds(space: string | undefined): boolean {
    return this.globe !== null && this.space === space;
  }

  /** Put the sphere layout ``method`` of ``space`` (``count`` points) on the globe, coloured by ``encoding``. */
  async load(space: string, method: string, count: number, encoding: Encoding, highlight: Highlight): Promise<void> {
    if (!this.globe) {
      const { GlobeView } = await import('./globe');
      this.globe = new GlobeView($('globe'), this.handlers, pointSizeFor);
    }
    const points = await this.xyz.get(`${space}\n${method}`, () => getXyz(space, method));
    if (points.length !== count * 3) throw new ApiError(500, 'the sphere layout does not match the map');
    this.globe.setPoints(points, encoding, highlight);
    this.space = space;
  }

  /** Show the globe (true) or the flat map (false): the pane and the pressed state of the view switch. */
  show(on: boolean): void {
    $('globe').hidden = !on;
    $('view-map').setAttribute('aria-pressed', String(!on));
    $('view-globe').setAttribute('aria-pressed', String(on));
    if (on) this.globe?.render();
  }

  setEncoding(encoding: Encoding): void {
    this.globe?.setEncoding(encoding);
  }

  setHighlight(highlight: Highlight): void {
    this.globe?.setHighlight(highlight);
  }

  /** CSS pixels of a point relative to the globe canvas; null on the far side or before the globe exists. */
  screenPosition(row: number): [number, number] | null {
    return this.globe ? this.globe.screenPosition(row) : null;
  }

  rotate(dLon: number, dLat: number): void {
    this.globe?.rotate(dLon, dLat);
  }

  lookAt(row: number): void {
    this.globe?.lookAt(row);
  }

  hover(row: number | null): void {
    this.globe?.hover(row);
  }
}
