import type { OperatorService } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.ts';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const INDEXED_VALUE_TYPE = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
} as const;
const TYPE_NAMES = { KEYWORD: 'Keyword', DATETIME: 'Datetime' } as const;

/** The attributes as the CLIs take them: `AgentName=Keyword`. */
function spelled(key: (typeof SEARCH_ATTRIBUTE_KEYS)[number]): string {
  return `${key.name}=${TYPE_NAMES[key.type]}`;
}

/**
 * Which of this project's search attributes the namespace lacks (or has with another type),
 * as `Name=Type`; undefined when the namespace's list cannot be read (a key without the
 * permission): then nothing is known, and the caller goes on. Conversations and runs set
 * them from their first task: without them every start is refused (INVALID_ARGUMENT).
 */
export async function missingSearchAttributes(operator: OperatorService, namespace: string): Promise<string[] | undefined> {
  let custom: Record<string, unknown>;
  try {
    custom = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch {
    return undefined;
  }
  return SEARCH_ATTRIBUTE_KEYS.filter((key) => Number(custom[key.name]) !== INDEXED_VALUE_TYPE[key.type]).map(spelled);
}

/** One line naming the fix: the commands that register what is missing. */
export function registerSearchAttributesHint(namespace: string, missing: string[]): string {
  const tcld = missing.map((attribute) => `--search-attribute "${attribute}"`).join(' ');
  const self = missing.map((attribute) => `--name ${attribute.replace('=', ' --type ')}`).join(' ');
  return (
    `The namespace "${namespace}" lacks the search attributes ${missing.join(', ')}: register them, then start again ` +
    `(Temporal Cloud: tcld namespace search-attributes add --namespace <namespace>.<account> ${tcld}; ` +
    `self-hosted: temporal operator search-attribute create --namespace ${namespace} ${self}).`
  );
}

/** Whether a refused request was about a search attribute the namespace does not know: a setup step, not a bad request. */
export function isUnknownSearchAttribute(error: unknown): boolean {
  const messages: string[] = [];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth += 1)
    messages.push(current.message);
  return messages.some(
    (message) => /search attribute/i.test(message) && /no mapping|not defined|unknown|not registered|not found/i.test(message),
  );
}
