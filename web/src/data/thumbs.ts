// Thumbnails of image items: whether the workspace has them (``/api/info`` images), their URLs, and the Arrow
// batch the map's atlas fetches for the points on screen (``POST /api/thumbs``, at most MAX_BATCH rows a call).
import { tableFromIPC } from 'apache-arrow';
import { ApiError, type Info } from './api';

/** Thumbnails in one batch request (the server's bound). */
export const MAX_BATCH = 512;

let enabled = false;
let version: string | null = null;

/** Read from ``/api/info``: does the workspace have images, and their version (put in URLs for caching). */
export function setImages(info: Pick<Info, 'images' | 'images_version'> | null): void {
  enabled = Boolean(info?.images);
  version = info?.images_version ?? null;
}

/** Whether the workspace has thumbnails to show. */
export function imagesOn(): boolean {
  return enabled;
}

/** The URL of an item's thumbnail (ids may hold '/', spaces, '?', '#', non-ASCII: each is percent-encoded; an
 * id of only dots cannot be a path segment, and the batch route fetches it). */
export function thumbUrl(id: string, v: string | null = version): string {
  const path = `api/thumbs/${encodeURIComponent(id)}`;
  return v ? `${path}?v=${encodeURIComponent(v)}` : path;
}

/** One fetched thumbnail: its row, WebP bytes and size in pixels. */
export interface ThumbData {
  row: number;
  bytes: Uint8Array;
  width: number;
  height: number;
}

/** The thumbnails of ``rows`` (point order) of ``space``; rows without one are left out. */
export async function getThumbs(space: string, rows: number[]): Promise<ThumbData[]> {
  const out: ThumbData[] = [];
  for (let i = 0; i < rows.length; i += MAX_BATCH) {
    const response = await fetch('api/thumbs', {
      method: 'POST',
      body: JSON.stringify({ space, rows: rows.slice(i, i + MAX_BATCH) }),
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new ApiError(response.status, typeof body.detail === 'string' ? body.detail : response.statusText);
    }
    const table = tableFromIPC(new Uint8Array(await response.arrayBuffer()));
    const [r, t, w, h] = ['row', 'thumb', 'width', 'height'].map((c) => table.getChild(c));
    for (let j = 0; j < table.numRows; j++) {
      out.push({ row: Number(r?.get(j)), bytes: t?.get(j) as Uint8Array, width: Number(w?.get(j)), height: Number(h?.get(j)) });
    }
  }
  return out;
}
