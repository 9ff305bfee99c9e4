/**
 * The keys a provider's client publishes (KEYS-UPLOAD on the chat channel) and the bundles it
 * accepts from others (docs/PROFILE.md §8.1). Signatures are verified here with libsignal, never
 * trusted.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import { DJB_KEY_TYPE, MAX_REGISTRATION_ID } from '../../protocol/constants.js';
import { djbKey } from '../../protocol/signal-store.js';
import type { PreKeyUpload } from '../../protocol/stanzas.js';
import { defineCheck, MODE_PARAM, paramsOf, choiceParam, QUIET_MS, numberParam, sessionMode } from '../check.js';
import { barrier, lastSeq, sentBy } from '../observe.js';
import { sendOne } from '../scenarios/conversation.js';
import { uploadOn } from '../scenarios/keys.js';
import { deliverAndWatch, describeAnswer, encryptText, timesShown } from '../scenarios/exchange.js';

/** The type byte of a serialized Kyber1024 public key. */
const KYBER_KEY_TYPE = 0x08;
const MAX_PREKEY_ID = 0xffffff;

/** KEYS-SIGNATURE: the signed prekey's XEdDSA signature verifies under the uploaded identity key. */
export const signedPreKeySignature = defineCheck({ name: 'encryption/keys/signed-prekey-signature' }, async (ctx) => {
  const { connection } = await ctx.testbed.providerUser();
  return judgeSignedPreKeySignature(await uploadOn(ctx, connection));
});

/** KEYS-SIGNATURE, on a key upload as read from the wire. */
export function judgeSignedPreKeySignature(upload: PreKeyUpload): Finding {
  const signed = Buffer.concat([Buffer.of(DJB_KEY_TYPE), upload.signedPreKey.publicKey]);
  const verifies = djbKey(upload.identityKey).verify(signed, Buffer.from(upload.signedPreKey.signature));
  return verifies
    ? met()
    : notMet(
        'an XEdDSA signature by the identity key over 0x05 ‖ signed prekey',
        `signature of signed prekey ${upload.signedPreKey.id} does not verify`,
      );
}

/** KEYS-KYBER: in the `pq` mode, a last-resort Kyber prekey signed by the identity key. */
export const kyberPreKey = defineCheck({ name: 'encryption/keys/kyber-prekey' }, async (ctx) => {
  const { connection } = await ctx.testbed.providerUser();
  const { identityKey, kyberPreKey: kyber } = await uploadOn(ctx, connection);
  const expected = 'a <kskey> whose XEdDSA signature by the identity key over the serialized Kyber key verifies';
  if (!kyber) return notMet(expected, 'no <kskey> in the key upload of a provider that declares pq');
  if (kyber.publicKey[0] !== KYBER_KEY_TYPE)
    return notMet(expected, `a Kyber key of type ${kyber.publicKey[0] ?? '?'}, not ${KYBER_KEY_TYPE} (Kyber1024)`);
  return djbKey(identityKey).verify(Buffer.from(kyber.publicKey), Buffer.from(kyber.signature))
    ? met(`Kyber prekey ${kyber.id}`)
    : notMet(expected, `the signature of Kyber prekey ${kyber.id} does not verify`);
});

/** KEYS-PREKEYS: enough one-time prekeys, with distinct 3-byte ids and distinct keys. */
export const oneTimePreKeys = defineCheck(
  { name: 'encryption/keys/one-time-prekeys', params: paramsOf({ minimum: { type: 'integer', minimum: 1 } }) },
  async (ctx) => {
    const minimum = numberParam(ctx, 'minimum', 5);
    const { connection } = await ctx.testbed.providerUser();
    return judgeOneTimePreKeys(await uploadOn(ctx, connection), minimum);
  },
);

/** KEYS-PREKEYS, on a key upload as read from the wire. */
export function judgeOneTimePreKeys({ oneTimePreKeys: keys }: PreKeyUpload, minimum: number): Finding {
  const expected = `at least ${minimum} one-time prekeys, ids in 1..${MAX_PREKEY_ID} that differ, keys that differ`;
  if (keys.length < minimum) return notMet(expected, `${keys.length} one-time prekeys`);
  const ids = new Map<number, number>();
  for (const k of keys) ids.set(k.id, (ids.get(k.id) ?? 0) + 1);
  const shared = [...ids].filter(([, n]) => n > 1).map(([id]) => id);
  if (shared.length > 0) return notMet(expected, `${keys.length} prekeys that share id ${shared.join(', ')}`);
  const outOfRange = keys.filter((k) => k.id < 1 || k.id > MAX_PREKEY_ID).map((k) => k.id);
  if (outOfRange.length > 0) return notMet(expected, `ids out of range: ${outOfRange.join(', ')}`);
  const distinctKeys = new Set(keys.map((k) => Buffer.from(k.publicKey).toString('hex')));
  if (distinctKeys.size !== keys.length)
    return notMet(expected, `${keys.length} prekeys with ${distinctKeys.size} distinct keys`);
  return met(`${keys.length} one-time prekeys`);
}

/** KEYS-REGISTRATION: a registration id fits 14 bits (a SHOULD: whatsmeow draws 32); 0 is one, as the lineage generates it. */
export const judgeRegistrationId = (id: number): Finding =>
  Number.isInteger(id) && id >= 0 && id <= MAX_REGISTRATION_ID
    ? met()
    : notMet(`a registration id in 0..${MAX_REGISTRATION_ID} (14 bits)`, `registration id ${id}`);

export const registrationId = defineCheck({ name: 'encryption/keys/registration-id' }, async (ctx) => {
  const { connection } = await ctx.testbed.providerUser();
  return judgeRegistrationId((await uploadOn(ctx, connection)).registrationId);
});

/**
 * KEYS-REGISTRATION, as a receiver: prekey messages from peers whose registration ids are 0 and
 * 2^32 − 1 open sessions like any other. whatsmeow draws 32 bits, libsignal's generators give 0.
 */
export const registrationIdTaken = defineCheck({ name: 'encryption/keys/registration-id-taken' }, async (ctx) => {
  for (const registrationId of [0, 0xffffffff]) {
    // A provider user each, and a session on the signed prekey alone, so that the registration id is
    // all this case judges: the one-time prekeys have their own cases (SESSION-IN, PREKEY-ONCE).
    const provider = await ctx.testbed.providerUser(`user for registration id ${registrationId}`);
    const gatekeeperUser = await ctx.testbed.gatekeeperUser({ registrationId });
    const bundle = ctx.testbed.gatekeeper.takeBundle(provider.login);
    if (!bundle) throw new PreconditionError('the provider user published no bundle');
    const { oneTimePreKey: _unused, ...signedOnly } = bundle;
    await gatekeeperUser.startSession(signedOnly);
    const text = `from registration id ${registrationId} ${ctx.rng.string(8)}`;
    const { answer } = await deliverAndWatch(
      ctx,
      { provider, gatekeeperUser },
      await encryptText(ctx.rng, gatekeeperUser, provider, text),
      `the first message of a peer with registration id ${registrationId}`,
    );
    const shown = answer === 'delivery' ? await timesShown(provider, text) : 0;
    if (answer !== 'delivery' || shown !== 1) {
      return notMet(
        "a session opened, and the text shown once, whatever the peer's registration id",
        `${describeAnswer(answer)} and the text shown ${shown} times for a peer with registration id ${registrationId}`,
      );
    }
  }
  return met('registration ids 0 and 4294967295');
});

/** ONE-DEVICE: one identity key per user: a new connection publishes the same one. */
export const oneIdentity = defineCheck({ name: 'encryption/keys/one-identity' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  const first = await uploadOn(ctx, user.connection);
  const again = await user.reconnect();
  const second = await uploadOn(ctx, again);
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return hex(first.identityKey) === hex(second.identityKey)
    ? met()
    : notMet(
        'the same identity key on every connection of a user',
        `another identity key after reconnecting: ${hex(first.identityKey).slice(0, 16)}… then ${hex(second.identityKey).slice(0, 16)}…`,
      );
});

/** BUNDLE-VERIFY: a peer whose bundle's signature does not verify gets no message at all. */
export const refuseBadBundle = defineCheck(
  {
    name: 'encryption/keys',
    params: paramsOf({ mode: MODE_PARAM, forge: { enum: ['signed-prekey', 'kyber'] } }),
  },
  async (ctx) => {
    const provider = await ctx.testbed.providerUser();
    const forged = await ctx.testbed.gatekeeperUser(
      choiceParam(ctx, 'forge', ['signed-prekey', 'kyber'], 'signed-prekey') === 'kyber'
        ? { mode: 'pq', badKyberPreKeySignature: true }
        : { mode: sessionMode(ctx), badSignedPreKeySignature: true },
    );
    const afterSeq = lastSeq(provider.connection);
    ctx.step('ask the provider to message a peer with a forged bundle');
    // Refusing is the right answer here (`{"refused"}`); a driver that says it sent is judged by the
    // wire all the same. A driver error is no answer: the case ends without a verdict.
    const answered = await provider.trySend(forged.jid, `to a forged bundle ${ctx.rng.string(8)}`);
    ctx.note(
      'refused' in answered
        ? `the client refused to send: ${answered.refused}`
        : `the driver said the client sent ${answered.id}`,
    );
    const until = await barrier(provider.connection, ctx.signal);
    const message = sentBy(provider.connection, afterSeq).find(
      (s) => s.element.tag === 'message' && s.element.attrs['to'] === forged.jid,
    );
    if (message)
      return notMet(
        'no <message> to a peer whose signed prekey signature does not verify',
        `a <message> to ${forged.jid} (${message.frame.bytes} bytes)`,
      );
    // A client that sends nothing at all would refuse the forged bundle for the wrong reason: it must still reach a genuine peer.
    await sendOne(
      { provider, gatekeeperUser: await ctx.testbed.gatekeeperUser({ mode: forged.mode }) },
      ctx,
      'message to a genuine peer',
    );
    return met(
      `no <message> to the forged bundle before the ${until === 'ping' ? 'answer to a ping' : `end of ${QUIET_MS} ms`}`,
    );
  },
);
