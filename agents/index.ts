import { fileURLToPath } from 'node:url';
import { defineAgent, toolsOf, type AgentDefinition } from '../core/define-agent.ts';
import type { ToolDefinition } from '../core/define-tool.ts';
import { calculatorTool } from './tools/calculator.ts';
import { currentTimeTool } from './tools/current-time.ts';
import { createIpLocationTool } from './tools/ip-location.ts';
import { createSearchDocsTool } from './tools/search-docs.ts';
import { createSubmitExpenseTool } from './tools/submit-expense.ts';
import { createWeatherAlertsTool } from './tools/weather-alerts.ts';

export interface AgentSettings {
  /** @default the handbook shipped in agents/docs */
  docsDirectory?: string;
  weatherBaseUrl?: string;
  ipLocationBaseUrl?: string;
  /** Overrides every agent's model (e.g. `GEMINI_MODEL`). */
  model?: string;
  /** Where the expenses agent files claims. @default '.data/expenses.jsonl' */
  expensesFile?: string;
}

export const DEFAULT_DOCS_DIRECTORY = fileURLToPath(new URL('./docs', import.meta.url));

export interface AgentRegistry {
  agents: Map<string, AgentDefinition>;
  /** Every tool of every agent, once: what the worker registers as activities. */
  tools: ToolDefinition[];
  defaultAgent: string;
  get(name: string): AgentDefinition;
}

export function createAgentRegistry(settings: AgentSettings = {}): AgentRegistry {
  const searchDocs = createSearchDocsTool({ directory: settings.docsDirectory ?? DEFAULT_DOCS_DIRECTORY });
  const weatherAlerts = createWeatherAlertsTool({ ...(settings.weatherBaseUrl ? { baseUrl: settings.weatherBaseUrl } : {}) });
  const ipLocation = createIpLocationTool({ ...(settings.ipLocationBaseUrl ? { baseUrl: settings.ipLocationBaseUrl } : {}) });
  const model = settings.model ? { model: settings.model } : {};

  const expenses = defineAgent({
    name: 'expenses',
    ...model,
    description: 'Answers questions about the expense policy and files expense claims (large claims wait for approval).',
    instructions: [
      'You handle expenses: check the policy in the handbook, then file the claim with submit_expense when asked to.',
      'If a claim is denied or times out, say so plainly; never file it again unasked.',
    ].join(' '),
    tools: [searchDocs, createSubmitExpenseTool({ file: settings.expensesFile ?? '.data/expenses.jsonl' })],
    limits: { maxSteps: 6 },
  });

  const list = [
    defineAgent({
      name: 'assistant',
      ...model,
      instructions: [
        'You are a helpful assistant for a software team.',
        'Use the tools for anything they cover: the time in a place, arithmetic, the team handbook, US weather alerts, the location of an IP address.',
        'Hand expense claims to the expenses agent.',
        'Answer briefly and say which tool results you relied on.',
      ].join(' '),
      tools: [currentTimeTool, calculatorTool, searchDocs, weatherAlerts, ipLocation],
      subAgents: [expenses],
    }),
    expenses,
    defineAgent({
      name: 'weather',
      ...model,
      instructions:
        'You report active US weather alerts. When given an IP address, find its location first, then the alerts for its state. Use two-letter state codes.',
      tools: [ipLocation, weatherAlerts],
    }),
  ];

  const agents = new Map(list.map((agent) => [agent.name, agent]));
  const tools = toolsOf(list);
  return {
    agents,
    tools,
    defaultAgent: 'assistant',
    get(name) {
      const agent = agents.get(name);
      if (!agent) throw new Error(`No agent named "${name}". Agents: ${[...agents.keys()].join(', ')}.`);
      return agent;
    },
  };
}
