/**
 * The Enlistment API (docs/PROFILE.md §10): `POST /3p/interop_reg`, a form of unpadded
 * base64url fields. Both outcomes are HTTP 200 with `{"login","status":"ok"}` or
 * `{"status":"fail","reason"}`; transport-level mistakes (method, content type, size) get their
 * HTTP status. Every exchange is recorded for the checks, with the proof's signature redacted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromBase64Url } from '../protocol/base64.js';
import { DJB_KEY_TYPE } from '../protocol/constants.js';
import {
  ENLIST_FIELDS as FIELDS,
  ENLIST_FORM_TYPE as FORM_TYPE,
  MAX_TOKEN_CHARS,
  type EnlistBinaryField as BinaryField,
} from '../protocol/enlistment.js';
import { verifySignedPreKey } from '../protocol/prekey-signature.js';
import type { Directory, Enlistment } from './directory.js';
import type { ProofVerifier } from './proof-verifier.js';
import type { ScriptedAnswer } from './control-types.js';
import type { EnlistRequest, HttpExchange } from './observation-types.js';

export const ENLIST_PATH = '/3p/interop_reg';
const MAX_BODY_BYTES = 16 * 1024;

export type EnlistOutcome =
  { readonly status: 'ok'; readonly login: string } | { readonly status: 'fail'; readonly reason: string };

export interface EnlistmentDeps {
  readonly directory: Directory;
  readonly verifier: ProofVerifier;
  /** Origin the exchange URLs are recorded under, e.g. https://127.0.0.1:4433. */
  readonly origin: string;
  readonly record: (e: HttpExchange) => void;
  /** Every request as it came, unredacted, for the checks (never for the report). */
  readonly seen: (r: EnlistRequest) => void;
}

export class EnlistmentApi {
  /** A case's script of transport answers (429, 5xx, 4xx, `fail`), by attempt number from 1. */
  private script: ((attempt: number) => ScriptedAnswer | undefined) | undefined;
  private attempts = 0;

  constructor(private readonly deps: EnlistmentDeps) {}

  /** Answers the next requests from `script` where it returns an answer; returns the undo. */
  scripted(script: (attempt: number) => ScriptedAnswer | undefined): () => void {
    this.script = script;
    this.attempts = 0;
    return () => {
      if (this.script === script) this.script = undefined;
    };
  }

  /** Handles one request to ENLIST_PATH; never throws. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    let requestBody = '';
    // Status 0 records no answer; its body is then what happened instead.
    const record = (status: number, body: string): void =>
      this.deps.record({
        at: started,
        method: req.method ?? '',
        url: `${this.deps.origin}${req.url ?? ''}`,
        status,
        requestBody,
        responseBody: body,
        durationMs: Date.now() - started,
      });
    const reply = (status: number, body: string, headers: Record<string, string> = {}): void => {
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
        res.end(body);
      }
      record(status, body);
    };
    const error = (status: number, message: string, headers?: Record<string, string>): void =>
      reply(status, JSON.stringify({ error: message }), headers);

    try {
      if (req.method !== 'POST') return error(405, `method ${req.method} not allowed`, { allow: 'POST' });
      const contentType = req.headers['content-type'] ?? '';
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_BODY_BYTES) {
        requestBody = `[${declared} bytes not recorded]`;
        return error(413, `body over ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
      }
      const raw = await readBody(req, MAX_BODY_BYTES);
      if (raw === null) {
        requestBody = `[over ${MAX_BODY_BYTES} bytes, not recorded]`;
        return error(413, `body over ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
      }
      requestBody = redactToken(raw);
      this.deps.seen({ at: started, contentType, body: raw });
      // A scripted answer stands for the service's state (overloaded, down), so it comes before any validation.
      const scripted = this.script?.(++this.attempts);
      if (scripted && 'drop' in scripted) {
        // As a crashed or unreachable service: the connection goes, with no status line.
        req.socket.destroy();
        return record(0, 'the gatekeeper closed the connection without an answer, as the case scripts');
      }
      if (scripted && 'fail' in scripted) return reply(200, JSON.stringify({ status: 'fail', reason: scripted.fail }));
      if (scripted) return error(scripted.status, 'scripted answer', scripted.headers);
      if (contentType.split(';')[0]?.trim().toLowerCase() !== FORM_TYPE)
        return error(415, `content type must be ${FORM_TYPE}`);
      const outcome = await this.enlist(raw);
      reply(200, JSON.stringify(outcome));
    } catch (e) {
      error(500, `internal error: ${(e as Error).message}`);
    }
  }

  /** Checks the form and enlists; every refusal is a `fail` outcome, never an exception. */
  async enlist(body: string): Promise<EnlistOutcome> {
    const form = new URLSearchParams(body);
    const bytes = {} as Record<BinaryField, Uint8Array>;
    for (const [name, size] of Object.entries(FIELDS) as [BinaryField, number][]) {
      const values = form.getAll(name);
      if (values.length === 0) return badRequest(`missing ${name}`);
      if (values.length > 1) return badRequest(`${name} given ${values.length} times`);
      const decoded = fromBase64Url(values[0] as string);
      if (decoded === null) return badRequest(`${name} is not unpadded base64url`);
      if (decoded.length !== size) return badRequest(`${name} length ${decoded.length}`);
      bytes[name] = decoded;
    }
    if (bytes.e_keytype[0] !== DJB_KEY_TYPE) return badRequest(`e_keytype 0x${hex(bytes.e_keytype)}`);
    const tokens = form.getAll('token');
    if (tokens.length !== 1)
      return badRequest(tokens.length === 0 ? 'missing token' : `token given ${tokens.length} times`);
    const token = tokens[0] as string;
    if (token.length > MAX_TOKEN_CHARS) return badRequest(`token length ${token.length}`);

    if (!verifySignedPreKey(bytes.e_ident, bytes.e_skey_val, bytes.e_skey_sig)) {
      return { status: 'fail', reason: 'bad_signature:e_skey_sig does not verify under e_ident' };
    }
    const proof = await this.deps.verifier.verify(token);
    if (!proof.ok) return { status: 'fail', reason: `bad_token:${proof.reason}` };

    const enlistment: Enlistment = {
      identifier: proof.identifier,
      authKey: bytes.authkey,
      registrationId: uint(bytes.e_regid),
      identityKey: bytes.e_ident,
      signedPreKey: { id: uint(bytes.e_skey_id), publicKey: bytes.e_skey_val, signature: bytes.e_skey_sig },
    };
    // Key order as in the public sample: {"login": …, "status": "ok"}.
    return { login: this.deps.directory.enlist(enlistment).login, status: 'ok' };
  }
}

const badRequest = (detail: string): EnlistOutcome => ({ status: 'fail', reason: `bad_request:${detail}` });

/** Keeps the JWT's header and payload for the record, replaces its signature. */
export function redactToken(body: string): string {
  return body
    .split('&')
    .map((pair) => {
      if (!pair.startsWith('token=')) return pair;
      const parts = pair.slice('token='.length).split('.');
      return parts.length === 3 ? `token=${parts[0]}.${parts[1]}.[redacted]` : 'token=[redacted]';
    })
    .join('&');
}

/** Reads the body as UTF-8, or null once it passes `limit` bytes (the rest is discarded). */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
    // Settles nothing when 'end' came first; otherwise the client went away mid-body.
    req.on('close', () => reject(new Error('the client closed the request before its end')));
  });
}

const uint = (bytes: Uint8Array): number => bytes.reduce((acc, b) => acc * 256 + b, 0);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
