/**
 * The reference to a stored message or blob. Pure: workflows import this module, so it
 * holds no I/O and no hashing (hashing is the store's job, in activities).
 */

/** `sha256:` followed by the 64 lowercase hex digits of the SHA-256 of the stored bytes. */
export type MessageRef = string;

const MESSAGE_REF = /^sha256:[0-9a-f]{64}$/;

export function isMessageRef(value: unknown): value is MessageRef {
  return typeof value === 'string' && MESSAGE_REF.test(value);
}
