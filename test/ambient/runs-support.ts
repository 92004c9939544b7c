import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createAgentRegistry, DEFAULT_DOCS_DIRECTORY, type AgentSettings } from '../../agents/index.ts';
import { AMBIENT_RUN_WORKFLOW, type AmbientRunInput, type AmbientRunResult } from '../../core/ambient.ts';
import type { TriggerSpec } from '../../core/triggers.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiRequest } from '../../local/gemini-server.ts';
import { startStandIn, type StandIn } from '../../testkit/stand-ins.ts';

export type { StandIn };

/** A copy of the handbook the test may change. */
export function handbookCopy(): string {
  const directory = join(mkdtempSync(join(tmpdir(), 'handbook-')), 'docs');
  cpSync(DEFAULT_DOCS_DIRECTORY, directory, { recursive: true });
  return directory;
}

export function exampleAgents(settings: AgentSettings) {
  return createAgentRegistry(settings);
}

/** The agent's first trigger, with its delivery overridden. */
export function triggerOf(trigger: TriggerSpec, deliver?: TriggerSpec['deliver']): TriggerSpec {
  return { ...trigger, ...(deliver ? { deliver } : {}) };
}

export async function runAmbient(
  client: Client,
  taskQueue: string,
  input: Omit<AmbientRunInput, 'origin'>,
  workflowId?: string,
): Promise<{ workflowId: string; result: AmbientRunResult }> {
  const id = workflowId ?? `ambient:${input.agent}:${input.trigger.id}-${crypto.randomUUID()}`;
  const result = await client.workflow.execute<(input: AmbientRunInput) => Promise<AmbientRunResult>>(AMBIENT_RUN_WORKFLOW, {
    taskQueue,
    workflowId: id,
    args: [{ ...input, origin: 'definition' }],
  });
  return { workflowId: id, result };
}

/** Every text the model was shown in a request, of the given role. */
export function textsOf(request: GeminiRequest, role: 'user' | 'model'): string[] {
  return (request.body.contents as Content[])
    .filter((content) => content.role === role)
    .flatMap((content) => content.parts.flatMap((part) => (part.text === undefined ? [] : [part.text])));
}

export interface Alert {
  id: string;
  properties: { event: string; headline: string; severity: string; areaDesc: string };
}

/** The National Weather Service's `/alerts/active?area=XX`, answering whatever `alerts` holds for the state now. */
/** The National Weather Service's `/alerts/active?area=XX`, answering the given alerts per state. */
export function startAlertsStandIn(alerts: Record<string, Alert[]>): Promise<StandIn> {
  return startStandIn((url) =>
    url.pathname === '/alerts/active'
      ? { body: { type: 'FeatureCollection', features: alerts[url.searchParams.get('area') ?? ''] ?? [] } }
      : undefined,
  );
}

export function alert(id: string, headline: string): Alert {
  return {
    id: `https://api.weather.gov/alerts/${id}`,
    properties: { event: headline.split(' for ')[0]!, headline, severity: 'Severe', areaDesc: 'San Francisco Bay' },
  };
}
