// The globe: every point of a sphere layout on a ball you can turn (three.js, one THREE.Points draw call).
//
// Loaded on demand (a separate chunk: the map's first paint does not wait for three.js). Points are unit
// vectors (z = north) in point order. The ball is turned by a longitude/latitude pair (the point facing the
// viewer) with north kept up. Points on the far side are drawn faint and cannot be hovered or clicked.
// Picking projects the points to the screen in JS (no per-point objects), at most once a frame.
import {
  BackSide,
  BufferAttribute,
  BufferGeometry,
  Float32BufferAttribute,
  Group,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  NormalBlending,
  PerspectiveCamera,
  Points,
  Scene,
  ShaderMaterial,
  SphereGeometry,
  Vector3,
  WebGLRenderer,
  AdditiveBlending,
} from 'three';
import { BACKGROUND, HOVER, hexToRgb, type Rgb } from '../data/colors';
import { type Encoding, type Highlight, NO_HIGHLIGHT, drawnRgb } from '../data/encoding';
import {
  BALL_FRAGMENT,
  BALL_VERTEX,
  HALO_FRAGMENT,
  POINT_FRAGMENT,
  POINT_VERTEX,
  RING_FRAGMENT,
} from './globe-shaders';

export interface GlobeHandlers {
  hover(row: number | null): void;
  click(row: number): void;
  deselect(): void;
}

const FOV = 30;
/** Share of the shorter side the ball fills at zoom 1. */
const FIT = 0.84;
const MIN_ZOOM = 0.5;
const MAX_ZOOM = 12;
/** The ball under the points is a little smaller than the unit sphere the points lie on. */
const BALL = 0.985;
const GRID = 0.99;
const LINK_RADIUS = 1.004;
/** How far the colours of far-side points are pulled towards the ball's colour. */
const FAR_FADE = 0.8;
/** Highlighted points are drawn this much bigger. */
const BIG = 1.6;
const DRAG_THRESHOLD = 4;

const BALL_RGB = hexToRgb('#121a28');
const RIM_RGB = hexToRgb('#2c3d5c');
const GRID_COLOR = '#263248';
const LINK_COLOR = '#ffd166';

const vec3 = (rgb: Rgb) => new Vector3(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255);

export class GlobeView {
  /** Longitude and latitude (degrees) of the point facing the viewer. */
  lon = 0;
  lat = 20;
  zoom = 1;

  private readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera(FOV, 1, 0.01, 100);
  private readonly turned = new Group();
  private readonly geometry = new BufferGeometry();
  private readonly front: Points;
  private readonly back: Points;
  private readonly frontMaterial: ShaderMaterial;
  private readonly backMaterial: ShaderMaterial;
  private readonly hoverPoint: Points;
  private readonly links: LineSegments;
  private readonly canvas: HTMLCanvasElement;

  private n = 0;
  private xyz: Float32Array = new Float32Array();
  private colors = new Uint8Array();
  private sizes = new Float32Array();
  private encoding: Encoding | null = null;
  private highlight: Highlight = NO_HIGHLIGHT;
  private hovered: number | null = null;
  private width = 1;
  private height = 1;
  private frame = 0;
  /** The camera's distance from the centre; the matrix turning data into view coordinates. */
  private distance = 5;
  private m: Float32Array = new Float32Array(9);

  constructor(
    private readonly container: HTMLElement,
    private readonly handlers: GlobeHandlers,
    private readonly baseSize: (n: number) => number,
  ) {
    this.renderer = new WebGLRenderer({ antialias: true, alpha: false, powerPreference: 'high-performance' });
    this.renderer.setClearColor(BACKGROUND, 1);
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.canvas = this.renderer.domElement;
    this.canvas.className = 'globe-canvas';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('aria-label', 'Globe: drag or arrow keys to turn, wheel or +/- to zoom');
    container.appendChild(this.canvas);

    this.camera.position.set(0, 0, this.distance);
    this.camera.lookAt(0, 0, 0);
    this.turned.matrixAutoUpdate = false;
    this.scene.add(this.turned);

    // The ball (view-fixed shading: it needs no turning) and a faint halo around it.
    const ball = new Mesh(
      new SphereGeometry(BALL, 96, 64),
      new ShaderMaterial({
        vertexShader: BALL_VERTEX,
        fragmentShader: BALL_FRAGMENT,
        uniforms: { uBase: { value: vec3(BALL_RGB) }, uRim: { value: vec3(RIM_RGB) } },
      }),
    );
    ball.renderOrder = 0;
    const halo = new Mesh(
      new SphereGeometry(1.12, 96, 64),
      new ShaderMaterial({
        vertexShader: BALL_VERTEX,
        fragmentShader: HALO_FRAGMENT,
        uniforms: { uRim: { value: vec3(RIM_RGB) } },
        side: BackSide,
        blending: AdditiveBlending,
        transparent: true,
        depthWrite: false,
      }),
    );
    halo.renderOrder = -1;
    this.scene.add(halo, ball);

    const grid = new LineSegments(graticule(GRID), new LineBasicMaterial({ color: GRID_COLOR }));
    grid.renderOrder = 1;
    this.turned.add(grid);

    const pointMaterial = (side: number, fade: number) =>
      new ShaderMaterial({
        vertexShader: POINT_VERTEX,
        fragmentShader: POINT_FRAGMENT,
        uniforms: {
          uSize: { value: 6 },
          uHorizon: { value: 0.2 },
          uSide: { value: side },
          uFade: { value: vec3(BALL_RGB) },
          uFadeAmount: { value: fade },
        },
        transparent: true,
        blending: NormalBlending,
        depthTest: side > 0,
        depthWrite: side > 0,
      });
    this.frontMaterial = pointMaterial(1, 0);
    this.backMaterial = pointMaterial(-1, FAR_FADE);
    this.back = new Points(this.geometry, this.backMaterial);
    this.back.renderOrder = 2;
    this.back.frustumCulled = false;
    this.front = new Points(this.geometry, this.frontMaterial);
    this.front.renderOrder = 4;
    this.front.frustumCulled = false;

    this.links = new LineSegments(
      new BufferGeometry(),
      new LineBasicMaterial({ color: LINK_COLOR, transparent: true, opacity: 0.6, depthWrite: false }),
    );
    this.links.renderOrder = 3;
    this.links.frustumCulled = false;

    const hoverGeometry = new BufferGeometry();
    hoverGeometry.setAttribute('position', new Float32BufferAttribute([0, 0, 1], 3));
    hoverGeometry.setAttribute('aColor', new Float32BufferAttribute(Array.from(vec3(hexToRgb(HOVER)).toArray()), 3));
    hoverGeometry.setAttribute('aSize', new Float32BufferAttribute([1], 1));
    this.hoverPoint = new Points(
      hoverGeometry,
      new ShaderMaterial({
        vertexShader: POINT_VERTEX,
        fragmentShader: RING_FRAGMENT,
        uniforms: {
          uSize: { value: 12 },
          uHorizon: this.frontMaterial.uniforms.uHorizon,
          uSide: { value: 1 },
          uFade: { value: new Vector3() },
          uFadeAmount: { value: 0 },
        },
        transparent: true,
        depthTest: false,
        depthWrite: false,
      }),
    );
    this.hoverPoint.renderOrder = 5;
    this.hoverPoint.frustumCulled = false;
    this.hoverPoint.visible = false;
    this.turned.add(this.back, this.links, this.front, this.hoverPoint);

    this.listen();
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  get count(): number {
    return this.n;
  }

  get element(): HTMLCanvasElement {
    return this.canvas;
  }

  /** Points (unit vectors, interleaved x, y, z) in point order, coloured by ``encoding``. */
  setPoints(xyz: Float32Array, encoding: Encoding, highlight: Highlight = NO_HIGHLIGHT): void {
    if (xyz !== this.xyz) this.face(xyz);
    this.n = Math.floor(xyz.length / 3);
    this.xyz = xyz;
    this.colors = new Uint8Array(this.n * 3);
    this.sizes = new Float32Array(this.n).fill(1);
    this.geometry.setAttribute('position', new BufferAttribute(xyz, 3));
    this.geometry.setAttribute('aColor', new BufferAttribute(this.colors, 3, true));
    this.geometry.setAttribute('aSize', new BufferAttribute(this.sizes, 1));
    this.geometry.setDrawRange(0, this.n);
    this.geometry.computeBoundingSphere();
    this.hovered = null;
    this.hoverPoint.visible = false;
    this.encoding = encoding;
    this.setHighlight(highlight);
  }

  /** Recolour (same points). */
  setEncoding(encoding: Encoding): void {
    this.encoding = encoding;
    this.paint();
  }

  /** Mark the selected row and its neighbours (highlight colour, bigger, arcs from the selected row). */
  setHighlight(highlight: Highlight): void {
    this.highlight = { focus: highlight.focus, rows: new Set([...highlight.rows].filter((r) => r >= 0 && r < this.n)) };
    this.sizes.fill(1);
    for (const r of this.highlight.rows) this.sizes[r] = BIG;
    const size = this.geometry.getAttribute('aSize');
    if (size) size.needsUpdate = true;
    this.drawLinks();
    this.paint();
  }

  /** The RGB ``row`` is drawn with (on the near side; the far side is faded). */
  colorOf(row: number): Rgb | null {
    if (!this.encoding || row < 0 || row >= this.n) return null;
    return drawnRgb(this.encoding, row, this.highlight);
  }

  /** Turn the ball by ``dLon``, ``dLat`` degrees (north stays up; latitude is kept within ±90). */
  rotate(dLon: number, dLat: number): void {
    this.lon = ((((this.lon + dLon + 180) % 360) + 360) % 360) - 180;
    this.lat = Math.max(-90, Math.min(90, this.lat + dLat));
    this.render();
  }

  /** Face the viewer with a point (e.g. the selected item). */
  lookAt(row: number): void {
    if (row < 0 || row >= this.n) return;
    const [x, y, z] = [this.xyz[3 * row], this.xyz[3 * row + 1], this.xyz[3 * row + 2]];
    this.lon = (Math.atan2(y, x) * 180) / Math.PI;
    this.lat = (Math.asin(Math.max(-1, Math.min(1, z))) * 180) / Math.PI;
    this.render();
  }

  /** Face the viewer with the points' mean direction (when they lean one way), north up. */
  private face(xyz: Float32Array): void {
    let [x, y, z] = [0, 0, 0];
    for (let i = 0; i + 2 < xyz.length; i += 3) {
      x += xyz[i];
      y += xyz[i + 1];
      z += xyz[i + 2];
    }
    const norm = Math.hypot(x, y, z);
    if (norm < 0.05 * (xyz.length / 3)) return;
    this.lon = (Math.atan2(y, x) * 180) / Math.PI;
    this.lat = Math.max(-60, Math.min(60, (Math.asin(z / norm) * 180) / Math.PI));
  }

  setZoom(zoom: number): void {
    this.zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
    this.render();
  }

  /** Show the hover ring on ``row`` (null hides it). */
  hover(row: number | null): void {
    this.hovered = row !== null && row >= 0 && row < this.n ? row : null;
    this.hoverPoint.visible = this.hovered !== null;
    if (this.hovered !== null) {
      const p = this.hoverPoint.geometry.getAttribute('position') as BufferAttribute;
      p.setXYZ(0, this.xyz[3 * this.hovered], this.xyz[3 * this.hovered + 1], this.xyz[3 * this.hovered + 2]);
      p.needsUpdate = true;
    }
    this.render();
  }

  /** CSS pixels of ``row`` relative to the canvas' top-left corner; null when it is on the far side. */
  screenPosition(row: number): [number, number] | null {
    if (row < 0 || row >= this.n) return null;
    this.updateView();
    const p = this.project(this.xyz[3 * row], this.xyz[3 * row + 1], this.xyz[3 * row + 2]);
    return p && [p[0], p[1]];
  }

  /** The near-side row drawn under CSS pixel (px, py), or null. */
  pick(px: number, py: number): number | null {
    if (this.n === 0) return null;
    this.updateView();
    const m = this.m;
    const d = this.distance;
    const horizon = 1 / d;
    const f = 1 / Math.tan(((FOV / 2) * Math.PI) / 180);
    const sx = (f / (this.width / this.height)) * (this.width / 2);
    const sy = f * (this.height / 2);
    const cx = this.width / 2;
    const cy = this.height / 2;
    const reach = Math.max(5, this.pointSize() / 2 + 2);
    const reach2 = reach * reach;
    let best = -1;
    let bestD = Infinity;
    let bestZ = -Infinity;
    const xyz = this.xyz;
    for (let i = 0; i < this.n; i++) {
      const x = xyz[3 * i];
      const y = xyz[3 * i + 1];
      const z = xyz[3 * i + 2];
      const wz = m[6] * x + m[7] * y + m[8] * z;
      if (wz <= horizon) continue;
      const w = 1 / (d - wz);
      const dx = cx + sx * (m[0] * x + m[1] * y + m[2] * z) * w - px;
      const dy = cy - sy * (m[3] * x + m[4] * y + m[5] * z) * w - py;
      const dd = dx * dx + dy * dy;
      // Nearest on screen; of points drawn on top of each other, the one nearer the viewer.
      if (dd < reach2 && (dd < bestD - 1 || (dd <= bestD + 1 && wz > bestZ))) {
        best = i;
        bestD = dd;
        bestZ = wz;
      }
    }
    return best >= 0 ? best : null;
  }

  // ---------------------------------------------------------------------------------------------- drawing
  private paint(): void {
    if (!this.encoding) return;
    const enc = this.encoding;
    const hl = this.highlight;
    // The same colours as the map (drawnRgb), worked out once per palette entry.
    const cache = new Map<number, Rgb>();
    for (let i = 0; i < this.n; i++) {
      let rgb: Rgb;
      if (hl.rows.has(i)) rgb = drawnRgb(enc, i, hl);
      else {
        const code = enc.codes[i];
        let hit = cache.get(code);
        if (!hit) {
          hit = drawnRgb(enc, i, hl);
          cache.set(code, hit);
        }
        rgb = hit;
      }
      this.colors[3 * i] = rgb[0];
      this.colors[3 * i + 1] = rgb[1];
      this.colors[3 * i + 2] = rgb[2];
    }
    const attr = this.geometry.getAttribute('aColor');
    if (attr) attr.needsUpdate = true;
    this.render();
  }

  private drawLinks(): void {
    const { focus, rows } = this.highlight;
    const old = this.links.geometry;
    const geometry = new BufferGeometry();
    if (focus !== null) {
      const a = new Vector3(this.xyz[3 * focus], this.xyz[3 * focus + 1], this.xyz[3 * focus + 2]);
      const segments: number[] = [];
      for (const r of rows) {
        if (r === focus) continue;
        const b = new Vector3(this.xyz[3 * r], this.xyz[3 * r + 1], this.xyz[3 * r + 2]);
        const arc = greatCircle(a, b, LINK_RADIUS);
        for (let i = 0; i + 1 < arc.length; i++) segments.push(...arc[i], ...arc[i + 1]);
      }
      geometry.setAttribute('position', new Float32BufferAttribute(segments, 3));
    }
    this.links.geometry = geometry;
    old.dispose();
  }

  private pointSize(): number {
    return Math.max(2, this.baseSize(this.n) * 0.85 * Math.sqrt(Math.max(1, this.zoom)));
  }

  /** Camera distance and the data-to-view rotation from lon, lat, zoom and the canvas size. */
  private updateView(): void {
    const aspect = this.width / this.height;
    const t = Math.tan(((FOV / 2) * Math.PI) / 180);
    // The ball's apparent half-size (tangent of its angular radius) is a share of the shorter side.
    const half = Math.min(Math.tan((78 * Math.PI) / 180), FIT * Math.min(1, aspect) * t * this.zoom);
    this.distance = 1 / Math.sin(Math.atan(half));
    const lo = (this.lon * Math.PI) / 180;
    const la = (this.lat * Math.PI) / 180;
    const [c, s, cl, sl] = [Math.cos(lo), Math.sin(lo), Math.cos(la), Math.sin(la)];
    // view x = east, view y = north, view z = towards the viewer (the point at lon, lat faces it).
    this.m.set([-s, c, 0, -sl * c, -sl * s, cl, cl * c, cl * s, sl]);
  }

  private project(x: number, y: number, z: number): [number, number, number] | null {
    const m = this.m;
    const wz = m[6] * x + m[7] * y + m[8] * z;
    if (wz <= 1 / this.distance) return null;
    const f = 1 / Math.tan(((FOV / 2) * Math.PI) / 180);
    const w = 1 / (this.distance - wz);
    const px = this.width / 2 + (f / (this.width / this.height)) * (this.width / 2) * (m[0] * x + m[1] * y + m[2] * z) * w;
    const py = this.height / 2 - f * (this.height / 2) * (m[3] * x + m[4] * y + m[5] * z) * w;
    return [px, py, wz];
  }

  /** Draw on the next frame (once, however often asked). */
  render(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Draw now. */
  draw(): void {
    this.updateView();
    const m = this.m;
    this.turned.matrix.set(m[0], m[1], m[2], 0, m[3], m[4], m[5], 0, m[6], m[7], m[8], 0, 0, 0, 0, 1);
    this.turned.matrixWorldNeedsUpdate = true;
    this.camera.aspect = this.width / this.height;
    this.camera.position.set(0, 0, this.distance);
    this.camera.near = Math.max(0.01, this.distance - 1.3);
    this.camera.far = this.distance + 1.5;
    this.camera.updateProjectionMatrix();
    const dpr = this.renderer.getPixelRatio();
    const size = this.pointSize();
    this.frontMaterial.uniforms.uSize.value = size * dpr;
    this.backMaterial.uniforms.uSize.value = size * dpr;
    this.frontMaterial.uniforms.uHorizon.value = 1 / this.distance;
    this.backMaterial.uniforms.uHorizon.value = 1 / this.distance;
    (this.hoverPoint.material as ShaderMaterial).uniforms.uSize.value = (size + 8) * dpr;
    this.renderer.render(this.scene, this.camera);
  }

  private resize(): void {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    if (w === this.width && h === this.height) return;
    this.width = w;
    this.height = h;
    this.renderer.setSize(w, h, false);
    this.draw();
  }

  // ------------------------------------------------------------------------------------------ interaction
  private listen(): void {
    const canvas = this.canvas;
    let drag: { id: number; x: number; y: number; moved: boolean } | null = null;
    let pending: [number, number] | null = null;
    let pickFrame = 0;
    const local = (ev: MouseEvent): [number, number] => {
      const box = canvas.getBoundingClientRect();
      return [ev.clientX - box.left, ev.clientY - box.top];
    };
    const hoverAt = (at: [number, number] | null) => {
      pending = at;
      if (pickFrame) return;
      pickFrame = requestAnimationFrame(() => {
        pickFrame = 0;
        const row = pending ? this.pick(pending[0], pending[1]) : null;
        if (row !== this.hovered) {
          this.hover(row);
          this.handlers.hover(row);
        }
      });
    };
    canvas.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      const [x, y] = local(ev);
      drag = { id: ev.pointerId, x, y, moved: false };
      canvas.setPointerCapture(ev.pointerId);
    });
    canvas.addEventListener('pointermove', (ev) => {
      const [x, y] = local(ev);
      if (drag && drag.id === ev.pointerId) {
        const dx = x - drag.x;
        const dy = y - drag.y;
        if (!drag.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
        if (!drag.moved) {
          drag.moved = true;
          canvas.classList.add('dragging');
          hoverAt(null);
        }
        drag.x = x;
        drag.y = y;
        const perPx = 180 / Math.PI / this.screenRadius();
        this.rotate(-dx * perPx, dy * perPx);
        return;
      }
      hoverAt([x, y]);
    });
    const end = (ev: PointerEvent, click: boolean) => {
      if (!drag || drag.id !== ev.pointerId) return;
      const moved = drag.moved;
      drag = null;
      canvas.classList.remove('dragging');
      if (!click || moved) return;
      const [x, y] = local(ev);
      const row = this.pick(x, y);
      if (row !== null) this.handlers.click(row);
      else this.handlers.deselect();
    };
    canvas.addEventListener('pointerup', (ev) => end(ev, true));
    canvas.addEventListener('pointercancel', (ev) => end(ev, false));
    canvas.addEventListener('pointerleave', () => {
      if (!drag) hoverAt(null);
    });
    canvas.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const scale = ev.deltaMode === 1 ? 40 : ev.deltaMode === 2 ? 400 : 1;
        this.setZoom(this.zoom * Math.exp((-ev.deltaY * scale) / 600));
        hoverAt(null);
      },
      { passive: false },
    );
    canvas.addEventListener('keydown', (ev) => {
      const step = ev.shiftKey ? 2 : 10;
      const keys: Record<string, () => void> = {
        ArrowLeft: () => this.rotate(-step, 0),
        ArrowRight: () => this.rotate(step, 0),
        ArrowUp: () => this.rotate(0, step),
        ArrowDown: () => this.rotate(0, -step),
        '+': () => this.setZoom(this.zoom * 1.25),
        '=': () => this.setZoom(this.zoom * 1.25),
        '-': () => this.setZoom(this.zoom / 1.25),
      };
      const act = keys[ev.key];
      if (act) {
        ev.preventDefault();
        act();
      }
    });
  }

  /** The ball's radius on screen, CSS pixels. */
  private screenRadius(): number {
    this.updateView();
    const t = Math.tan(((FOV / 2) * Math.PI) / 180);
    const half = Math.tan(Math.asin(1 / this.distance));
    return Math.max(20, (half / t) * (this.height / 2));
  }
}

/** Meridians and parallels every 30 degrees at radius ``r`` (z = north), as line segments. */
function graticule(r: number): BufferGeometry {
  const out: number[] = [];
  const at = (lon: number, lat: number) => {
    const [lo, la] = [(lon * Math.PI) / 180, (lat * Math.PI) / 180];
    return [r * Math.cos(la) * Math.cos(lo), r * Math.cos(la) * Math.sin(lo), r * Math.sin(la)];
  };
  const step = 3;
  for (let lon = -180; lon < 180; lon += 30) {
    for (let lat = -90 + 0; lat < 90; lat += step) out.push(...at(lon, lat), ...at(lon, lat + step));
  }
  for (let lat = -60; lat <= 60; lat += 30) {
    for (let lon = -180; lon < 180; lon += step) out.push(...at(lon, lat), ...at(lon + step, lat));
  }
  const g = new BufferGeometry();
  g.setAttribute('position', new Float32BufferAttribute(out, 3));
  return g;
}

/** Points along the shorter great-circle arc from ``a`` to ``b`` at radius ``r``. */
function greatCircle(a: Vector3, b: Vector3, r: number): [number, number, number][] {
  const u = a.clone().normalize();
  const v = b.clone().normalize();
  const angle = Math.acos(Math.max(-1, Math.min(1, u.dot(v))));
  const steps = Math.max(2, Math.ceil(angle / 0.05));
  const out: [number, number, number][] = [];
  const sin = Math.sin(angle);
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const p =
      sin < 1e-6
        ? u.clone().lerp(v, t)
        : u.clone().multiplyScalar(Math.sin((1 - t) * angle) / sin).add(v.clone().multiplyScalar(Math.sin(t * angle) / sin));
    p.normalize().multiplyScalar(r);
    out.push([p.x, p.y, p.z]);
  }
  return out;
}
