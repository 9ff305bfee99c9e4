/**
 * The noise-binary transport's own requirements (docs/PROFILE.md §1): the login the handshake
 * carries, and a client that will not log in to a gatekeeper it cannot authenticate.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import { Product } from '../../protocol/noise/client-payload.js';
import { accountIdOf } from '../../protocol/transport.js';
import type { CertificateDefect, ClientConnection, FrameEvent, HandshakeDefect } from '../../gatekeeper/types.js';
import { choiceParam, defineCheck, paramsOf, ANSWER_MS, type CheckContext } from '../check.js';
import { enlistedUser, loginAttempt } from '../scenarios/login.js';
import { pair, receiveOne } from '../scenarios/conversation.js';
import { answerTo } from '../scenarios/exchange.js';
import { judgeNoiseClose } from '../scenarios/noise-close.js';
import { describeAll, newAttemptsOf, sentBy } from '../observe.js';

/**
 * TRANSPORTS: the ClientPayload says INTEROP, the login's digits and the proof; the gatekeeper
 * accepts it, and a ping is then answered (the overview's first milestone for a partner).
 */
export const login = defineCheck({ name: 'stanza/noise/login' }, async (ctx) => {
  const attempt = await loginAttempt(ctx);
  const digits = accountIdOf(attempt.login) ?? attempt.login;
  const expected = `a ClientPayload with product INTEROP (2) and interopData { accountId ${digits}, token: the proof }, accepted, then a ping answered`;
  const payload = attempt.frame?.clientPayload;
  if (!payload) return notMet(expected, attempt.frame ? 'a login that is not a Noise ClientPayload' : 'no Noise login');
  const wrong: string[] = [];
  if (payload.product !== Product.INTEROP) wrong.push(`product ${payload.product ?? 'absent'}`);
  const data = payload.interopData;
  if (data === undefined) wrong.push('no interopData');
  else {
    if (String(data.accountId) !== digits) wrong.push(`accountId ${data.accountId}`);
    if (data.token.length === 0) wrong.push('an empty token');
  }
  const refused = attempt.refusal === undefined ? '' : `; the gatekeeper refused it: ${attempt.refusal}`;
  if (wrong.length > 0) return notMet(expected, `${wrong.join(', ')}${refused}`);
  if (!attempt.connection) return notMet(expected, `the login was not accepted${refused || ': no <success/>'}`);
  ctx.step('ping over the Noise channel');
  return (await attempt.connection.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS }))
    ? met()
    : notMet(expected, 'no answer to a ping after <success/>');
});

/**
 * How long a client has to close the connection of a handshake it abandons, from the gatekeeper's
 * first handshake frame on it (NOISE-HANDSHAKE-ABORT: "closing the connection"). The profile names
 * no bound; a client that abandons closes at once, and this one is the harness's wait for an answer.
 */
const ABANDON_MS = ANSWER_MS;

/**
 * What is wrong with how the client left a handshake it abandoned, sending no login, after
 * `metInstead`; undefined when it closed the connection itself within ABANDON_MS of the
 * gatekeeper's first handshake frame (NOISE-HANDSHAKE-ABORT: "closing the connection").
 */
async function abandonmentProblem(
  ctx: CheckContext,
  attempts: () => readonly ClientConnection[],
  metInstead: string,
): Promise<string | undefined> {
  // No login came, so the connection is one whose login the gatekeeper did not read.
  const broken = attempts().find((c) => c.login === undefined);
  if (!broken) throw new PreconditionError('the driver asked the client to connect, but no connection came');
  ctx.step('wait for the client to close the abandoned connection');
  const from = broken.frames.find((f) => f.direction === 'gatekeeper-to-client')?.at ?? broken.openedAt;
  const left = from + ABANDON_MS - Date.now();
  const closed =
    broken.closed ?? (left > 0 ? await broken.waitForClose({ signal: ctx.signal, timeoutMs: left }) : null);
  if (!closed)
    return `the client sent no login, but left the connection (${broken.id}) open for ${ABANDON_MS} ms after ${metInstead}`;
  // Closed before the driver answered, perhaps, but not necessarily in time: when it closed counts.
  if (closed.at - from > ABANDON_MS)
    return `the client sent no login, but left the connection (${broken.id}) open for ${closed.at - from} ms after ${metInstead}, past ${ABANDON_MS} ms`;
  if (closed.by !== 'client')
    return `the client sent no login, but did not close the connection (${broken.id}): the gatekeeper closed it (code ${closed.code})`;
  return undefined;
}

const CERTIFICATE_DEFECTS: readonly CertificateDefect[] = [
  'foreign-root',
  'leaf-foreign-signer',
  'expired',
  'leaf-for-another-key',
];

/**
 * NOISE-SERVER-CERT: shown a certificate chain that does not verify (`params.chain`: under another
 * root than its endpoint's `noiseRoot`, with a leaf the intermediate did not sign, expired, or with
 * a leaf for another key than the server's), the client ends the handshake before its login, whose
 * proof a man in the middle would take, and closes the connection as NOISE-HANDSHAKE-ABORT says; it
 * then sends its login to the genuine gatekeeper (whether that login is right is TRANSPORTS' to judge).
 */
export const serverCert = defineCheck(
  { name: 'stanza/noise/server-cert', params: paramsOf({ chain: { enum: CERTIFICATE_DEFECTS } }, ['chain']) },
  async (ctx) => {
    const defect = choiceParam(ctx, 'chain', CERTIFICATE_DEFECTS);
    const logins = ctx.testbed.watchOpens();
    const { user, login } = await enlistedUser(ctx);
    const expected = `no login through a handshake whose certificate chain does not verify (${defect}), and the connection closed by the client within ${ABANDON_MS} ms of the gatekeeper's first handshake frame`;
    const undo = ctx.testbed.gatekeeper.presentBadCertificate(defect);
    ctx.testbed.defer(undo);
    const attempts = newAttemptsOf(ctx.testbed.gatekeeper, () => [login]);
    ctx.step(`connect to a gatekeeper whose chain does not verify: ${defect}`);
    await user.connect().catch(() => undefined);
    undo();
    const sent = logins[0];
    if (sent)
      return notMet(
        expected,
        `the client finished the handshake and sent its login${sent.clientPayload?.interopData?.token.length ? ' with its proof' : ''}`,
      );
    const unclosed = await abandonmentProblem(ctx, attempts, `a certificate chain that does not verify (${defect})`);
    if (unclosed) return notMet(expected, unclosed);
    ctx.step('connect to the genuine gatekeeper');
    await user.connect().catch(() => undefined);
    return logins.length > 0
      ? met()
      : notMet(`${expected}, then a login to the genuine gatekeeper`, 'no login to the genuine gatekeeper either');
  },
);

const HANDSHAKE_DEFECTS: readonly HandshakeDefect[] = [
  'transport-frame-first',
  'replayed-server-hello',
  'replayed-abandoned-server-hello',
];

/** What the client met where its serverHello was due, as a verdict says it. */
const MET_INSTEAD: Readonly<Record<HandshakeDefect, string>> = {
  'transport-frame-first': 'a transport frame came where the serverHello was due',
  'replayed-server-hello': 'the serverHello was replayed from an earlier handshake',
  'replayed-abandoned-server-hello': 'the serverHello was replayed from an earlier, abandoned handshake',
};

/** The first login the gatekeeper saw after the frame `afterSeq`: the client's, in a case of its own. */
function loginSince(logins: readonly FrameEvent[], afterSeq: number): FrameEvent | undefined {
  return logins.find((f) => f.seq > afterSeq);
}

/**
 * NOISE-HANDSHAKE-ABORT, NOISE-FRESH-EPHEMERAL: the gatekeeper breaks its side of the handshake
 * (`params.defect`): a transport frame where its serverHello is due, the serverHello following it;
 * or the serverHello of the client's previous handshake, replayed byte for byte: one it completed,
 * or one it abandoned (a transport frame came before that serverHello). The client must
 * abandon the handshake: send no clientFinish, which carries its proof, and close the connection,
 * itself, within ABANDON_MS of the gatekeeper's first handshake frame. It then logs in to the
 * genuine gatekeeper (whether that login is right is TRANSPORTS' to judge).
 */
export const handshake = defineCheck(
  { name: 'stanza/noise/handshake', params: paramsOf({ defect: { enum: HANDSHAKE_DEFECTS } }, ['defect']) },
  async (ctx) => {
    const defect = choiceParam(ctx, 'defect', HANDSHAKE_DEFECTS);
    const logins = ctx.testbed.watchOpens();
    const { user, login } = await enlistedUser(ctx);
    const expected = `the handshake abandoned, with no login and the connection closed by the client within ${ABANDON_MS} ms of the gatekeeper's first handshake frame, when ${MET_INSTEAD[defect]}`;
    const undo = ctx.testbed.gatekeeper.presentBadHandshake(defect);
    ctx.testbed.defer(undo);
    if (defect === 'replayed-server-hello') {
      // The handshake whose serverHello is replayed: the client's own, on its previous connection.
      ctx.step('connect once, the serverHello recorded');
      await user.connect().catch(() => undefined);
      if (logins.length === 0)
        return notMet(
          `${expected}, after a first login`,
          'no login on the first connection, to a gatekeeper that kept to Noise',
        );
    }
    if (defect === 'replayed-abandoned-server-hello') {
      // The handshake whose serverHello is replayed: one the client abandoned, its serverHello behind a transport frame.
      const first = logins.at(-1)?.seq ?? 0;
      ctx.step('connect once: a transport frame comes before the serverHello, which is recorded');
      await user.connect().catch(() => undefined);
      if (loginSince(logins, first))
        return notMet(
          `${expected}, after a first handshake abandoned`,
          `the client finished the first handshake and sent its login, though ${MET_INSTEAD['transport-frame-first']}`,
        );
    }
    const before = logins.at(-1)?.seq ?? 0;
    const attempts = newAttemptsOf(ctx.testbed.gatekeeper, () => [login]);
    ctx.step(
      defect === 'transport-frame-first'
        ? 'connect: a transport frame comes before the serverHello'
        : `connect again: the serverHello of the ${defect === 'replayed-server-hello' ? 'first' : 'abandoned'} handshake is replayed`,
    );
    await user.connect().catch(() => undefined);
    undo();
    const sent = loginSince(logins, before);
    if (sent)
      return notMet(
        expected,
        `the client finished the handshake and sent its login${sent.clientPayload?.interopData?.token.length ? ' with its proof' : ''}, though ${MET_INSTEAD[defect]}`,
      );
    const unclosed = await abandonmentProblem(ctx, attempts, MET_INSTEAD[defect]);
    if (unclosed) return notMet(expected, unclosed);
    ctx.step('connect to the genuine gatekeeper');
    await user.connect().catch(() => undefined);
    return loginSince(logins, before)
      ? met()
      : notMet(`${expected}, then a login to the genuine gatekeeper`, 'no login to the genuine gatekeeper either');
  },
);

/**
 * TRANSPORTS: a frame whose plaintext is deflated (flags 2), as WhatsApp's server sends large
 * stanzas, is read like any other: a message that comes so is decrypted and receipted.
 */
export const compressed = defineCheck({ name: 'stanza/noise/compressed' }, async (ctx) => {
  const p = await pair(ctx);
  const { connection, login } = p.provider;
  const held = ctx.testbed.gatekeeper.holdNextMessage(login, { signal: ctx.signal, timeoutMs: ANSWER_MS });
  const { id, afterSeq } = await receiveOne(p, ctx, 'message to deflate');
  const stanza = await held;
  if (!stanza) throw new PreconditionError("the gatekeeper user's message never reached the chat server");
  ctx.step('deliver it deflated');
  connection.send(stanza, { compress: true });
  ctx.step('wait for its answer');
  const answer = await answerTo(ctx, connection, id, afterSeq);
  return answer === 'delivery'
    ? met()
    : notMet(
        'a delivery receipt for a message in a deflated frame',
        `${answer}: ${describeAll(sentBy(connection, afterSeq).map((s) => s.element))}`,
      );
});

export const close = defineCheck({ name: 'stanza/noise/close' }, judgeNoiseClose);
