// Thumbnails in the notebook widget, which has no HTTP server: asked of the kernel by item id (a custom message
// ``{type: 'thumb', id}``), answered by ``{type: 'thumb', id, found}`` with the WebP bytes as the message's buffer
// (src/embedscope/widget.py). Kept as object URLs, at most ``maxKept`` (the least recently used revoked first).

/** Thumbnails kept as object URLs (a 128 px WebP is a few kB: a few hundred are well under a megabyte). */
export const MAX_KEPT = 256;

type Buffer = DataView | ArrayBuffer | ArrayBufferView;

/** A kernel reply that may be a thumbnail. */
export interface ThumbReply {
  type?: string;
  id?: string;
  found?: boolean;
}

export class KernelThumbs {
  /** id -> object URL, or null: the item has no thumbnail (in use order, oldest first). */
  private readonly urls = new Map<string, string | null>();
  private readonly waiting = new Map<string, ((url: string | null) => void)[]>();

  constructor(
    private readonly send: (content: { type: 'thumb'; id: string }) => void,
    private readonly maxKept = MAX_KEPT,
  ) {}

  /** The object URL of ``id``'s thumbnail (null when it has none), asking the kernel once per id. */
  url(id: string): Promise<string | null> {
    if (this.urls.has(id)) {
      const url = this.urls.get(id) ?? null;
      this.urls.delete(id); // mark as just used
      this.urls.set(id, url);
      return Promise.resolve(url);
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(id);
      if (queue) queue.push(resolve);
      else {
        this.waiting.set(id, [resolve]);
        this.send({ type: 'thumb', id });
      }
    });
  }

  /** Take a custom message from the kernel; true when it was a thumbnail reply (then it is handled). */
  receive(msg: ThumbReply | null | undefined, buffers?: readonly Buffer[]): boolean {
    if (msg?.type !== 'thumb' || typeof msg.id !== 'string') return false;
    const bytes = msg.found && buffers?.length ? asBytes(buffers[0]) : null;
    const url = bytes ? URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/webp' })) : null;
    this.keep(msg.id, url);
    for (const resolve of this.waiting.get(msg.id) ?? []) resolve(url);
    this.waiting.delete(msg.id);
    return true;
  }

  private keep(id: string, url: string | null): void {
    const old = this.urls.get(id);
    if (old) URL.revokeObjectURL(old);
    this.urls.delete(id);
    this.urls.set(id, url);
    while (this.urls.size > this.maxKept) {
      const [oldest, oldUrl] = this.urls.entries().next().value as [string, string | null];
      if (oldUrl) URL.revokeObjectURL(oldUrl);
      this.urls.delete(oldest);
    }
  }

  /** How many thumbnails are kept (with or without a picture). */
  get kept(): number {
    return this.urls.size;
  }

  /** Revoke every URL (the widget is closed). */
  dispose(): void {
    for (const url of this.urls.values()) if (url) URL.revokeObjectURL(url);
    this.urls.clear();
    this.waiting.clear();
  }
}

/** The bytes of a buffer as anywidget hands it over (DataView in >= 0.9; ArrayBuffer or a typed array otherwise). */
export function asBytes(buffer: Buffer): Uint8Array {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer as ArrayBuffer, buffer.byteOffset, buffer.byteLength);
}
