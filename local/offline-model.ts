import { NOTHING_NEW } from '../core/ambient.ts';
import type { Content, FunctionResponse } from '../core/spec.ts';
import type { GeminiReply, GeminiRequest } from './gemini-server.ts';

/**
 * The model of offline mode: a few rules that pick a declared tool from the user's words
 * and phrase an answer from the tool results. Enough to show a durable run end to end
 * without an API key; not a language model.
 */
export function offlineModel(request: GeminiRequest): GeminiReply {
  const declared = new Set(request.body.tools?.flatMap((tool) => tool.functionDeclarations ?? []).map((d) => d.name) ?? []);
  const last = request.body.contents.at(-1);
  const responses = last?.parts.flatMap((part) => (part.functionResponse ? [part.functionResponse] : [])) ?? [];
  if (responses.length > 0) return say(responses.map(describeResult).join('\n'));

  const question = lastUserText(request.body.contents);
  const ambient = ambientAnswer(question, declared);
  if (ambient !== undefined) return typeof ambient === 'string' ? say(ambient) : callTool(ambient);
  const call = pickScheduleTool(question, request.body.contents, declared) ?? pickTool(question, declared);
  if (call) return callTool(call);
  return say(
    `(offline model) I can answer questions about the time in a city, arithmetic, the team handbook, expense claims, US weather alerts and IP locations. I could not match "${question.slice(0, 120)}" to any of them.`,
  );
}

/**
 * A scheduled run's prompt (core/ambient.ts ambientPrompt): the check's findings become the
 * post, one bullet per change. Without findings, a chat-made trigger's own prompt is followed
 * (a reminder is repeated, a tool is called); anything else has nothing new.
 */
function ambientAnswer(prompt: string, declared: Set<string>): string | ToolCall | undefined {
  if (!prompt.startsWith('[Scheduled run of trigger') || !prompt.includes(NOTHING_NEW)) return undefined;
  const found = /\nWhat the check found:\n([\s\S]*?)\n\nIf nothing is new/.exec(prompt)?.[1]?.trim();
  if (!found) {
    // A definition's trigger without findings has nothing new; a chat-made one ("chat-…") has no check to find anything.
    if (!prompt.startsWith('[Scheduled run of trigger "chat-')) return NOTHING_NEW;
    const own = prompt.split('\n')[2]?.trim() ?? '';
    if (/^remind\b/i.test(own)) return `Reminder: ${own.replace(/^remind (?:me|us)\s*(?:to\s+)?/i, '')}`;
    return pickTool(own, declared) ?? NOTHING_NEW;
  }
  const [heading, ...items] = found.split('\n');
  const bullets = items.filter((line) => line.startsWith('- ')).map((line) => `- ${line.slice(2, 300).trim()}`);
  return [`**${heading}**`, '', ...bullets].join('\n');
}

function say(text: string): GeminiReply {
  return { content: { role: 'model', parts: [{ text }] } };
}

interface ToolCall {
  name: string;
  args: Record<string, unknown>;
}

function callTool(call: ToolCall): GeminiReply {
  return { content: { role: 'model', parts: [{ functionCall: { name: call.name, args: call.args } }] } };
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const CHAT_SCHEDULE_ID = /\b(ambient:(?:[A-Za-z0-9._-]+:)?[A-Za-z0-9_-]+:chat-[0-9a-f]{8}|chat-[0-9a-f]{8})\b/g;

/**
 * Schedules in chat: "what are my schedules", "stop schedule <id>" (or "stop that one": the
 * last id the conversation mentioned), and "every weekday at 8 …", "every Monday at 9 …",
 * "every 30 minutes …", "remind me every … to …" become create_schedule with a parsed cron.
 */
function pickScheduleTool(question: string, contents: Content[], declared: Set<string>): ToolCall | undefined {
  const lower = question.toLowerCase();
  if (declared.has('list_my_schedules') && /\b(what|which|list|show)\b.*\bmy schedules\b|^my schedules\b/.test(lower))
    return { name: 'list_my_schedules', args: {} };
  if (
    declared.has('delete_schedule') &&
    /\b(stop|delete|cancel|remove)\b/.test(lower) &&
    /\bschedule\b|\b(that|this) one\b|chat-[0-9a-f]{8}/.test(lower)
  ) {
    const mentioned = [...question.matchAll(CHAT_SCHEDULE_ID)].map((match) => match[1]!);
    const earlier = contents.flatMap((content) =>
      content.parts.flatMap((part) =>
        [...(part.text ?? JSON.stringify(part.functionResponse ?? '')).matchAll(CHAT_SCHEDULE_ID)].map((match) => match[1]!),
      ),
    );
    const id = mentioned[0] ?? earlier.at(-1);
    return id
      ? { name: 'delete_schedule', args: { id } }
      : declared.has('list_my_schedules')
        ? { name: 'list_my_schedules', args: {} }
        : undefined;
  }
  if (!declared.has('create_schedule')) return undefined;
  const when = parseWhen(question);
  if (!when) return undefined;
  const rest = `${question.slice(0, when.index)} ${question.slice(when.index + when.length)}`
    .replace(/\s+/g, ' ')
    .replace(/\b(please|can you|could you)\b/gi, '')
    .replace(/\s+(here|in this (channel|thread))\s*[.!?]?\s*$/i, '')
    .replace(/\s+in [A-Z][a-z]+\/[A-Za-z_]+\b/, '')
    .trim()
    .replace(/^(?:,\s*)?(?:to\s+)?/i, '');
  const remind = /^remind (me|us)\b/i.test(rest);
  const body = remind ? rest.replace(/^remind (me|us)\s*(?:to\s+)?/i, '') : rest;
  if (!body) return undefined;
  const prompt = `${remind ? 'Remind me to ' : ''}${remind ? body : body[0]!.toUpperCase() + body.slice(1)}`.replace(/[.!?]*$/, '.');
  const zone = /\b([A-Z][a-z]+\/[A-Za-z_]+)\b/.exec(question)?.[1];
  return { name: 'create_schedule', args: { ...when.schedule, ...(zone ? { timezone: zone } : {}), prompt } };
}

/** "every weekday at 8", "every Monday at 9:30am", "every day at 18", "every 15 minutes": a cron or an interval, and where the phrase is. */
function parseWhen(question: string): { schedule: { cron: string } | { every: string }; index: number; length: number } | undefined {
  const interval = /\bevery (\d+ )?(minute|hour)s?\b/i.exec(question);
  if (interval)
    return {
      schedule: { every: `${interval[1]?.trim() ?? '1'} ${interval[2]!.toLowerCase()}s` },
      index: interval.index,
      length: interval[0].length,
    };
  const daily =
    /\bevery (weekday|day|morning|(?:sun|mon|tues|wednes|thurs|fri|satur)day)(?: at (\d{1,2})(?::(\d{2}))?\s*(am|pm)?)?\b/i.exec(question);
  if (!daily) return undefined;
  const [phrase, day, hourText, minuteText, meridiem] = daily;
  let hour = hourText === undefined ? 9 : Number(hourText);
  if (meridiem?.toLowerCase() === 'pm' && hour < 12) hour += 12;
  if (meridiem?.toLowerCase() === 'am' && hour === 12) hour = 0;
  const minute = minuteText === undefined ? 0 : Number(minuteText);
  if (hour > 23 || minute > 59) return undefined;
  const name = day!.toLowerCase();
  const days = name === 'weekday' ? '1-5' : name === 'day' || name === 'morning' ? '*' : String(WEEKDAYS.indexOf(name));
  return { schedule: { cron: `${minute} ${hour} * * ${days}` }, index: daily.index, length: phrase.length };
}

function lastUserText(contents: Content[]): string {
  for (let index = contents.length - 1; index >= 0; index -= 1) {
    const text = contents[index]!.parts.map((part) => part.text ?? '')
      .join(' ')
      .trim();
    if (contents[index]!.role === 'user' && text) return text;
  }
  return '';
}

const CITY_ZONES: Record<string, string> = {
  tokyo: 'Asia/Tokyo',
  osaka: 'Asia/Tokyo',
  seoul: 'Asia/Seoul',
  beijing: 'Asia/Shanghai',
  shanghai: 'Asia/Shanghai',
  'hong kong': 'Asia/Hong_Kong',
  singapore: 'Asia/Singapore',
  mumbai: 'Asia/Kolkata',
  delhi: 'Asia/Kolkata',
  dubai: 'Asia/Dubai',
  moscow: 'Europe/Moscow',
  istanbul: 'Europe/Istanbul',
  berlin: 'Europe/Berlin',
  paris: 'Europe/Paris',
  madrid: 'Europe/Madrid',
  rome: 'Europe/Rome',
  amsterdam: 'Europe/Amsterdam',
  london: 'Europe/London',
  dublin: 'Europe/Dublin',
  lisbon: 'Europe/Lisbon',
  'new york': 'America/New_York',
  boston: 'America/New_York',
  chicago: 'America/Chicago',
  denver: 'America/Denver',
  'los angeles': 'America/Los_Angeles',
  'san francisco': 'America/Los_Angeles',
  seattle: 'America/Los_Angeles',
  toronto: 'America/Toronto',
  'mexico city': 'America/Mexico_City',
  'sao paulo': 'America/Sao_Paulo',
  sydney: 'Australia/Sydney',
  melbourne: 'Australia/Melbourne',
  auckland: 'Pacific/Auckland',
  utc: 'UTC',
};

const STATE_NAMES: Record<string, string> = {
  california: 'CA',
  texas: 'TX',
  florida: 'FL',
  'new york': 'NY',
  washington: 'WA',
  oregon: 'OR',
  colorado: 'CO',
  alaska: 'AK',
  hawaii: 'HI',
  arizona: 'AZ',
  illinois: 'IL',
  ohio: 'OH',
  georgia: 'GA',
  michigan: 'MI',
  nevada: 'NV',
};

function pickTool(question: string, declared: Set<string>): ToolCall | undefined {
  const lower = question.toLowerCase();
  if (declared.has('get_current_time') && /\btime\b|\bclock\b|\bdate\b/.test(lower)) {
    const zone =
      Object.entries(CITY_ZONES).find(([city]) => lower.includes(city))?.[1] ?? /\b([A-Z][a-z]+\/[A-Za-z_]+)\b/.exec(question)?.[1];
    if (zone) return { name: 'get_current_time', args: { timezone: zone } };
  }
  const ip = /\b(\d{1,3}(?:\.\d{1,3}){3})\b/.exec(question)?.[1];
  if (ip && declared.has('get_ip_location')) return { name: 'get_ip_location', args: { ip } };
  if (declared.has('get_weather_alerts') && /weather|alert|storm|warning/.test(lower)) {
    const state = Object.entries(STATE_NAMES).find(([name]) => lower.includes(name))?.[1] ?? /\b([A-Z]{2})\b/.exec(question)?.[1];
    if (state) return { name: 'get_weather_alerts', args: { state } };
  }
  const amount = /(\d+(?:\.\d+)?)\s*(?:eur|euros?|€)/i.exec(question)?.[1];
  if (amount && declared.has('submit_expense') && /expense|claim|reimburse/.test(lower)) {
    return { name: 'submit_expense', args: { description: question.slice(0, 300), amountEur: Number(amount) } };
  }
  if (declared.has('expenses') && /expense|claim|reimburse/.test(lower))
    return { name: 'expenses', args: { task: question.slice(0, 1_000) } };
  const expression = /(-?[\d.]+(?:\s*[-+*/%^]\s*\(?\s*-?[\d.]+\s*\)?)+)/.exec(question)?.[1];
  if (expression && declared.has('calculate')) return { name: 'calculate', args: { expression: expression.trim() } };
  if (declared.has('search_docs') && lower.length > 0) return { name: 'search_docs', args: { query: question.slice(0, 300), limit: 2 } };
  return undefined;
}

function describeResult(result: FunctionResponse): string {
  const { output, error } = result.response as { output?: Record<string, unknown>; error?: { message?: string } };
  if (error) return `The ${result.name} tool did not run: ${error.message ?? 'unknown error'}.`;
  const value = output ?? {};
  switch (result.name) {
    case 'get_current_time':
      return `It is ${String(value.local)} in ${String(value.timezone)} (from the get_current_time tool).`;
    case 'calculate':
      return `${String(value.expression)} = ${String(value.value)} (from the calculate tool).`;
    case 'get_ip_location':
      return `${String(value.ip)} is near ${[value.city, value.region, value.country].filter(Boolean).join(', ')} (from the get_ip_location tool).`;
    case 'get_weather_alerts': {
      const alerts = (value.alerts as { headline?: string; event?: string }[] | undefined) ?? [];
      if (alerts.length === 0) return `There are no active weather alerts for ${String(value.state)}.`;
      return `${String(value.count)} active alert(s) for ${String(value.state)}: ${alerts.map((alert) => alert.headline ?? alert.event).join('; ')}.`;
    }
    case 'search_docs': {
      const matches = (value.matches as { file: string; heading: string; excerpt: string }[] | undefined) ?? [];
      if (matches.length === 0) return 'The handbook has nothing on that.';
      return matches.map((match) => `From ${match.file} (${match.heading}): ${match.excerpt.slice(0, 300)}`).join('\n');
    }
    case 'submit_expense': {
      const claim = value.claim as { id: string; amountEur: number } | undefined;
      return claim
        ? `Filed expense claim ${claim.id} for ${claim.amountEur} EUR (from the submit_expense tool).`
        : 'The claim was not filed.';
    }
    case 'expenses':
      return `The expenses agent says: ${String(value.answer)}`;
    case 'create_schedule': {
      const created = value.created as ScheduleSummary;
      return `Scheduled ${created.id}: ${created.when} (${created.timezone}), "${created.prompt}", posting to ${whereTo(created.deliver)}${created.nextRun ? `; next run ${created.nextRun}` : ''}. ${String(value.stop)}`;
    }
    case 'list_my_schedules': {
      const schedules = (value.schedules as ScheduleSummary[] | undefined) ?? [];
      if (schedules.length === 0) return 'You have no schedules.';
      return [
        `Your schedules (${schedules.length} of ${String(value.limit)}):`,
        ...schedules.map((item) => `- ${item.id}: ${item.when} (${item.timezone}), "${item.prompt}"${item.paused ? ', paused' : ''}`),
      ].join('\n');
    }
    case 'delete_schedule':
      return `Stopped schedule ${String(value.deleted)}.`;
    default:
      return `The ${result.name} tool returned ${JSON.stringify(value).slice(0, 300)}.`;
  }
}

interface ScheduleSummary {
  id: string;
  when: string;
  timezone: string;
  prompt: string;
  paused?: boolean;
  nextRun?: string;
  deliver: { kind: 'slack'; channel: string } | { kind: 'email'; to: string[] };
}

function whereTo(deliver: ScheduleSummary['deliver']): string {
  return deliver.kind === 'slack' ? `Slack channel ${deliver.channel}` : deliver.to.join(', ');
}
