// An item's thumbnail as an <img> of a fixed box (lists keep their height while images load), or null when the
// workspace has no images. An item without a picture gets an empty box of the same size.
import { imagesOn, thumbUrl } from '../data/thumbs';
import { h } from './dom';

/** An <img> of a fixed box whose source arrives later (the notebook widget's thumbnails come from the kernel:
 * data/kernel-thumbs.ts); marked ``thumb-none`` when there is none. */
export function pendingThumbImg(id: string, url: Promise<string | null>, size: number, cls: string): HTMLElement {
  const img = h('img', { class: `thumb ${cls}`, alt: id, width: size, height: size, style: `width:${size}px;height:${size}px` });
  void url.then((u) => {
    if (u) (img as HTMLImageElement).src = u;
    else img.classList.add('thumb-none');
  });
  return img;
}

/** ``size``: the box's side in CSS pixels; ``cls``: e.g. 'thumb-sm' (lists), 'thumb-lg' (the item panel). */
export function thumbImg(id: string, hasImage: boolean | undefined, size: number, cls: string, lazy = true): HTMLElement | null {
  if (!imagesOn()) return null;
  const style = `width:${size}px;height:${size}px`;
  if (!hasImage) return h('span', { class: `thumb ${cls} thumb-none`, style, 'aria-hidden': 'true' });
  const img = h('img', { class: `thumb ${cls}`, src: thumbUrl(id), alt: id, width: size, height: size, style, decoding: 'async', loading: lazy ? 'lazy' : undefined });
  img.addEventListener('error', () => img.classList.add('thumb-none'), { once: true });
  return img;
}
