// Touch on the map: one finger pans, two fingers pinch to zoom (and pan). regl-scatterplot reads the mouse only;
// a tap needs nothing here: the browser turns it into mouse events and a click, which select the point under it.

/** The camera calls the gestures make (regl-scatterplot's ``plot.get('camera')``, normalised device coordinates
 * with x scaled by the aspect ratio). */
export interface TouchCamera {
  pan(d: [number, number]): void;
  scale(d: number, at: [number, number]): void;
}

type Pt = readonly [number, number];

/** One step of a gesture from the touch points ``before`` to ``after`` (CSS pixels, same fingers in the same
 * order; one or two): the move of their centre in pixels, the zoom factor (> 1: fingers apart, zoom in) and the
 * centre the zoom keeps in place (the new centre). */
export function gestureStep(before: Pt[], after: Pt[]): { pan: [number, number]; zoom: number; at: [number, number] } {
  const centre = (ps: Pt[]): [number, number] => [ps.reduce((s, p) => s + p[0], 0) / ps.length, ps.reduce((s, p) => s + p[1], 0) / ps.length];
  const [bx, by] = centre(before);
  const [ax, ay] = centre(after);
  let zoom = 1;
  if (before.length === 2 && after.length === 2) {
    const spread = (ps: Pt[]) => Math.hypot(ps[0][0] - ps[1][0], ps[0][1] - ps[1][1]);
    const d0 = spread(before);
    if (d0 > 0) zoom = spread(after) / d0;
  }
  return { pan: [ax - bx, ay - by], zoom, at: [ax, ay] };
}

/** Pan and pinch ``canvas``'s camera (``camera()``: null before anything is drawn) with touch pointers;
 * ``redraw`` asks for the next frame (a camera moved in code is drawn only then). */
export function touchGestures(canvas: HTMLCanvasElement, camera: () => TouchCamera | null, redraw: () => void): void {
  const touches = new Map<number, [number, number]>();
  const local = (ev: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  };
  canvas.style.touchAction = 'none'; // the page neither scrolls nor zooms under the map: the map does
  canvas.addEventListener('pointerdown', (ev) => {
    if (ev.pointerType !== 'touch') return;
    touches.set(ev.pointerId, local(ev));
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (ev.pointerType !== 'touch' || !touches.has(ev.pointerId)) return;
    const ids = [...touches.keys()].slice(0, 2);
    if (!ids.includes(ev.pointerId)) return;
    const before = ids.map((id) => touches.get(id) as [number, number]);
    touches.set(ev.pointerId, local(ev));
    const after = ids.map((id) => touches.get(id) as [number, number]);
    const cam = camera();
    if (!cam) return;
    const { width, height } = canvas.getBoundingClientRect();
    if (!width || !height) return;
    const aspect = width / height;
    const step = gestureStep(before, after);
    if (step.pan[0] || step.pan[1]) cam.pan([(step.pan[0] / width) * 2 * aspect, (-step.pan[1] / height) * 2]);
    if (step.zoom !== 1) cam.scale(step.zoom, [(-1 + (step.at[0] / width) * 2) * aspect, 1 - (step.at[1] / height) * 2]);
    redraw();
  });
  const end = (ev: PointerEvent) => void touches.delete(ev.pointerId);
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
}
