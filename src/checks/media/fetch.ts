/**
 * The provider's media host as the gatekeeper's proxy finds it (MEDIA-HTTPS, MEDIA-LENGTH,
 * MEDIA-CONTENT-TYPE, MEDIA-RANGE, MEDIA-NO-REDIRECT, MEDIA-FETCH-AUTH).
 */
import { met, notMet, type Finding } from '../../core/model.js';
import type { MediaFetchResult } from '../../gatekeeper/types.js';
import { MEDIA_CONTENT_TYPE } from '../../protocol/constants.js';
import { choiceParam, defineCheck, paramsOf } from '../check.js';
import { discoveryOf, fetchFailed, fetchRaw, fetchSent, neighbourOf, refusedFetch, sendMedia } from './scenario.js';

/** MEDIA-HTTPS: the media base, every media origin and the message's URL are https. */
export const https = defineCheck({ name: 'media/fetch/https' }, async (ctx) => {
  const sent = await sendMedia(ctx, 'document');
  const d = discoveryOf(ctx);
  const urls = [d.mediaBase ?? '(no mediaBase)', ...d.mediaOrigins, ...(sent.declared.url ? [sent.declared.url] : [])];
  const plain = urls.filter((u) => !u.startsWith('https://'));
  return plain.length === 0 ? met() : notMet('https:// media base, media origins and media URLs', plain.join(', '));
});

/**
 * MEDIA-HTTPS, the origins: each entry of `mediaOrigins` is an origin, a scheme, host and port, with
 * no path, query, fragment or user: what a proxy compares a redirect's target with (MEDIA-NO-REDIRECT).
 */
export const origins = defineCheck({ name: 'media/fetch/origins' }, (ctx) => {
  const wrong = discoveryOf(ctx).mediaOrigins.filter((o) => {
    const u = URL.canParse(o) ? new URL(o) : undefined;
    return !u || u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '';
  });
  return Promise.resolve(
    wrong.length === 0
      ? met()
      : notMet(
          'each entry of mediaOrigins an origin: scheme, host and port only (https://media.example:8443)',
          `mediaOrigins entries that are no origin: ${wrong.join(', ')}`,
        ),
  );
});

/** MEDIA-LENGTH: 200 with a Content-Length that the body matches. */
export const length = defineCheck({ name: 'media/fetch/length' }, async (ctx) => {
  const sent = await sendMedia(ctx, 'document');
  const r = await fetchSent(ctx, sent);
  const declared = r.headers['content-length'];
  const expected = `200 with a Content-Length equal to the ${r.bytes} bytes served`;
  if (r.status !== 200) return notMet(expected, `HTTP ${r.status}`);
  if (declared === undefined)
    return notMet(
      expected,
      `no Content-Length${r.headers['transfer-encoding'] ? ` (transfer-encoding: ${r.headers['transfer-encoding']})` : ''}`,
    );
  return Number(declared) === r.bytes ? met() : notMet(expected, `Content-Length ${declared}`);
});

/**
 * MEDIA-CONTENT-TYPE: the blob is opaque bytes, whatever the file inside, in a whole answer and in
 * the answer to a range alike: a host whose streaming path names the file's type on a range tells
 * whoever sees the answer what the encrypted file is.
 */
export const contentType = defineCheck({ name: 'media/fetch/content-type' }, async (ctx) => {
  const sent = await sendMedia(ctx, 'document');
  const whole = await fetchSent(ctx, sent);
  const total = Number(whole.headers['content-length'] ?? whole.bytes);
  const header = `bytes=0-${Math.max(0, Math.floor(total / 2) - 1)}`;
  // Only the range's headers are judged here: its status and bytes are MEDIA-RANGE's.
  const ranged = await fetchRaw(ctx, sent, { range: header }, `the media proxy asks for ${header}`);
  const answers = [
    { what: 'the whole blob', r: whole },
    { what: `the range ${header}`, r: ranged },
  ];
  const wrong = answers.flatMap(({ what, r }) => {
    if (r.status === undefined) return [];
    const type = r.headers['content-type'];
    if (type?.split(';')[0]?.trim() === MEDIA_CONTENT_TYPE) return [];
    return [`${type === undefined ? 'no Content-Type' : `Content-Type: ${type}`} for ${what} (HTTP ${r.status})`];
  });
  return wrong.length === 0
    ? met()
    : notMet(`Content-Type: ${MEDIA_CONTENT_TYPE} for the whole blob and for a range of it`, wrong.join('; '));
});

/**
 * The ranges the proxy asks for (MEDIA-RANGE), of a blob of `total` bytes: `inner` ones, whose
 * bytes lie between the blob's edges or are clamped to them, and `one-byte` and `open-end` ones at
 * its boundaries, where a first and a last byte meet or the last is left to the host.
 */
const RANGE_SETS = {
  inner: (total: number): RangeAsk[] => {
    const first = Math.floor(total / 3);
    const last = Math.floor((2 * total) / 3);
    return [
      { header: `bytes=${first}-${last}`, start: first, end: last },
      { header: 'bytes=-10', start: total - 10, end: total - 1 },
      // A suffix longer than the blob is the whole blob (RFC 9110 §14.1.2): its first byte is 0, never before it.
      { header: `bytes=-${total + 100}`, start: 0, end: total - 1 },
      // A last byte past the end is the blob's last (RFC 9110 §14.1.2), and so named in Content-Range.
      { header: `bytes=${first}-${total + 100}`, start: first, end: total - 1 },
    ];
  },
  // A range of one byte is that byte, not an empty range: its first and last byte are the same (§14.1.1).
  'one-byte': (total: number): RangeAsk[] => {
    const middle = Math.floor(total / 2);
    return [
      { header: `bytes=${middle}-${middle}`, start: middle, end: middle },
      { header: 'bytes=0-0', start: 0, end: 0 },
      { header: 'bytes=-1', start: total - 1, end: total - 1 },
    ];
  },
  // An open end is the blob's last byte, `length`−1, never its length (§14.1.2): from a middle byte and from the last.
  'open-end': (total: number): RangeAsk[] => {
    const first = Math.floor(total / 3);
    return [
      { header: `bytes=${first}-`, start: first, end: total - 1 },
      { header: `bytes=${total - 1}-`, start: total - 1, end: total - 1 },
    ];
  },
} as const;
const RANGE_SET_NAMES = Object.keys(RANGE_SETS) as (keyof typeof RANGE_SETS)[];

/**
 * MEDIA-RANGE: each range of the case's set (`ranges`, `inner` by default) 206 with its
 * Content-Range and exactly its bytes. The plain GET came whole, so whatever goes wrong with a
 * range answer is the host's: a wrong status or Content-Range, or a body that breaks off, is a
 * failure naming it, not a case without a verdict.
 */
export const range = defineCheck(
  { name: 'media/fetch/range', params: paramsOf({ ranges: { enum: RANGE_SET_NAMES } }) },
  async (ctx) => {
    const ranges = choiceParam(ctx, 'ranges', RANGE_SET_NAMES, 'inner');
    const sent = await sendMedia(ctx, 'document');
    const whole = await fetchSent(ctx, sent, { keepBody: true });
    const body = whole.body;
    if (whole.status !== 200 || !body) return notMet('200 and the blob for a plain GET', `HTTP ${whole.status}`);
    for (const ask of RANGE_SETS[ranges](body.length)) {
      const r = await fetchRaw(
        ctx,
        sent,
        { range: ask.header, keepBody: true },
        `the media proxy asks for ${ask.header}`,
      );
      ctx.signal.throwIfAborted();
      const finding = judgeRange(ask, r, body);
      if (finding.verdict !== 'met') return finding;
    }
    return met();
  },
);

/** One range the proxy asks for, `Range: header`, and the bytes of the blob it names (inclusive). */
export interface RangeAsk {
  readonly header: string;
  readonly start: number;
  readonly end: number;
}

/**
 * MEDIA-RANGE, on the proxy's fetch of one range of `blob` (which a plain GET served whole): what
 * was wrong with the answer, every part of it named.
 */
export function judgeRange(
  ask: RangeAsk,
  r: Pick<MediaFetchResult, 'status' | 'headers' | 'bytes' | 'body' | 'error' | 'refused'>,
  blob: Buffer,
): Finding {
  const { header, start, end } = ask;
  const total = blob.length;
  const length = end - start + 1;
  const expected = `206 with Content-Range: bytes ${start}-${end}/${total} for Range: ${header}, and those ${length} bytes`;
  if (r.refused !== undefined) return notMet(expected, `an answer the proxy would not take: ${r.refused}`);
  if (r.status === undefined) return notMet(expected, `no answer: ${r.error ?? 'the fetch failed'}`);
  const broke = r.error === undefined ? '' : `, then the body stopped: ${r.error}`;
  if (r.status !== 206)
    return notMet(
      expected,
      `HTTP ${r.status} with ${r.bytes} bytes${r.status === 200 && r.bytes === total ? ', the whole blob' : ''}${broke}`,
    );
  const wrong: string[] = [];
  const cr = r.headers['content-range'];
  const parts = cr === undefined ? undefined : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr.trim());
  if (cr === undefined) wrong.push('no Content-Range');
  else if (!parts) wrong.push(`Content-Range: ${cr}, not of the form bytes first-last/length`);
  else {
    const [, first, last, size] = parts;
    const named = [
      ...(Number(first) === start ? [] : [`first byte ${first}, not ${start}`]),
      ...(Number(last) === end ? [] : [`last byte ${last}, not ${end}`]),
      ...(size === String(total) ? [] : [`length ${size}, not the blob's ${total}`]),
    ];
    if (named.length > 0) wrong.push(`Content-Range: ${cr}, whose ${named.join(', ')}`);
  }
  const declared = r.headers['content-length'];
  const promised = declared === undefined ? '' : ` of the ${declared} its Content-Length promised`;
  if (r.error !== undefined) wrong.push(`a body that stopped after ${r.bytes} bytes${promised}: ${r.error}`);
  else if (r.body === undefined || !r.body.equals(blob.subarray(start, end + 1)))
    wrong.push(
      r.bytes === length
        ? `${length} bytes that are not the blob's ${start}-${end}`
        : `${r.bytes} bytes, not ${length}`,
    );
  return wrong.length === 0 ? met() : notMet(expected, `206 with ${wrong.join('; ')}`);
}

/** MEDIA-NO-REDIRECT: the proxy gets the blob from a declared media origin, never sent elsewhere. */
export const noRedirectOffOrigin = defineCheck({ name: 'media/fetch/no-redirect-off-origin' }, async (ctx) => {
  const sent = await sendMedia(ctx, 'document');
  const r = await fetchRaw(ctx, sent);
  const hop = r.redirects.at(-1);
  if (r.refused && hop)
    return notMet(
      'the blob served from a declared media origin',
      `HTTP ${hop.status} to ${hop.location}, off the declared media origins ${discoveryOf(ctx).mediaOrigins.join(', ')}`,
    );
  if (r.refused) throw refusedFetch(r.refused);
  if (r.error) throw fetchFailed(r, 'the media proxy did not fetch');
  return r.status === 200
    ? met(r.redirects.length ? `${r.redirects.length} redirect(s) within the declared origins` : undefined)
    : notMet('200 from a declared media origin', `HTTP ${r.status}`);
});

/** What the proxy presents in place of the gatekeeper's certificate, as the verdicts name it. */
const STAND_INS = {
  none: "without the proxy's certificate",
  another: 'with another client certificate',
} as const;
const STAND_IN_NAMES = Object.keys(STAND_INS) as (keyof typeof STAND_INS)[];
/** Which reference the fetch names: the sent file's, or one the host does not hold. */
const REFERENCES = ['sent', 'unknown'] as const;

/**
 * MEDIA-FETCH-AUTH: without the gatekeeper's client certificate, no blob: [1] with no certificate,
 * [2] with one that is not the gatekeeper's (same subject, another key), [3] and no 404 either for a
 * reference the host does not hold: a refusal that waits for the lookup tells a stranger which
 * references exist.
 */
export const fetchAuth = defineCheck(
  {
    name: 'media/fetch/proxy-credentials',
    params: paramsOf({ certificate: { enum: STAND_IN_NAMES }, reference: { enum: REFERENCES } }),
  },
  async (ctx) => {
    const certificate = choiceParam(ctx, 'certificate', STAND_IN_NAMES, 'none');
    const reference = choiceParam(ctx, 'reference', REFERENCES, 'sent');
    const sent = await sendMedia(ctx, 'document');
    const good = await fetchSent(ctx, sent);
    if (good.status !== 200) return notMet('200 to the proxy with its certificate', `HTTP ${good.status}`);
    const target = reference === 'sent' ? sent : neighbourOf(sent, discoveryOf(ctx).providerId).sent;
    const how = `${STAND_INS[certificate]}${reference === 'sent' ? '' : ', for a reference the host does not hold'}`;
    ctx.step(`fetch ${how}`);
    const r = await fetchRaw(ctx, target, { credentials: certificate });
    const expected = `a refusal (401, 403 or a TLS handshake failure) ${how}`;
    if (r.error !== undefined) return met(`refused at the transport: ${r.error}`);
    if (r.status === 401 || r.status === 403) return met();
    return notMet(expected, `HTTP ${r.status ?? '?'}${r.status === 200 ? ` and ${r.bytes} bytes ${how}` : ` ${how}`}`);
  },
);
