/**
 * The key IQs of the chat channel (docs/PROFILE.md §7): the upload a client sends after it
 * connects, and the fetch it sends before its first message to a peer, each in the profile's
 * shape. A malformed one is named down to the child and its byte count.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import { fromBase64 } from '../../protocol/base64.js';
import { ENCRYPT_NS, GATEKEEPER_SERVER } from '../../protocol/constants.js';
import { at, child, children, type StanzaNode } from '../../protocol/node.js';
import { fetchedJids, KYBER_KEY_LENGTH } from '../../protocol/stanzas.js';
import { defineCheck } from '../check.js';
import { lastSeq, noneBefore, sends, sentBy, show } from '../observe.js';

/** Byte lengths of each base64 child, by path under the IQ (KEYS-UPLOAD). */
const UPLOAD_LENGTHS: readonly [path: readonly string[], bytes: number, optional?: boolean][] = [
  [['registration'], 4],
  [['type'], 1],
  [['identity'], 32],
  [['skey', 'id'], 3],
  [['skey', 'value'], 32],
  [['skey', 'signature'], 64],
  [['kskey', 'id'], 3, true],
  [['kskey', 'value'], KYBER_KEY_LENGTH, true],
  [['kskey', 'signature'], 64, true],
];

/** What is wrong with an upload's shape, or null when nothing is. */
function uploadProblem(iq: StanzaNode): string | null {
  if (iq.attrs['to'] !== GATEKEEPER_SERVER) return `to="${iq.attrs['to'] ?? ''}"`;
  for (const [path, bytes, optional] of UPLOAD_LENGTHS) {
    if (optional && !child(iq, path[0] as string)) continue;
    const el = at(iq, ...path);
    const value = el?.text === undefined ? null : fromBase64(el.text);
    const name = `<${path.join('><')}>`;
    if (!el) return `no ${name}`;
    if (!value) return `${name} is not canonical base64`;
    if (value.length !== bytes) return `${name} of ${value.length} bytes, not ${bytes}`;
  }
  const list = child(iq, 'list');
  if (!list) return 'no <list> of one-time prekeys';
  for (const key of children(list, 'key')) {
    const id = fromBase64(child(key, 'id')?.text ?? '');
    const value = fromBase64(child(key, 'value')?.text ?? '');
    if (id?.length !== 3 || value?.length !== 32)
      return `a one-time <key> with a ${id?.length ?? 0}-byte id and a ${value?.length ?? 0}-byte value, not 3 and 32`;
  }
  return null;
}

/** KEYS-UPLOAD: the upload after connecting has the profile's shape, and the gatekeeper took it. */
export const uploadShape = defineCheck({ name: 'encryption/keys/upload-shape' }, async (ctx) => {
  const { connection } = await ctx.testbed.providerUser('user', { tolerant: true });
  const frame = await ctx.testbed.frameFrom(connection, sends('iq', { type: 'set', xmlns: ENCRYPT_NS }), {
    afterSeq: 0,
  });
  const iq = frame && sentBy(connection).find((s) => s.frame === frame && s.element.tag === 'iq')?.element;
  if (!iq) throw new PreconditionError(noneBefore('no key upload', connection.closed));
  return judgeUploadShape(iq);
});

/** KEYS-UPLOAD, on the key upload IQ as the client sent it. */
export function judgeUploadShape(iq: StanzaNode): Finding {
  const problem = uploadProblem(iq);
  return problem === null
    ? met()
    : notMet(
        '<iq type="set" xmlns="encrypt" to="s.whatsapp.net"> with registration (4), type (1), identity (32), list of keys (3+32), skey (3+32+64)',
        `${problem} in ${show(iq)}`,
      );
}

/** KEYS-FETCH: before its first message to a new peer, the client fetches the peer's bundle in the profile's shape. */
export const fetchShape = defineCheck({ name: 'encryption/keys/fetch-shape' }, async (ctx) => {
  const provider = await ctx.testbed.providerUser();
  const gatekeeperUser = await ctx.testbed.gatekeeperUser();
  const afterSeq = lastSeq(provider.connection);
  ctx.step('provider sends its first message to a new peer');
  await provider
    .send(gatekeeperUser.jid, `first ${ctx.rng.string(8)}`)
    .catch((e: unknown) => ctx.note(`the driver's send failed: ${String(e)}`));
  return judgeFetchShape(
    sentBy(provider.connection, afterSeq).map((s) => s.element),
    gatekeeperUser.jid,
  );
});

/** KEYS-FETCH, on what the client sent when asked for its first message to `peer`. */
export function judgeFetchShape(sent: readonly StanzaNode[], peer: string): Finding {
  const expected = `<iq type="get" xmlns="encrypt" to="s.whatsapp.net"><key><user jid="${peer}"/></key></iq> before the message`;
  const fetches = sent.filter((n) => n.tag === 'iq' && n.attrs['type'] === 'get' && n.attrs['xmlns'] === ENCRYPT_NS);
  if (fetches.length === 0)
    return notMet(expected, `no key fetch; the client sent ${sent.map((n) => `<${n.tag}>`).join(', ') || 'nothing'}`);
  // WhatsApp's clients ask other encrypt IQs too (<count/>, <digest/>) and may ask for several users
  // in one fetch; the one judged is the one that names the peer.
  const fetch = fetches.find((n) => fetchedJids(n).includes(peer));
  if (!fetch) {
    const asked = fetches.flatMap((n) => fetchedJids(n));
    return notMet(
      expected,
      asked.length === 0
        ? `no <key><user jid>; the IQ holds ${fetches[0]?.children.map((c) => `<${c.tag}>`).join(', ') || 'nothing'}`
        : `a fetch for ${asked.join(', ')}`,
    );
  }
  if (fetch.attrs['to'] !== GATEKEEPER_SERVER) return notMet(expected, `to="${fetch.attrs['to'] ?? ''}"`);
  return met();
}
