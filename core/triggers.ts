/**
 * Trigger types of ambient agents (placeholder with the shared interface's types; the
 * schedules work brings validation and the `triggers` option of defineAgent).
 */
import type { Duration } from './spec.ts';

export type TriggerDelivery =
  | { kind: 'slack'; channel: string; team?: string }
  | { kind: 'email'; to: string[] };

export interface TriggerOptions {
  id: string;
  cron?: string;
  every?: Duration;
  /** @default 'UTC' */
  timezone?: string;
  prompt: string;
  deliver: TriggerDelivery;
  approvers?: string[];
}

export interface TriggerSpec extends TriggerOptions {
  timezone: string;
  approvers: string[];
}
