/**
 * The model activity: one Gemini call per agent step, on its own task queue. Wire contract:
 * the key is the activity type, recorded in every history, never renamed in place.
 */

import type { ReplyChannel } from '../conversation.ts';
import type { MessageRef, PlannedCall, TokenUsage, ToolResultRef } from '../spec.ts';
import type { ToolConversation } from './tools.ts';

/** Input of the model activity: references only, so history grows by a constant per step. */
export interface ModelStepInput {
  /** The stored AgentSpec (instructions, tool declarations, model id). */
  specRef: MessageRef;
  /** The transcript so far: the newest node of a chain in the store. */
  head: MessageRef;
  /** Results of the previous step's tool calls, appended before the model is called. */
  toolResults?: ToolResultRef[];
  /**
   * Where the answer is streamed while the model writes it (a turn's own run on a channel that
   * streams): the worker sends the chunks straight there; only this target passes through
   * history. @default not streamed
   */
  stream?: { channel: ReplyChannel; key: string };
  /**
   * When the run's time budget ends (epoch milliseconds): the call is abandoned then, with a
   * non-retryable `RUN_TIME_LIMIT` failure. @default none: only the activity's timeouts
   */
  deadlineAt?: number;
  /**
   * Who the call is for, when the spec has daily caps: the worker admits the call under the
   * person's and the agent's counters first, and refuses it with `BudgetExceeded` past a cap.
   * @default no daily caps checked
   */
  budget?: { person?: string };
  /**
   * Tools the worker may run in this same call, right after the model answers, when every
   * call of the answer names one of them and there are at most `maxCalls`: read-only tools
   * that ask no one (`readOnlyStep`). Their results come back in the result's `toolResults`,
   * so such a step is one local activity. Any failure leaves them to the workflow, which runs
   * them with each tool's own retries. @default none: the calls come back for the workflow to run
   */
  readOnlyTools?: ReadOnlyToolOffer;
}

/** The read-only tools a model call may run itself (`ModelStepInput.readOnlyTools`). */
export interface ReadOnlyToolOffer {
  /** Each tool's name and its start-to-close timeout. */
  tools: { name: string; timeoutMs: number }[];
  /** The step's cap on calls (`maxToolCallsPerStep`): an answer with more is left to the workflow. */
  maxCalls: number;
  /** Who the calls answer, as a tool activity gets it. @default absent (a run started on its own) */
  conversation?: ToolConversation;
}

/** Failure type of a model call abandoned at its run's `deadlineAt`. */
export const RUN_TIME_LIMIT = 'RunTimeLimit';

export interface ModelStepResult {
  /** The transcript with the model's response appended. */
  head: MessageRef;
  calls: PlannedCall[];
  /** The answer when there are no calls (cut at `MAX_INLINE_TEXT_BYTES`, see `textRef`). */
  text: string;
  /** Set when `text` was cut: the whole response text is stored here. */
  textRef?: MessageRef;
  usage: TokenUsage;
  finishReason?: string;
  /** Set when the worker ran the answer's calls itself (`ModelStepInput.readOnlyTools`): one result per call, in order. */
  toolResults?: ToolResultRef[];
}

export interface ModelActivities {
  /** Appends the last tool results, calls the model on the context, stores its response. */
  callModel: (input: ModelStepInput) => Promise<ModelStepResult>;
}
