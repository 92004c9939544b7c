import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AMBIENT_RUN_WORKFLOW } from '../../core/ambient.ts';
import type { AgentActivities } from '../../core/contracts/agents.ts';
import {
  AMBIENT_BEGIN_ACTIVITY,
  AMBIENT_CHECK_ACTIVITY,
  AMBIENT_DELIVER_ACTIVITY,
  AMBIENT_REMEMBER_ACTIVITY,
  type AmbientActivities,
} from '../../core/contracts/ambient.ts';
import {
  LOAD_CONVERSATION_ACTIVITY,
  SAVE_CONVERSATION_ACTIVITY,
  type ConversationStoreActivities,
} from '../../core/contracts/conversations.ts';
import { MCP_CALL_ACTIVITY, MCP_LIST_TOOLS_ACTIVITY, type McpActivities } from '../../core/contracts/mcp.ts';
import type { ModelActivities } from '../../core/contracts/model.ts';
import {
  REPLY_ANSWER_ACTIVITY,
  REPLY_APPROVAL_ACTIVITY,
  REPLY_APPROVAL_ENDED_ACTIVITY,
  REPLY_STATUS_ACTIVITY,
  type ReplyActivities,
} from '../../core/contracts/replies.ts';
import {
  DELIVER_APPROVAL_ACTIVITY,
  RECORD_APPROVAL_ACTIVITY,
  toolActivityType,
  type ApprovalActivities,
  type ApprovalRecordActivities,
} from '../../core/contracts/tools.ts';
import type { TranscriptActivities } from '../../core/contracts/transcript.ts';
import { FOLLOW_VERSION_ACTIVITY, type VersionActivities } from '../../core/contracts/versions.ts';
import {
  APPROVAL_CLOSED_SIGNAL,
  APPROVAL_REQUESTED_SIGNAL,
  APPROVAL_UPDATE,
  APPROVAL_VERDICT_UPDATE,
  CONVERSATION_WORKFLOW,
  MESSAGE_UPDATE,
  STOP_UPDATE,
  TURN_PROGRESS_SIGNAL,
  VIEW_CONTEXT_UPDATE,
  VIEW_CONTEXT_WORKFLOW,
} from '../../core/conversation.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import * as workflows from '../../workflows/index.ts';

/**
 * Every activity type the contracts define. Each group is checked against its contract's
 * keys by the compiler (a key missing here, or one too many, does not typecheck), so this
 * list is the contracts' list.
 */
const ACTIVITY_TYPES = new Set<string>(
  Object.keys({
    ...({ callModel: true } satisfies Record<keyof ModelActivities, true>),
    ...({ appendToTranscript: true } satisfies Record<keyof TranscriptActivities, true>),
    ...({ needsApproval: true } satisfies Record<keyof ApprovalActivities, true>),
    ...({ [RECORD_APPROVAL_ACTIVITY]: true, [DELIVER_APPROVAL_ACTIVITY]: true } satisfies Record<keyof ApprovalRecordActivities, true>),
    ...({ resolveAgent: true } satisfies Record<keyof AgentActivities, true>),
    ...({ [MCP_LIST_TOOLS_ACTIVITY]: true, [MCP_CALL_ACTIVITY]: true } satisfies Record<keyof McpActivities, true>),
    ...({
      [REPLY_STATUS_ACTIVITY]: true,
      [REPLY_ANSWER_ACTIVITY]: true,
      [REPLY_APPROVAL_ACTIVITY]: true,
      [REPLY_APPROVAL_ENDED_ACTIVITY]: true,
    } satisfies Record<keyof ReplyActivities, true>),
    ...({ [LOAD_CONVERSATION_ACTIVITY]: true, [SAVE_CONVERSATION_ACTIVITY]: true } satisfies Record<
      keyof ConversationStoreActivities,
      true
    >),
    ...({ [FOLLOW_VERSION_ACTIVITY]: true } satisfies Record<keyof VersionActivities, true>),
    ...({
      [AMBIENT_BEGIN_ACTIVITY]: true,
      [AMBIENT_CHECK_ACTIVITY]: true,
      [AMBIENT_DELIVER_ACTIVITY]: true,
      [AMBIENT_REMEMBER_ACTIVITY]: true,
    } satisfies Record<keyof AmbientActivities, true>),
  }),
);
const WORKFLOW_TYPES = new Set([AGENT_RUN_WORKFLOW, CONVERSATION_WORKFLOW, AMBIENT_RUN_WORKFLOW, VIEW_CONTEXT_WORKFLOW]);
const SIGNALS = new Set([TURN_PROGRESS_SIGNAL, APPROVAL_REQUESTED_SIGNAL, APPROVAL_CLOSED_SIGNAL]);
const UPDATES = new Set([MESSAGE_UPDATE, APPROVAL_UPDATE, APPROVAL_VERDICT_UPDATE, STOP_UPDATE, VIEW_CONTEXT_UPDATE]);

interface RecordedNames {
  activities: Set<string>;
  workflows: Set<string>;
  signals: Set<string>;
  updates: Set<string>;
}

/** The wire names in the histories the replay tests keep: names running workflows already use. */
function recordedNames(): RecordedNames {
  const directory = fileURLToPath(new URL('../replay/histories/', import.meta.url));
  const names: RecordedNames = { activities: new Set(), workflows: new Set(), signals: new Set(), updates: new Set() };
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.json'))) {
    const { history } = JSON.parse(readFileSync(`${directory}${file}`, 'utf8')) as {
      history: { events: Record<string, Record<string, unknown> | undefined>[] };
    };
    for (const event of history.events) {
      const activity = event.activityTaskScheduledEventAttributes?.activityType as { name: string } | undefined;
      const started = (event.workflowExecutionStartedEventAttributes ?? event.startChildWorkflowExecutionInitiatedEventAttributes)
        ?.workflowType as { name: string } | undefined;
      const signal = (event.workflowExecutionSignaledEventAttributes ?? event.signalExternalWorkflowExecutionInitiatedEventAttributes)
        ?.signalName as string | undefined;
      const update = (event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest as { input: { name: string } } | undefined)
        ?.input.name;
      if (activity) names.activities.add(activity.name);
      if (started) names.workflows.add(started.name);
      if (signal) names.signals.add(signal);
      if (update) names.updates.add(update);
    }
  }
  return names;
}

describe('wire names', () => {
  const recorded = recordedNames();

  it('recorded histories use only names the contracts define, so none was renamed in place', () => {
    expect([...recorded.activities].filter((name) => !ACTIVITY_TYPES.has(name) && !name.startsWith(toolActivityType('')))).toEqual([]);
    expect([...recorded.workflows].filter((name) => !WORKFLOW_TYPES.has(name))).toEqual([]);
    expect([...recorded.signals].filter((name) => !SIGNALS.has(name))).toEqual([]);
    expect([...recorded.updates].filter((name) => !UPDATES.has(name))).toEqual([]);
    // The histories do exercise each kind of name.
    expect(Math.min(recorded.activities.size, recorded.workflows.size, recorded.signals.size, recorded.updates.size)).toBeGreaterThan(0);
  });

  it('the worker registers each workflow under its constant: the exported function names', () => {
    const exported = Object.entries(workflows)
      .filter(([, value]) => typeof value === 'function')
      .map(([name, value]) => {
        expect((value as () => unknown).name).toBe(name);
        return name;
      });
    expect(exported.sort()).toEqual([...WORKFLOW_TYPES].sort());
  });
});
