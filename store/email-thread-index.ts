import * as z from 'zod';
import { emailThreadRecordSchema, type EmailThreadRecord } from '../events/email-thread.ts';
import { recordFilesFor, type RecordFilesSource } from './record-files.ts';
import { createRecordStore, hashedPath } from './record-store.ts';

/**
 * The email thread records (events/email-thread.ts), next to the transcript store:
 * `email-threads/token/ab/cdef….json` and `email-threads/message/ab/cdef….json` (and
 * `email-threads/sent/…`, the replies SES accepted), named by the
 * SHA-256 of the token id or Message-ID, so no outside string ever becomes a path. The
 * worker writes; the email edge reads. A record that does not parse is treated as absent.
 */
export interface EmailThreadIndex {
  putToken(tokenId: string, record: EmailThreadRecord): Promise<void>;
  getToken(tokenId: string): Promise<EmailThreadRecord | undefined>;
  putMessage(messageId: string, record: EmailThreadRecord): Promise<void>;
  getMessage(messageId: string): Promise<EmailThreadRecord | undefined>;
  /** Marks a reply SES accepted, by its Message-ID: a retry in another process then sends nothing. */
  markSent(messageId: string, sentAt: number): Promise<void>;
  /** Whether a reply with this Message-ID was marked sent. */
  wasSent(messageId: string): Promise<boolean>;
}

type ThreadRecordKind = 'token' | 'message' | 'sent';
const pathOf = (kind: ThreadRecordKind) => (id: string) => hashedPath(`email-threads/${kind}`, `${kind}:${id}`);

/** The index in `records` (record files, or the transcript store settings they sit next to). */
export function createEmailThreadIndex(records: RecordFilesSource): EmailThreadIndex {
  const files = recordFilesFor(records);
  const tokens = createRecordStore(files, { path: pathOf('token'), schema: emailThreadRecordSchema, unreadable: 'absent' });
  // Message-IDs compare without angle brackets and case-sensitively in the local part; the
  // domain part is lower-cased by convention, which is enough for ids we minted ourselves.
  const messages = createRecordStore(files, { path: pathOf('message'), schema: emailThreadRecordSchema, unreadable: 'absent' });
  const sent = createRecordStore(files, { path: pathOf('sent'), schema: z.looseObject({ sentAt: z.number() }), unreadable: 'absent' });
  return {
    putToken: (tokenId, record) => tokens.put(tokenId, record),
    getToken: (tokenId) => tokens.get(tokenId),
    putMessage: (messageId, record) => messages.put(messageId, record),
    getMessage: (messageId) => messages.get(messageId),
    markSent: (messageId, sentAt) => sent.put(messageId, { sentAt }),
    wasSent: async (messageId) => (await sent.get(messageId)) !== undefined,
  };
}
