/** The keys a provider's client uploads on its chat connection (KEYS-UPLOAD), as more than one suite reads them. */
import { PreconditionError } from '../../core/errors.js';
import type { ClientConnection } from '../../gatekeeper/types.js';
import { ENCRYPT_NS } from '../../protocol/constants.js';
import { readPreKeyUpload, type PreKeyUpload } from '../../protocol/stanzas.js';
import type { CheckContext } from '../check.js';
import { noneBefore, sends, sentBy } from '../observe.js';

const isUpload = sends('iq', { type: 'set', xmlns: ENCRYPT_NS });

/** The newest KEYS-UPLOAD on `connection`, as sent, waiting for it if need be. */
export async function uploadOn(ctx: CheckContext, connection: ClientConnection): Promise<PreKeyUpload> {
  const frame = await ctx.testbed.frameFrom(connection, isUpload, { afterSeq: 0 });
  if (!frame) throw new PreconditionError(noneBefore(`no <iq type="set" xmlns="${ENCRYPT_NS}">`, connection.closed));
  const iq = sentBy(connection)
    .filter(
      (s) => s.element.tag === 'iq' && s.element.attrs['xmlns'] === ENCRYPT_NS && s.element.attrs['type'] === 'set',
    )
    .at(-1);
  const upload = iq && readPreKeyUpload(iq.element);
  if (!upload) throw new PreconditionError("the key upload does not have the profile's shape (KEYS-UPLOAD)");
  return upload;
}
