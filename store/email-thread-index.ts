import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { emailThreadRecordSchema, type EmailThreadRecord } from '../events/email-thread.ts';
import type { TranscriptStoreSettings } from './create-store.ts';
import { createLocalRecordFiles, createMemoryRecordFiles, createS3RecordFiles, recordFilesFor, type RecordFiles } from './record-files.ts';

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

function createIndex(files: RecordFiles): EmailThreadIndex {
  const keyOf = (kind: 'token' | 'message' | 'sent', id: string) => {
    const digest = createHash('sha256').update(`${kind}:${id}`).digest('hex');
    return `email-threads/${kind}/${digest.slice(0, 2)}/${digest.slice(2)}.json`;
  };
  const get = async (key: string) => {
    const text = await files.read(key);
    if (text === undefined) return undefined;
    try {
      const parsed = emailThreadRecordSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };
  const put = (key: string, record: EmailThreadRecord) => files.write(key, JSON.stringify(emailThreadRecordSchema.parse(record)));
  return {
    putToken: (tokenId, record) => put(keyOf('token', tokenId), record),
    getToken: (tokenId) => get(keyOf('token', tokenId)),
    // Message-IDs compare without angle brackets and case-sensitively in the local part; the
    // domain part is lower-cased by convention, which is enough for ids we minted ourselves.
    putMessage: (messageId, record) => put(keyOf('message', messageId), record),
    getMessage: (messageId) => get(keyOf('message', messageId)),
    markSent: (messageId, sentAt) => files.write(keyOf('sent', messageId), JSON.stringify({ sentAt })),
    wasSent: async (messageId) => (await files.read(keyOf('sent', messageId))) !== undefined,
  };
}

export function createLocalEmailThreadIndex(options: { directory: string }): EmailThreadIndex {
  return createIndex(createLocalRecordFiles(options));
}

export function createS3EmailThreadIndex(options: { client: S3Client; bucket: string; prefix?: string }): EmailThreadIndex {
  return createIndex(createS3RecordFiles(options));
}

/** Records in memory: tests, and one process that shares them between its edge and its worker. */
export function createMemoryEmailThreadIndex(): EmailThreadIndex {
  return createIndex(createMemoryRecordFiles());
}

/** The index next to the transcript store the same settings describe. */
export function createEmailThreadIndex(settings: TranscriptStoreSettings, deps: { s3Client?: S3Client } = {}): EmailThreadIndex {
  return createIndex(recordFilesFor(settings, deps));
}
