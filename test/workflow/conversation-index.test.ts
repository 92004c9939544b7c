import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationIndex, MAX_SAVED_MESSAGE_IDS, type ConversationIndex } from '../../store/conversation-index.ts';
import { createLocalRecordFiles, createMemoryRecordFiles, createS3RecordFiles } from '../../store/record-files.ts';
import { startMotoBucket, type MotoBucket } from '../../testkit/moto.ts';

const HEAD_1 = `sha256:${'1'.repeat(64)}`;
const HEAD_2 = `sha256:${'2'.repeat(64)}`;

function describeIndex(name: string, create: () => ConversationIndex) {
  describe(`conversation index: ${name}`, () => {
    it('finds nothing for a conversation it has never seen', async () => {
      expect(await create().load('slack:T:C:1')).toBeUndefined();
    });

    it('keeps the newest head, turn count and message ids; an older save that arrives late changes nothing', async () => {
      const index = create();
      const id = `email:${crypto.randomUUID()}@example.com`;
      await index.save({ conversationId: id, transcriptHead: HEAD_1, turns: 1, messageIds: [['m-1', 1]] });
      await index.save({
        conversationId: id,
        transcriptHead: HEAD_2,
        turns: 2,
        messageIds: [
          ['m-2', 2],
          ['m-3', 2],
        ],
      });
      await index.save({ conversationId: id, transcriptHead: HEAD_1, turns: 1, messageIds: [['m-1', 1]] });
      expect(await index.load(id)).toMatchObject({
        conversationId: id,
        transcriptHead: HEAD_2,
        turns: 2,
        recentMessageIds: [
          ['m-1', 1],
          ['m-2', 2],
          ['m-3', 2],
        ],
      });
    });

    it(`remembers the newest ${MAX_SAVED_MESSAGE_IDS} message ids`, async () => {
      const index = create();
      const id = `slack:T:C:${crypto.randomUUID()}`;
      const ids = Array.from({ length: MAX_SAVED_MESSAGE_IDS + 10 }, (_, n): [string, number] => [`m-${n}`, n + 1]);
      await index.save({ conversationId: id, turns: ids.length, messageIds: ids });
      const saved = (await index.load(id))!;
      expect(saved.recentMessageIds).toHaveLength(MAX_SAVED_MESSAGE_IDS);
      expect(saved.recentMessageIds[0]).toEqual(['m-10', 11]);
      expect(saved.transcriptHead).toBeUndefined();
    });
  });
}

describeIndex('memory', () => createConversationIndex(createMemoryRecordFiles()));
const directory = mkdtempSync(join(tmpdir(), 'conversation-index-'));
describeIndex('local directory', () => createConversationIndex(createLocalRecordFiles({ directory })));

let moto: MotoBucket | undefined;
beforeAll(async () => {
  moto = await startMotoBucket('conversations');
});
afterAll(() => moto?.stop());
describeIndex('S3 (moto)', () =>
  createConversationIndex(createS3RecordFiles({ client: moto!.client, bucket: moto!.bucket, prefix: 'prod' })),
);
