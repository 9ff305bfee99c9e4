/**
 * The enlisted account over time (docs/PROFILE.md §10): the authkey the client connects with,
 * a repeated enlistment, opt-out over the chat channel and no connection after it, and
 * re-enlistment after the gatekeeper un-enlisted the user.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { driverStatusOf, InternalError, PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import type { ClientConnection, ConnectionClosed, EnlistRequest, HttpExchange } from '../../gatekeeper/types.js';
import { ACCOUNT_NS, DELETE_TAG } from '../../protocol/enlistment.js';
import { child } from '../../protocol/node.js';
import { FRAMING_NS, GATEKEEPER_SERVER } from '../../protocol/constants.js';
import { defineCheck, paramsOf, ANSWER_MS, QUIET_MS } from '../check.js';
import { describeReturn, newAttemptsOf, sentBy, ORDERLY_CLOSE_CODES } from '../observe.js';
import { enlistOnce } from '../scenarios/enlistment.js';
import { loginAttempt } from '../scenarios/login.js';
import { readProof } from '../scenarios/proof.js';

/**
 * ENLIST-AUTHKEY: judged on the login whether or not the gatekeeper took it; over noise-binary the
 * authkey presented is the handshake's static key, and the gatekeeper refuses another one.
 */
export const authKeyReused = defineCheck({ name: 'enlistment/authkey/reused' }, async (ctx) => {
  const seen = ctx.testbed.watchEnlistments();
  const attempt = await loginAttempt(ctx);
  const enlisted = new URLSearchParams(seen[0]?.body ?? '').get('authkey');
  if (!enlisted) throw new PreconditionError('no authkey in the enlistment form to compare with');
  if (!attempt.frame) throw new PreconditionError(`no login of ${attempt.login} came`);
  const presented = attempt.frame.node?.attrs['authkey'];
  const expected = `<open authkey="${enlisted}"/>, the enlisted authkey`;
  if (presented === undefined) return notMet(expected, 'no authkey on <open/>');
  // Neither value is quoted: an authkey is a credential, redacted from every report anyway.
  return presented === enlisted ? met() : notMet(expected, 'authkey at connect differs from the enlisted one');
});

/** ENLIST-REPEAT */
export const repeatEnlistment = defineCheck({ name: 'enlistment/repeat/same-login' }, async (ctx) => {
  const first = await enlistOnce(ctx);
  if (first.user.result.status !== 'ok')
    throw new PreconditionError(`the first enlistment failed: ${first.user.result.reason}`);
  const seen = ctx.testbed.watchEnlistments();
  ctx.step('enlist the same user again');
  const again = await first.user.enlist();
  const second = new URLSearchParams(seen[0]?.body ?? '');
  for (const field of ['authkey', 'e_ident'] as const) {
    if (second.get(field) !== first.form.get(field))
      return notMet(`the same ${field} in a repeated enlistment`, `${field} changed between enlistments`);
  }
  const login = again.status === 'ok' ? again.login : `fail: ${again.reason}`;
  return login === first.user.result.login ? met() : notMet(`the same login ${first.user.result.login}`, login);
});

/**
 * ENLIST-OPT-OUT: the deletion request, addressed to the gatekeeper's server, then the close. The
 * gatekeeper forgets the user whatever the request's `to`, so that a wrong address is judged here,
 * as a finding, rather than end the driver's opt-out in an error.
 */
export const optOut = defineCheck({ name: 'enlistment/opt-out/delete-over-chat' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  ctx.step('opt the user out');
  await user.optOut();
  const expected = `<iq type="set" xmlns="${ACCOUNT_NS}" to="${GATEKEEPER_SERVER}"><${DELETE_TAG}/></iq> over the chat channel`;
  const request = sentBy(user.connection)
    .map((s) => s.element)
    .find(
      (n) =>
        n.tag === 'iq' &&
        n.attrs['type'] === 'set' &&
        n.attrs['xmlns'] === ACCOUNT_NS &&
        child(n, DELETE_TAG) !== undefined,
    );
  if (!request) return notMet(expected, 'no deletion request over the chat channel');
  const to = request.attrs['to'];
  if (to !== GATEKEEPER_SERVER)
    return notMet(
      expected,
      `a deletion request ${to === undefined ? 'without to' : `to="${to}"`}, not to the gatekeeper's server`,
    );
  if (ctx.testbed.gatekeeper.isEnlisted(user.login))
    throw new InternalError('the gatekeeper kept a user that asked to be deleted');
  // The driver resolved once the client was done, so the close is due already.
  const closed = await user.connection.waitForClose({ signal: ctx.signal, timeoutMs: QUIET_MS });
  const closing = `the client to close its stream after the deletion (${
    user.connection.transport === 'xml-ws'
      ? `<close xmlns="${FRAMING_NS}"/>, FRAME-CLOSE`
      : 'a WebSocket Close frame, NOISE-CLOSE'
  })`;
  if (!closed) return notMet(closing, `the stream still open ${QUIET_MS} ms after the opt-out`);
  const wrong = disorderlyEnd(user.connection, closed);
  return wrong === undefined ? met() : notMet(closing, `after the deletion, ${wrong}`);
});

/**
 * How a client's stream ended, when not as its transport's orderly close: over xml-ws without
 * `<close/>` (FRAME-CLOSE), over noise-binary without a WebSocket Close frame (NOISE-CLOSE). A
 * dropped connection is how a lost network looks, so the gatekeeper cannot tell an opt-out from it.
 */
function disorderlyEnd(connection: ClientConnection, closed: ConnectionClosed): string | undefined {
  if (connection.transport === 'xml-ws') {
    const sent = sentBy(connection).some((s) => s.element.tag === 'close' && s.element.attrs['xmlns'] === FRAMING_NS);
    return sent ? undefined : `the WebSocket closed (code ${closed.code}) with no <close/> element`;
  }
  if (ORDERLY_CLOSE_CODES.includes(closed.code)) return undefined;
  return closed.code === 1006 ? 'the connection dropped with no Close frame (code 1006)' : `code ${closed.code}`;
}

/**
 * How long after the opt-out's close the gatekeeper watches for the user's client to come back
 * (ENLIST-OPT-OUT [3]): QUIET_MS, the harness's wait for what must not come. A client that
 * reconnects at once, its reconnect logic taking the close for a lost connection, reaches the
 * gatekeeper within tens of milliseconds (a fresh proof and a handshake on loopback); one that
 * backs off longer first goes unseen. The wait is the case's whole cost, twice per run (a lane
 * each): ANSWER_MS made the enlistment suite the run's longest by 7 s.
 */
const STAY_AWAY_MS = QUIET_MS;

/**
 * ENLIST-OPT-OUT [3]: once the user opted out and its stream closed, no new connection for it
 * within STAY_AWAY_MS of the close: none of its login, accepted or refused, and none whose login
 * the gatekeeper could not read, which can be no other's: no other client of the provider is at
 * work in the case.
 */
export const optOutStaysAway = defineCheck(
  { name: 'enlistment/opt-out/stays-away', params: paramsOf({ askedToConnect: { type: 'boolean' } }) },
  async (ctx) => {
    const asked = ctx.params['askedToConnect'] === true;
    const user = await ctx.testbed.providerUser();
    const { gatekeeper } = ctx.testbed;
    const { login, connection } = user;
    const returned = newAttemptsOf(gatekeeper, () => [login]);
    ctx.step('opt the user out');
    await user.optOut();
    const close = await connection.waitForClose({ signal: ctx.signal, timeoutMs: QUIET_MS });
    if (!close)
      throw new PreconditionError(
        `the stream of ${login} still open ${QUIET_MS} ms after the opt-out; ENLIST-OPT-OUT [2]'s case judges that`,
      );
    const closed = { id: connection.id, at: close.at };
    ctx.step(`watch the gatekeeper for ${STAY_AWAY_MS} ms after the close`);
    await sleep(Math.max(0, closed.at + STAY_AWAY_MS - Date.now()), undefined, { signal: ctx.signal });
    // The user, no longer enlisted, asks to connect: the driver's answer is 409 (DRIVER-API), and
    // whatever it is, no stream is opened for the login the opt-out gave up.
    let answer = '';
    if (asked) {
      ctx.step('the user asks to connect again');
      answer = await user.connect().then(
        (r) => `, the connect request answered connected: ${String(r.connected)}`,
        (e: unknown) => `, the connect request answered ${driverStatusOf(e) ?? 'with no status'}`,
      );
      await sleep(QUIET_MS / 2, undefined, { signal: ctx.signal });
    }
    const seen = returned();
    const window = asked
      ? `after the close, nor on the user's connect request`
      : `in the ${STAY_AWAY_MS} ms after the close`;
    if (seen.length === 0) return met(`no connection for ${login} ${window}`);
    const what = seen.length === 1 ? 'a new connection' : `${seen.length} new connections`;
    return notMet(
      asked
        ? `no new connection for ${login} after the opt-out, even when its user asks to connect (DRIVER-API: 409)`
        : `no new connection for ${login} within ${STAY_AWAY_MS} ms of its stream's close after the opt-out`,
      `${what} after the opt-out${answer}: ${seen.map((c) => describeReturn(c, `as ${login}`, closed)).join('; ')}`,
    );
  },
);

/**
 * How long after the first enlistment the user is un-enlisted: past the next second of any clock,
 * so that a fresh proof for the enlistment after it carries a later `iat` than the first one's,
 * whatever the provider's clock reads, and a proof presented again is told from one issued anew.
 */
const FRESH_PROOF_GAP_MS = 1100;

/**
 * ENLIST-UNENLISTED: the client enlists again under the keys it enlisted with, with a fresh proof,
 * and reconnects on its own; its new login comes in the API's answer.
 */
export const reenlistAfterUnenlistment = defineCheck({ name: 'enlistment/unenlisted/reenlist' }, async (ctx) => {
  const forms = ctx.testbed.watchEnlistments();
  const user = await ctx.testbed.providerUser();
  const first = forms.length;
  const exchanges: HttpExchange[] = [];
  ctx.testbed.defer(ctx.testbed.gatekeeper.onHttp((e) => exchanges.push(e)));
  await sleep(FRESH_PROOF_GAP_MS, undefined, { signal: ctx.signal });
  ctx.step('un-enlist the user');
  ctx.testbed.gatekeeper.unenlist(user.login);
  const deadline = Date.now() + ANSWER_MS;
  let login: string | undefined;
  while (login === undefined && Date.now() < deadline) {
    await sleep(50, undefined, { signal: ctx.signal });
    login = exchanges
      .filter((e) => e.url === ctx.testbed.gatekeeper.enlistUrl)
      .map(loginOf)
      .find((l) => l !== undefined);
  }
  if (login === undefined)
    return notMet(
      'a new enlistment after the un-enlistment',
      `no enlistment within ${ANSWER_MS} ms of the un-enlistment`,
    );
  const changed = changedKey(forms[0], forms[first]);
  if (changed !== undefined)
    return notMet(
      `the enlisted ${changed} in the enlistment after the un-enlistment`,
      `${changed} changed between the enlistment and the one after the un-enlistment`,
    );
  const stale = staleProof(forms[0], forms[first]);
  if (stale !== undefined)
    return notMet('a fresh proof in the enlistment after the un-enlistment, issued after the first', stale);
  const connection = await ctx.testbed.gatekeeper.waitForConnection(login, {
    signal: ctx.signal,
    timeoutMs: QUIET_MS + ANSWER_MS,
  });
  return connection
    ? met(`re-enlisted as ${login}`)
    : notMet(`a connection as ${login} after re-enlisting`, 'no connection after the re-enlistment');
});

/** The first of the keys ENLIST-REPEAT keeps that differs between two enlistment forms (neither value quoted: credentials). */
function changedKey(before: EnlistRequest | undefined, after: EnlistRequest | undefined): string | undefined {
  if (!before || !after) throw new PreconditionError('the enlistments were not seen by the enlistment API');
  const [a, b] = [new URLSearchParams(before.body), new URLSearchParams(after.body)];
  return (['authkey', 'e_ident'] as const).find((field) => a.get(field) !== b.get(field));
}

/**
 * What is stale about the proof of the enlistment `after` against the one `before` it, issued at
 * least FRESH_PROOF_GAP_MS earlier: the same token, or an `iat` no later than the first's.
 */
function staleProof(before: EnlistRequest | undefined, after: EnlistRequest | undefined): string | undefined {
  const [a, b] = [before, after].map((form) => new URLSearchParams(form?.body ?? '').get('token') ?? '');
  const [iatA, iatB] = [a, b].map((token) => (token === undefined ? undefined : readProof(token)?.claims.iat));
  if (iatA === undefined || iatB === undefined) return undefined; // PROOF-LIFETIME's to judge
  if (a === b) return `the first enlistment's proof again (iat ${iatA}), ${FRESH_PROOF_GAP_MS} ms and more later`;
  return iatB > iatA ? undefined : `a proof with iat ${iatB}, no later than the first enlistment's ${iatA}`;
}

function loginOf(e: HttpExchange): string | undefined {
  if (e.status !== 200) return undefined;
  try {
    const answer = JSON.parse(e.responseBody) as { status?: string; login?: string };
    return answer.status === 'ok' ? answer.login : undefined;
  } catch {
    return undefined;
  }
}
