import { ApplicationFailure, Context } from '@temporalio/activity';
import { MAX_AMBIENT_CHECK_CONTEXT_CHARS, MAX_AMBIENT_CURSOR_CHARS, type AmbientCheckResult } from '../../core/ambient.ts';
import {
  AMBIENT_BEGIN_ACTIVITY,
  AMBIENT_CHECK_ACTIVITY,
  AMBIENT_DELIVER_ACTIVITY,
  AMBIENT_REMEMBER_ACTIVITY,
  type AmbientActivities,
  type AmbientDelivered,
  type AmbientDeliverInput,
} from '../../core/contracts/ambient.ts';
import type { ReplyChannel } from '../../core/conversation.ts';
import type { AgentDefinition } from '../../authoring/define-agent.ts';
import { emailConversationId, slackConversationId } from '../../events/inbound-event.ts';
import type { TriggerSpec } from '../../core/triggers.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import type { AmbientMemoryStore } from '../../store/ambient-memory.ts';
import type { ReplyAdapter, ReplyAdapters } from '../replies/reply-channel.ts';

/** How often delivery heartbeats; the workflow's heartbeat timeout is a few of these. */
const DELIVERY_HEARTBEAT_MS = 2_000;

export interface AmbientActivityDeps {
  /** The agents whose checks may run, by name. */
  agents: Iterable<AgentDefinition>;
  memory: AmbientMemoryStore;
  /** The same adapters conversations reply through; Slack and email start the new threads. */
  replyAdapters: ReplyAdapters;
  /** Where an answer too large for history is stored. */
  store: TranscriptStore;
  /** Domain of the agents' own addresses (`<agent>@<domain>`), as the dispatcher's `EMAIL_AGENT_DOMAIN`. @default none: email triggers fail, naming the variable */
  emailDomain?: string;
}

/**
 * The worker's side of an ambient run: the trigger's memory, the agent's check (its code
 * lives here, never in the workflow), and delivery of the result as a new thread through the
 * reply adapters.
 */
export function createAmbientActivities(deps: AmbientActivityDeps): AmbientActivities {
  const agents = new Map<string, AgentDefinition>();
  for (const agent of deps.agents) agents.set(agent.name, agent);

  const agentAddress = (agent: string) => {
    if (!deps.emailDomain) {
      throw ApplicationFailure.nonRetryable(
        `Agent "${agent}" has an email trigger, but EMAIL_AGENT_DOMAIN is not set: emails go from <agent>@<EMAIL_AGENT_DOMAIN>.`,
        'AmbientEmailUnavailable',
      );
    }
    return `${agent}@${deps.emailDomain}`;
  };
  const subjectOf = (agent: string, trigger: TriggerSpec) => `[${agent}] ${trigger.id}`;
  const adapterFor = (kind: 'slack' | 'email'): ReplyAdapter & Required<Pick<ReplyAdapter, 'startThread'>> => {
    const adapter = deps.replyAdapters[kind];
    if (!adapter?.startThread) {
      throw ApplicationFailure.nonRetryable(
        `This worker has no ${kind} reply adapter that can start a thread (it has: ${Object.keys(deps.replyAdapters).join(', ') || 'none'}).`,
        'NoReplyAdapter',
      );
    }
    return adapter as ReplyAdapter & Required<Pick<ReplyAdapter, 'startThread'>>;
  };

  return {
    async [AMBIENT_BEGIN_ACTIVITY]({ agent, trigger, workflowId }) {
      const memory = await deps.memory.load(agent, trigger.id);
      let approvalChannel: ReplyChannel;
      if (trigger.deliver.kind === 'slack') {
        approvalChannel = { kind: 'slack', teamId: trigger.deliver.team ?? '', channelId: trigger.deliver.channel, threadTs: '' };
      } else {
        const root = memory?.emailThreadRoot;
        approvalChannel = {
          kind: 'email',
          from: agentAddress(agent),
          to: trigger.deliver.to,
          subject: subjectOf(agent, trigger),
          inReplyTo: root ?? '',
          references: root ? [root] : [],
          // An emailed decision comes back to this run, which hosts the approval desk.
          conversationId: workflowId,
        };
      }
      return { ...(memory ? { memory } : {}), approvalChannel };
    },

    async [AMBIENT_CHECK_ACTIVITY]({ agent, trigger, memory, cursor }) {
      const definition = agents.get(agent);
      if (!definition) throw ApplicationFailure.nonRetryable(`No agent named "${agent}" on this worker.`, 'UnknownAgent');
      if (!definition.check) return { quiet: false, declared: false };
      const verdict = await definition.check({
        trigger,
        ...(memory ? { memory } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
        signal: Context.current().cancellationSignal,
      });
      return { ...checked(agent, verdict), declared: true };
    },

    async [AMBIENT_DELIVER_ACTIVITY](input): Promise<AmbientDelivered> {
      // Beats while Slack or SES answers, so a worker that dies mid-delivery is noticed in seconds and the retry finds the post.
      const context = Context.current();
      const beat = setInterval(() => context.heartbeat(), DELIVERY_HEARTBEAT_MS);
      try {
        return await deliver(input);
      } finally {
        clearInterval(beat);
      }
    },

    async [AMBIENT_REMEMBER_ACTIVITY](input) {
      return deps.memory.remember(input);
    },
  };

  async function deliver({ agent, trigger, key, text, textRef, emailThreadRoot }: AmbientDeliverInput): Promise<AmbientDelivered> {
    const whole = textRef ? await deps.store.get<string>(textRef) : text;
    if (trigger.deliver.kind === 'slack') {
      const started = await adapterFor('slack').startThread(
        { kind: 'slack', channelId: trigger.deliver.channel, ...(trigger.deliver.team ? { teamId: trigger.deliver.team } : {}) },
        key,
        whole,
      );
      if (started.kind !== 'slack') throw new Error('The Slack adapter started a thread of another kind');
      return { ...started, conversationId: slackConversationId(started.teamId, started.channelId, started.ts) };
    }
    const started = await adapterFor('email').startThread(
      {
        kind: 'email',
        from: agentAddress(agent),
        to: trigger.deliver.to,
        subject: subjectOf(agent, trigger),
        ...(emailThreadRoot ? { threadRoot: emailThreadRoot } : {}),
      },
      key,
      whole,
    );
    if (started.kind !== 'email') throw new Error('The email adapter started a thread of another kind');
    return {
      kind: 'email',
      messageId: started.messageId,
      threadRoot: emailThreadRoot ?? started.messageId,
      conversationId: emailConversationId(started.messageId),
    };
  }
}

/** A check's verdict as the workflow may record it: the right shape, a bounded cursor, a bounded context. */
function checked(agent: string, verdict: AmbientCheckResult): AmbientCheckResult {
  const fail = (problem: string) => ApplicationFailure.nonRetryable(`The check of agent "${agent}" ${problem}.`, 'AmbientCheckInvalid');
  if (typeof verdict !== 'object' || verdict === null || typeof verdict.quiet !== 'boolean')
    throw fail('returned neither { quiet: true, reason } nor { quiet: false }');
  if (verdict.quiet) return { quiet: true, reason: String(verdict.reason ?? '').slice(0, 300) || 'nothing new' };
  if (verdict.cursor !== undefined && (typeof verdict.cursor !== 'string' || verdict.cursor.length > MAX_AMBIENT_CURSOR_CHARS)) {
    throw fail(`returned a cursor that is not a string of at most ${MAX_AMBIENT_CURSOR_CHARS} characters`);
  }
  const context = verdict.context === undefined ? undefined : String(verdict.context);
  return {
    quiet: false,
    ...(verdict.cursor !== undefined ? { cursor: verdict.cursor } : {}),
    ...(context !== undefined
      ? {
          context:
            context.length > MAX_AMBIENT_CHECK_CONTEXT_CHARS ? `${context.slice(0, MAX_AMBIENT_CHECK_CONTEXT_CHARS)}\n… (cut)` : context,
        }
      : {}),
  };
}
