import type { MessageRef } from './message-ref.ts';

/** The store holds nothing under this ref. `name` is the wire type: 'MessageNotFound'. */
export class MessageNotFoundError extends Error {
  override name = 'MessageNotFound';
  readonly ref: MessageRef;
  constructor(ref: MessageRef, where: string) {
    super(`No message ${ref} in ${where}.`);
    this.ref = ref;
  }
}

/** What the store read under this ref does not hash to it. `name` is the wire type: 'MessageCorrupt'. */
export class MessageCorruptError extends Error {
  override name = 'MessageCorrupt';
  readonly ref: MessageRef;
  readonly actualRef: MessageRef;
  constructor(ref: MessageRef, actualRef: MessageRef, where: string) {
    super(`Message ${ref} in ${where} is corrupt: its bytes hash to ${actualRef}.`);
    this.ref = ref;
    this.actualRef = actualRef;
  }
}
