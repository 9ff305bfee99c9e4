/**
 * Judging a message's id (STANZA-ID): 8 to 64 characters of [A-Za-z0-9_-]. One judgement for the
 * case that asks for it and for the Testbed's watch over every message a client sends, so that an
 * id made wrong for one kind of message (a group text, a reaction, a re-send) fails as surely.
 */
import { met, notMet, type Finding } from '../core/model.js';
import { STANZA_ID } from '../protocol/constants.js';
import type { StanzaNode } from '../protocol/node.js';
import { show } from './observe.js';

const EXPECTED = 'an id of 8 to 64 characters of [A-Za-z0-9_-]';

/** STANZA-ID, on one message a client sent. */
export function judgeMessageId(m: StanzaNode): Finding {
  const id = m.attrs['id'];
  if (id === undefined) return notMet(EXPECTED, `${show(m)} has no id`);
  return STANZA_ID.test(id) ? met() : notMet(EXPECTED, `id="${id}" on ${show(m)}`);
}
