/**
 * Forward secrecy and post-compromise security, seen from the wire (docs/PROFILE.md §8.6): a
 * provider with the capability `session-export` hands over its user's session state, as an
 * attacker who compromised the device would have it, and the harness tries to decrypt the
 * ciphertexts it carried with libsignal itself. The exported state must read the message sent
 * right after it (so the export is the live session), and must not read a message already
 * received (FS) nor one sent after two round trips (PCS).
 */
import { readText } from '../../protocol/payload.js';
import { PreconditionError, ProviderViolation } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import { fromBase64 } from '../../protocol/base64.js';
import type { SessionExport } from '../../protocol/driver-api.js';
import { child } from '../../protocol/node.js';
import { MemoryIdentityStore, MemorySessionStore, Signal, signalAddress } from '../../protocol/signal-store.js';
import { PqIdentityStore, PqSessionStore, pqAddress, SignalPq } from '../../protocol/signal-store-pq.js';
import { readPreKeySignalMessage } from '../../protocol/signal-wire.js';
import { defineCheck } from '../check.js';
import type { ProviderUser } from '../testbed.js';
import { delivered, sayOk, twoUsers } from './agnostic.js';

/** What a replica made of one ciphertext: its text, or libsignal's refusal. */
type Opened = { readonly text: string | undefined } | { readonly refused: string };

/** An exported session in the library of its mode, decrypting what `peer` sent, in order, as the real session would. */
interface Replica {
  open(signalMessage: Uint8Array): Promise<Opened>;
}

async function replicaOf(exported: SessionExport, peer: string): Promise<Replica> {
  const record = fromBase64(exported.record);
  if (!record) throw new PreconditionError('the exported record is not base64');
  const attempt = async (decrypt: () => Promise<Uint8Array>): Promise<Opened> => {
    try {
      return { text: readText(await decrypt()) };
    } catch (e) {
      return { refused: e instanceof Error ? e.message : String(e) };
    }
  };
  try {
    if (exported.sessionMode === 'pq') {
      const sessions = new PqSessionStore();
      // A throwaway identity: decrypting a SignalMessage needs the session, not the private identity key.
      const identities = new PqIdentityStore(SignalPq.IdentityKeyPair.generate(), 1, () => true);
      await sessions.saveSession(pqAddress(peer), SignalPq.SessionRecord.deserialize(Uint8Array.from(record)));
      return {
        open: (m) =>
          attempt(() =>
            SignalPq.signalDecrypt(
              SignalPq.SignalMessage.deserialize(Uint8Array.from(m)),
              pqAddress(peer),
              pqAddress('replica'),
              sessions,
              identities,
            ),
          ),
      };
    }
    const sessions = new MemorySessionStore();
    const identities = new MemoryIdentityStore(Signal.IdentityKeyPair.generate(), 1, () => true);
    await sessions.saveSession(signalAddress(peer), Signal.SessionRecord.deserialize(Buffer.from(record)));
    return {
      open: (m) =>
        attempt(
          async () =>
            new Uint8Array(
              await Signal.signalDecrypt(
                Signal.SignalMessage.deserialize(Buffer.from(m)),
                signalAddress(peer),
                sessions,
                identities,
              ),
            ),
        ),
    };
  } catch (e) {
    throw new PreconditionError(
      `libsignal does not read the exported ${exported.sessionMode} session record: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** The SignalMessage of message `id` as the harness delivered it to `to`, and whether it came inside a prekey message. */
function signalMessageOf(to: ProviderUser, id: string): { bytes: Uint8Array; prekey: boolean } {
  const enc = child(delivered(to.connection, id), 'enc');
  const bytes = enc?.text === undefined ? null : fromBase64(enc.text);
  if (!enc || !bytes) throw new PreconditionError(`message ${id} carried no ciphertext`);
  if (enc.attrs['type'] !== 'pkmsg') return { bytes, prekey: false };
  const inner = readPreKeySignalMessage(bytes)?.messageBytes;
  if (!inner) throw new PreconditionError(`message ${id} is a prekey message with no SignalMessage inside`);
  return { bytes: inner, prekey: true };
}

/**
 * The control: the exported state must read the message sent right after it. Each case sends that
 * message after A took B's reply (its delivery receipt), so a prekey message there is a new session
 * the client had no cause to start: its failure of SESSION-ACK, which leaves the export nothing to
 * be judged on, whatever the case judges.
 */
function controlProblem(opened: Opened, sent: { prekey: boolean }, text: string, what: string): string | undefined {
  if ('text' in opened && opened.text === text) return undefined;
  if (sent.prekey)
    throw new ProviderViolation(
      "SignalMessages from A to B once A has decrypted B's reply (SESSION-ACK)",
      `a PreKeySignalMessage after the reply: ${what} starts a new session, which the exported state ${describe(opened)}`,
    );
  return `${what} ${describe(opened)}: the export is not the session in use`;
}

const describe = (o: Opened): string =>
  'refused' in o ? `refused (${o.refused})` : `decrypted to ${JSON.stringify(o.text)}`;

/**
 * E2E-FORWARD-SECRECY: the state exported after a message was read cannot read it again; it does
 * read the next one (else the export is not the session in use).
 */
export const forwardSecrecy = defineCheck({ name: 'encryption/wire/forward-secrecy' }, async (ctx) => {
  const { a, b } = await twoUsers(ctx);
  await sayOk(ctx, a, b, `hello ${ctx.rng.string(8)}`, 'A opens the conversation');
  await sayOk(ctx, b, a, `hi ${ctx.rng.string(8)}`, 'B replies');
  const read = await sayOk(ctx, a, b, `read before the export ${ctx.rng.string(8)}`, 'A sends a message B reads');
  ctx.step("export B's session with A");
  const exported = await b.exportSession(a.login);
  const nextText = `after the export ${ctx.rng.string(8)}`;
  const next = await sayOk(ctx, a, b, nextText, 'A sends the next message');
  const expected = 'the exported state decrypts the message sent after the export, and not the one B read before it';
  ctx.step('decrypt with the exported state');
  const nextSent = signalMessageOf(b, next);
  const problem = controlProblem(
    await (await replicaOf(exported, a.login)).open(nextSent.bytes),
    nextSent,
    nextText,
    'the message sent after the export',
  );
  if (problem) return notMet(expected, problem);
  const old = await (await replicaOf(exported, a.login)).open(signalMessageOf(b, read).bytes);
  return 'refused' in old
    ? met(`${exported.sessionMode} session; the earlier message refused: ${old.refused}`)
    : notMet(expected, `the state exported after B read a message decrypted it again: ${describe(old)}`);
});

/**
 * E2E-POST-COMPROMISE: an attacker holding B's state and every later ciphertext reads on until
 * the ratchet turns twice (B → A, A → B, B → A, A → B); the message after that it cannot read.
 */
export const postCompromise = defineCheck({ name: 'encryption/wire/post-compromise' }, async (ctx) => {
  const { a, b } = await twoUsers(ctx);
  await sayOk(ctx, a, b, `hello ${ctx.rng.string(8)}`, 'A opens the conversation');
  await sayOk(ctx, b, a, `hi ${ctx.rng.string(8)}`, 'B replies');
  ctx.step("export B's session with A: the compromise");
  const exported = await b.exportSession(a.login);
  const texts: string[] = [];
  const ids: string[] = [];
  const fromA = async (label: string): Promise<void> => {
    const text = `${label} ${ctx.rng.string(8)}`;
    texts.push(text);
    ids.push(await sayOk(ctx, a, b, text, `A sends ${label}`));
  };
  await fromA('right after');
  for (const round of [1, 2]) {
    await sayOk(ctx, b, a, `round ${round} ${ctx.rng.string(8)}`, `B answers (round ${round})`);
    await fromA(`round ${round}`);
  }
  const expected =
    'the compromised state follows the traffic and reads the message right after the compromise, but not the one after two round trips';
  ctx.step('decrypt, in order, with the compromised state');
  const replica = await replicaOf(exported, a.login);
  const sent = ids.map((id) => signalMessageOf(b, id));
  const opened: Opened[] = [];
  for (const m of sent) opened.push(await replica.open(m.bytes));
  const [first, , last] = opened as [Opened, Opened, Opened];
  const problem = controlProblem(
    first,
    sent[0] ?? { prekey: false },
    texts[0] ?? '',
    'the message right after the compromise',
  );
  if (problem) return notMet(expected, problem);
  return 'refused' in last
    ? met(`${exported.sessionMode} session; the message after two round trips refused: ${last.refused}`)
    : notMet(
        expected,
        `the state exported before two round trips still decrypted the message after them: ${describe(last)}`,
      );
});
