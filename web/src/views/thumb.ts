// An item's thumbnail as an <img> of a fixed box (lists keep their height while images load), or null when the
// workspace has no images. An item without a picture gets an empty box of the same size.
import { imagesOn, thumbUrl } from '../data/thumbs';
import { h } from './dom';

/** ``size``: the box's side in CSS pixels; ``cls``: e.g. 'thumb-sm' (lists), 'thumb-lg' (the item panel). */
export function thumbImg(id: string, hasImage: boolean | undefined, size: number, cls: string, lazy = true): HTMLElement | null {
  if (!imagesOn()) return null;
  const style = `width:${size}px;height:${size}px`;
  if (!hasImage) return h('span', { class: `thumb ${cls} thumb-none`, style, 'aria-hidden': 'true' });
  const img = h('img', { class: `thumb ${cls}`, src: thumbUrl(id), alt: id, width: size, height: size, style, decoding: 'async', loading: lazy ? 'lazy' : undefined });
  img.addEventListener('error', () => img.classList.add('thumb-none'), { once: true });
  return img;
}
