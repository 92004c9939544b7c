import type { SearchAttributePair } from '@temporalio/common';

/** A typed key, as `defineSearchAttributeKey` makes it (the type is not exported by name). */
type KeywordKey = Extract<SearchAttributePair, { key: { type: 'KEYWORD' } }>['key'];
type DatetimeKey = Extract<SearchAttributePair, { key: { type: 'DATETIME' } }>['key'];

/**
 * Typed search attributes of conversations and agent runs: names only, never personal data or
 * message text, so a list in the Web UI or `temporal workflow list --query "AgentName = 'x'"`
 * shows what ran without showing what was said. Each must be registered on the namespace
 * before a workflow sets it: the dev server registers them at start
 * (local/temporal-dev-server.ts); Temporal Cloud with `tcld namespace search-attributes add`
 * (docs-draft-observability.md). Plain objects, as `defineSearchAttributeKey` makes them, so
 * workflows, the dispatcher and the client share them without a value import of the SDK.
 */
export const AGENT_NAME = { name: 'AgentName', type: 'KEYWORD' } as KeywordKey;
/** `slack`, `email`, `terminal`, `none`. */
export const CHANNEL_KIND = { name: 'ChannelKind', type: 'KEYWORD' } as KeywordKey;
/** `message` (a conversation a person started), `turn` (a conversation's agent run), `ambient`. */
export const TRIGGER_KIND = { name: 'TriggerKind', type: 'KEYWORD' } as KeywordKey;
/** How a run ended: its stop reason (`answer`, `max_steps`, …), set when it ends. */
export const OUTCOME = { name: 'Outcome', type: 'KEYWORD' } as KeywordKey;

/**
 * Set on a run while it waits for a person's approval: when its oldest open request was
 * asked (workflow time); removed when none is left. A visibility list of running workflows
 * with it set is the approvals waiting (telemetry/approvals-waiting.ts).
 */
export const APPROVAL_WAITING_SINCE = { name: 'ApprovalWaitingSince', type: 'DATETIME' } as DatetimeKey;

export const SEARCH_ATTRIBUTE_KEYS: readonly (KeywordKey | DatetimeKey)[] = [
  AGENT_NAME,
  CHANNEL_KIND,
  TRIGGER_KIND,
  OUTCOME,
  APPROVAL_WAITING_SINCE,
];

export type TriggerKind = 'message' | 'turn' | 'ambient';

/** The attributes a conversation or run starts with. */
export function startSearchAttributes(values: { agent: string; channelKind: string; trigger: TriggerKind }): SearchAttributePair[] {
  return [
    { key: AGENT_NAME, value: values.agent },
    { key: CHANNEL_KIND, value: values.channelKind },
    { key: TRIGGER_KIND, value: values.trigger },
  ];
}
