/**
 * The gatekeeper's own media host, for media its users send to provider users (docs/PROFILE.md
 * §9, MEDIA-RECEIVE): blobs under unguessable URLs on the gatekeeper's HTTPS server. It logs every
 * download, which is how a check knows that a provider's client really fetched what it was sent.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Listeners, waitFor } from './events.js';
import type { HostedMedia, MediaDownload, MediaHost } from './media-types.js';
import type { HttpExchange, WaitOptions } from './observation-types.js';

export const GATEKEEPER_MEDIA_PATH = '/media/';

export class GatekeeperMediaHost implements MediaHost {
  private readonly blobs = new Map<string, Buffer>();
  private readonly downloads: MediaDownload[] = [];
  private readonly served = new Listeners<MediaDownload>();

  constructor(
    private readonly origin: () => string,
    /** Every download goes into the evidence, like the proxy's fetches. */
    private readonly record: (e: HttpExchange) => void,
  ) {}

  put(blob: Buffer): HostedMedia {
    const reference = randomBytes(32).toString('base64url');
    this.blobs.set(reference, blob);
    const directPath = `${GATEKEEPER_MEDIA_PATH}${reference}`;
    return { reference, url: `${this.origin()}${directPath}`, directPath };
  }

  /** Serves `GET /media/{reference}`: the whole blob, its length, application/octet-stream. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const reference = path.slice(GATEKEEPER_MEDIA_PATH.length);
    const blob = req.method === 'GET' ? this.blobs.get(reference) : undefined;
    const status = blob ? 200 : req.method === 'GET' ? 404 : 405;
    res.writeHead(
      status,
      blob ? { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) } : {},
    );
    res.end(blob);
    const download = { reference, at: Date.now(), status, bytes: blob?.length ?? 0 };
    this.record({
      at: download.at,
      method: req.method ?? 'GET',
      url: `${this.origin()}${path}`,
      status,
      requestBody: '',
      responseBody: `${download.bytes} bytes served`,
      durationMs: 0,
    });
    this.downloads.push(download);
    this.served.emit(download);
  }

  /** The first answered download of `reference`, waiting for it if need be. */
  waitForDownload(reference: string, options: WaitOptions): Promise<MediaDownload | null> {
    return waitFor<MediaDownload>(options, (resolve) => {
      const seen = this.downloads.find((d) => d.reference === reference);
      if (seen) {
        resolve(seen);
        return () => {};
      }
      return this.served.add((d) => {
        if (d.reference === reference) resolve(d);
      });
    });
  }
}
