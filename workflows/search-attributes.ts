import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { OUTCOME, startSearchAttributes, type TriggerKind } from '../core/search-attributes.ts';

/** Sets the run's Outcome search attribute (a stop reason: a name, never text). */
export function recordOutcome(outcome: string): void {
  upsertSearchAttributes([{ key: OUTCOME, value: outcome }]);
}

/** Attributes of an agent run a conversation starts for a turn. */
export function turnSearchAttributes(agent: string, channelKind: string, trigger: TriggerKind = 'turn') {
  return startSearchAttributes({ agent, channelKind, trigger });
}

/**
 * The Web UI's "current details" of a conversation: `assistant · slack · turn 3 · running`.
 * Metadata of the workflow task, not a command: replay is unaffected.
 */
export function showTurn(agent: string, channelKind: string, turn: number, state: string): void {
  setCurrentDetails(`${agent} · ${channelKind} · turn ${turn} · ${state}`);
}
