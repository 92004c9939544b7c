import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Content } from '../../core/spec.ts';
import { createCachedStore } from '../../store/cached-store.ts';
import { createLocalDirectoryStore } from '../../store/local-directory-store.ts';
import { appendMessages, kindOf, loadAll, loadContext } from '../../store/transcript-chain.ts';

const store = createCachedStore(createLocalDirectoryStore({ directory: mkdtempSync(join(tmpdir(), 'context-')) }));
const prompt = (text: string): Content => ({ role: 'user', parts: [{ text }] });
const call = (step: number): Content => ({ role: 'model', parts: [{ functionCall: { name: 'fetch', args: { step } } }] });
const result = (step: number, size = 20_000): Content => ({
  role: 'user',
  parts: [{ functionResponse: { name: 'fetch', response: { output: { step, body: 'r'.repeat(size) } } } }],
});
const answer = (text: string): Content => ({ role: 'model', parts: [{ text }] });

/** Gemini's rules: the first turn is a user prompt; every function response follows a call. */
function assertWellFormed(messages: Content[]) {
  expect(kindOf(messages[0]!)).toBe('prompt');
  messages.forEach((message, index) => {
    if (kindOf(message) === 'tool-results') expect(messages[index - 1]!.parts.some((part) => part.functionCall)).toBe(true);
  });
}

describe('transcript context window', () => {
  it('sends everything when it fits', async () => {
    const head = await appendMessages(store, undefined, [prompt('hi'), call(1), result(1, 10), answer('done')]);
    const messages = await loadContext(store, head, { maxBytes: 100_000 });
    expect(messages.map(kindOf)).toEqual(['prompt', 'model', 'tool-results', 'model']);
  });

  it('keeps the prompt and whole call/result pairs when a long turn overflows the window', async () => {
    const steps = Array.from({ length: 40 }, (_, index) => [call(index), result(index)]).flat();
    const head = await appendMessages(store, undefined, [prompt('Fetch forty pages.'), ...steps]);
    const messages = await loadContext(store, head, { maxBytes: 100_000 });
    assertWellFormed(messages);
    expect(messages[0]!.parts[0]!.text).toBe('Fetch forty pages.');
    expect(messages[0]!.parts[1]!.text).toMatch(/earlier message\(s\) of this turn are left out/);
    expect(messages[1]!.role).toBe('model');
    expect(messages.at(-1)).toEqual(result(39));
    expect(messages.length).toBeLessThan(12);
    expect((await loadAll(store, head)).length).toBe(81);
  });

  it('opens at a prompt inside the window when an earlier turn is cut', async () => {
    const first = await appendMessages(store, undefined, [prompt('Old question.'), call(0), result(0, 90_000), answer('old answer')]);
    const head = await appendMessages(store, first, [prompt('New question.'), call(1), result(1, 1_000)]);
    const messages = await loadContext(store, head, { maxBytes: 20_000 });
    expect(messages[0]!.parts).toEqual([{ text: 'New question.' }]);
    expect(messages.map(kindOf)).toEqual(['prompt', 'model', 'tool-results']);
  });

  it('keeps a call with its result even when the result alone overflows the window', async () => {
    const head = await appendMessages(store, undefined, [prompt('Big one.'), call(1), result(1, 50_000)]);
    const messages = await loadContext(store, head, { maxBytes: 10_000 });
    assertWellFormed(messages);
    expect(messages.map(kindOf)).toEqual(['prompt', 'model', 'tool-results']);
  });
});
