/**
 * ENC-MEDIATYPE (docs/PROFILE.md §9): the `mediatype` attribute a sender puts on the `<enc>` of a
 * media message, naming its kind. Both of the harness's peers write it from this one table: the
 * gatekeeper's gatekeeper users and the reference provider's client.
 *
 * @see Baileys 6.17.16 `lib/Socket/messages-send.js`, getMediaType: relayMessage puts its value on
 * every `<enc>` of a message; a message that is not media gets none.
 */
import type { MediaType } from './scheme.js';

/** The kinds of media message the profile's layouts can carry, and the value for each. */
export const ENC_MEDIATYPE = {
  image: 'image',
  video: 'video',
  /** A video with `gifPlayback`. */
  gif: 'gif',
  /** An audio with `ptt`: push to talk. */
  'voice-note': 'ptt',
  audio: 'audio',
  document: 'document',
} as const;

export type MediaKind = keyof typeof ENC_MEDIATYPE;
export type EncMediatype = (typeof ENC_MEDIATYPE)[MediaKind];

/** The kind of a media message of `type`: `ptt` makes an audio a voice note, `gifPlayback` a video a GIF. */
export function mediaKind(
  type: MediaType,
  flags: { readonly ptt?: boolean; readonly gifPlayback?: boolean } = {},
): MediaKind {
  if (type === 'audio') return flags.ptt ? 'voice-note' : 'audio';
  if (type === 'video') return flags.gifPlayback ? 'gif' : 'video';
  return type;
}
