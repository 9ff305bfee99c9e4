/**
 * What the gatekeeper observes and hands to the checks: frames, HTTP exchanges, enlistment
 * requests, provider clients' connections, and how to wait for them. Interface types only, and no
 * import of the gatekeeper's implementation, so that every module of it can import these.
 */
import type { CodecCondition } from '../protocol/codec.js';
import type { StanzaNode } from '../protocol/node.js';
import type { ClientPayload } from '../protocol/noise/client-payload.js';
import type { ChatTransport } from '../protocol/transport.js';

export type FrameDirection = 'client-to-gatekeeper' | 'gatekeeper-to-client';

/** A chat connection's WebSocket closed: how (ConnectionClosed), and whose. */
export interface CloseEvent extends ConnectionClosed {
  readonly connection: string;
  readonly login?: string;
}

/**
 * One element (or Noise handshake message) on a provider client's connection, as the gatekeeper
 * saw it. Over xml-ws it is one WebSocket data message; over noise-binary one Noise frame.
 */
export interface FrameEvent {
  /** Increases by one per frame across the whole gatekeeper. */
  readonly seq: number;
  /** Date.now() when seen. */
  readonly at: number;
  readonly connection: string;
  /** The login the connection authenticated as (from its `<open from>`), once known. */
  readonly login?: string;
  readonly direction: FrameDirection;
  readonly binary: boolean;
  readonly bytes: number;
  /**
   * The frame as UTF-8 text (binary frames are decoded as UTF-8 too, for the record); over
   * noise-binary the element as XML, or `binary: <base64>` of a plaintext the codec refused.
   */
  readonly text: string;
  /** The decoded element, when the codec accepted the frame. */
  readonly node?: StanzaNode;
  /** noise-binary's login frame: the ClientPayload it carried, as read (its `<open/>` is `node`). */
  readonly clientPayload?: ClientPayload;
  /** Why the codec refused the frame, when it did. */
  readonly refused?: { readonly condition: CodecCondition; readonly message: string };
  /**
   * The elements a lenient reading finds in a refused frame (a comment, two elements at once), so
   * that routing and checks still see what was sent; xml-ws only.
   */
  readonly salvaged?: readonly StanzaNode[];
}

/**
 * The gatekeeper refused something a provider's client sent it: it answered with an error ack
 * (`<ack error>`) or an IQ error, so what was refused went nowhere as asked. Whatever case it comes
 * in, it is the provider's finding, unless the case provoked it (Testbed.expectRefusal).
 */
export interface Refusal {
  /** Date.now() when the refusal was sent. */
  readonly at: number;
  readonly connection: string;
  readonly login: string | undefined;
  /** The element refused, as the codec or a lenient reading gave it. */
  readonly element?: StanzaNode;
  /** A frame the codec refused whole: its text (FrameEvent.text), where there is no element. */
  readonly frame?: string;
  /** The refusal's condition: `item-not-found`, `bad-request`, `restricted-xml`, … */
  readonly condition: string;
  /** The refusal as the gatekeeper sent it (an `<ack>` or an `<iq type="error">`). */
  readonly answer: StanzaNode;
}

export interface HttpExchange {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly requestBody: string;
  readonly responseBody: string;
  readonly durationMs: number;
}

/** An enlistment request as it came, unredacted: for the checks' eyes, never for the report. */
export interface EnlistRequest {
  readonly at: number;
  readonly contentType: string;
  /** The raw body ('' when the content type was refused before it was read). */
  readonly body: string;
}

export interface WaitOptions {
  readonly signal: AbortSignal;
  /** How long to wait before giving up with null; the signal still wins if it fires first. */
  readonly timeoutMs: number;
}

/** How a chat connection ended. */
export interface ConnectionClosed {
  /** Date.now() when seen. */
  readonly at: number;
  readonly code: number;
  readonly reason: string;
  readonly by: 'client' | 'gatekeeper';
}

/** A provider client's connection to the chat server, from the gatekeeper's side. */
export interface ClientConnection {
  readonly id: string;
  readonly transport: ChatTransport;
  /** Subprotocols the client offered in its handshake, in order. */
  readonly offeredSubprotocols: readonly string[];
  /**
   * The IP address the connection came from, as the chat server saw it (an IPv4-mapped IPv6 address
   * written as its IPv4 address): in the proxy deployment, the proxy's own (CLIENT-IP).
   */
  readonly remoteAddress: string;
  /** Date.now() when the connection was accepted. */
  readonly openedAt: number;
  readonly login: string | undefined;
  /**
   * The client's login: its first element, if it decoded; over noise-binary, the handshake's
   * ClientPayload as the `<open from token authkey client-ip>` it stands for.
   */
  readonly open: StanzaNode | undefined;
  /** True once the `<open/>` was accepted (login enlisted, proof verified). */
  readonly authenticated: boolean;
  readonly frames: readonly FrameEvent[];
  /** Set when the WebSocket closed: when (ms since the epoch), the close code and who closed it. */
  readonly closed: ConnectionClosed | undefined;
  /** Sends a node through the codec; `compress` deflates it on a wire that can (noise-binary). */
  send(n: StanzaNode, options?: { readonly compress?: boolean }): void;
  /** Sends raw text (or bytes) as one WebSocket message: for hostile and malformed input. */
  sendRaw(data: string | Uint8Array, options?: { binary?: boolean }): void;
  /**
   * Resolves with the first frame after `afterSeq` (default: now) that matches, or null at the
   * deadline or once the connection has closed; frames from the client unless `direction` says otherwise.
   */
  waitForFrame(
    match: (f: FrameEvent) => boolean,
    options: WaitOptions & { afterSeq?: number; direction?: FrameDirection },
  ): Promise<FrameEvent | null>;
  /** Resolves with the close record once the connection is closed, or null on timeout. */
  waitForClose(options: WaitOptions): Promise<ClientConnection['closed'] | null>;
  /**
   * Sends a ping IQ (with a `<ping/>` child when `child`) and resolves true when the matching
   * result arrives in time.
   */
  ping(options: WaitOptions & { readonly child?: boolean }): Promise<boolean>;
}
