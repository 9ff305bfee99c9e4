/**
 * The gatekeeper's media as the checks use it (docs/PROFILE.md §9): the proxy that fetches from
 * the provider's media host, the gatekeeper's own media host, and what each reports. Interface
 * types only, implemented by media-proxy.ts, media-verifier.ts and media-host.ts; no import of the
 * gatekeeper's implementation, so that those modules can import these.
 */
import type { Discovery } from '../protocol/driver-api.js';
import type { WaitOptions } from './observation-types.js';

/** What the media proxy learned from a blob as it streamed through (media-verifier.ts). */
export interface MediaVerdict {
  readonly blobBytes: number;
  /** SHA-256 of the whole blob, MAC included. */
  readonly encSha256: Buffer;
  /** The info strings under whose keys the MAC verified (the expected one first, when it did). */
  readonly macVerifiesUnder: readonly string[];
  readonly decryptError?: string;
  readonly plainSha256: Buffer;
  readonly plainLength: number;
  /** The first bytes of the plaintext, for sniffing its type. */
  readonly head: Buffer;
}

export type ProxyCredentials = 'gatekeeper' | 'none' | 'another';

export interface MediaFetch extends WaitOptions {
  readonly reference: string;
  /** A Range header to send. */
  readonly range?: string;
  /**
   * The client certificate the proxy presents (MEDIA-FETCH-AUTH): the gatekeeper's (the default),
   * none, or `another`: the proxy's own, of the same shape as the gatekeeper's but not it.
   */
  readonly credentials?: ProxyCredentials;
  /** Verify and decrypt the body with this media key, under these info strings (the type's first). */
  readonly verify?: { readonly mediaKey: Uint8Array; readonly infos: readonly string[] };
  /** Stop reading past this many bytes (the provider's announced limit); else the cap media-bytes. */
  readonly maxBytes?: number;
  /** Keep the body (small blobs only: it is held in memory). */
  readonly keepBody?: boolean;
}

export interface MediaFetchResult {
  /** The first URL fetched. */
  readonly url: string;
  /** Set when the proxy would not fetch (or go on fetching), with the reason. */
  readonly refused?: string;
  readonly status?: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly redirects: readonly { readonly status: number; readonly location: string }[];
  readonly bytes: number;
  /** The body, when asked to keep it. */
  readonly body?: Buffer;
  readonly verdict?: MediaVerdict;
  /** A transport error (TLS refused, connection reset, timeout). */
  readonly error?: string;
  /**
   * Set when `error` is the host's doing: it answered nothing, or stopped, within the fetch's
   * deadline, or refused or dropped the connection. Not for the case's own end, nor for what the
   * harness's side refused (a certificate it does not trust, a private target).
   */
  readonly byHost?: true;
}

/** The gatekeeper's media proxy: it fetches `GET {mediaBase}/{reference}` from the provider. */
export interface MediaFetcher {
  /** The discovery document whose media base and origins the proxy fetches from, once set. */
  readonly provider: Discovery | undefined;
  fetch(req: MediaFetch): Promise<MediaFetchResult>;
}

export interface HostedMedia {
  readonly reference: string;
  readonly url: string;
  readonly directPath: string;
}

/** One answered download. */
export interface MediaDownload {
  readonly reference: string;
  readonly at: number;
  readonly status: number;
  readonly bytes: number;
}

/** The gatekeeper's own media host, for media its users send to provider users (MEDIA-RECEIVE). */
export interface MediaHost {
  /** Hosts `blob` under a new unguessable reference. */
  put(blob: Buffer): HostedMedia;
  /** The first answered download of `reference`, waiting for it if need be. */
  waitForDownload(reference: string, options: WaitOptions): Promise<MediaDownload | null>;
}
