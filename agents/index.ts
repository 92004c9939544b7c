import { fileURLToPath } from 'node:url';
import { defineAgent, toolsOf, type AgentDefinition } from '../authoring/define-agent.ts';
import type { ToolDefinition } from '../authoring/define-tool.ts';
import { createAlertWatchCheck } from './ambient/alert-watch.ts';
import { createHandbookDigestCheck } from './ambient/handbook-digest.ts';
import { calculatorTool } from './tools/calculator.ts';
import { currentTimeTool } from './tools/current-time.ts';
import { createIpLocationTool } from './tools/ip-location.ts';
import { createScheduleTools, type ScheduleToolsOptions } from './tools/schedules.ts';
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
  /** Slack channel the handbook digest is posted to. @default 'C0HANDBOOK' */
  handbookDigestChannel?: string;
  /** US states the weather watcher follows. @default ['CA'] */
  weatherWatchStates?: string[];
  /** Who the weather watcher emails. @default ['oncall@example.com'] */
  weatherWatchRecipients?: string[];
  /**
   * The Temporal client (and task queue) the schedule tools manage schedules with: given, the
   * assistant can make, list and stop schedules from chat. @default absent: no schedule tools
   */
  schedules?: ScheduleToolsOptions;
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
        ...(settings.schedules
          ? [
              'When someone asks for something to happen every so often ("every weekday at 8 …", "remind me every Monday …"), propose it with create_schedule; list_my_schedules and delete_schedule show and stop theirs.',
            ]
          : []),
        'Answer briefly and say which tool results you relied on.',
      ].join(' '),
      tools: [
        currentTimeTool,
        calculatorTool,
        searchDocs,
        weatherAlerts,
        ipLocation,
        ...(settings.schedules ? createScheduleTools(settings.schedules) : []),
      ],
      subAgents: [expenses],
      suggestedPrompts: [
        { title: 'What time is it in Tokyo?', message: 'What time is it in Tokyo right now?' },
        { title: 'Weather alerts', message: 'Are there any weather alerts in Texas?' },
        { title: 'Search the handbook', message: 'What does the team handbook say about on-call?' },
      ],
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

  const weatherWatchStates = settings.weatherWatchStates ?? ['CA'];
  list.push(
    defineAgent({
      name: 'handbook-digest',
      ...model,
      description: 'Posts a digest of what changed in the team handbook.',
      instructions: [
        'You write a short digest of what changed in the team handbook for the team channel: one line per changed document, saying what it now says.',
        'Use search_docs when a change needs more context. Never invent changes that the check did not report.',
      ].join(' '),
      tools: [searchDocs],
      check: createHandbookDigestCheck({ directory: settings.docsDirectory ?? DEFAULT_DOCS_DIRECTORY }),
      triggers: [
        {
          id: 'daily',
          cron: '0 8 * * 1-5',
          timezone: 'Europe/Berlin',
          prompt: 'Post the daily digest of what changed in the team handbook since the last run.',
          deliver: { kind: 'slack', channel: settings.handbookDigestChannel ?? 'C0HANDBOOK' },
        },
      ],
      limits: { maxSteps: 4 },
    }),
    defineAgent({
      name: 'weather-watch',
      ...model,
      description: 'Watches US weather alerts and speaks only when a new one appears.',
      instructions: [
        `You watch active US weather alerts for ${weatherWatchStates.join(', ')} and tell on-call about new ones: what, where, how severe, until when.`,
        'Report only the alerts the check lists as new; use get_weather_alerts for details.',
      ].join(' '),
      tools: [weatherAlerts],
      check: createAlertWatchCheck({
        ...(settings.weatherBaseUrl ? { baseUrl: settings.weatherBaseUrl } : {}),
        states: weatherWatchStates,
      }),
      triggers: [
        {
          id: 'new-alerts',
          every: '15 minutes',
          prompt: `Report any new weather alert for ${weatherWatchStates.join(', ')}.`,
          deliver: { kind: 'email', to: settings.weatherWatchRecipients ?? ['oncall@example.com'] },
        },
      ],
      limits: { maxSteps: 4 },
    }),
  );

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
