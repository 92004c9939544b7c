import { isShutDown, modelInfo } from '../core/models.ts';
import type { Content } from '../core/spec.ts';

/** The parts of a request these rules read. */
interface RequestShape {
  contents: Content[];
  generationConfig?: { thinkingConfig?: { thinkingBudget?: unknown; thinkingLevel?: unknown } };
}

export interface Refusal {
  status: number;
  message: string;
}

const LEVELS = new Set(['MINIMAL', 'LOW', 'MEDIUM', 'HIGH']);

/**
 * What Gemini 3's API refuses before it runs a model, as it says it: a shut-down model (404),
 * a thinking budget (Gemini 3 takes a level; both at once is always a 400), and a function-call
 * turn of the current exchange sent back without its thought signature. Models the table marks
 * as thinking by budget (Gemini 2.x) keep their old rules.
 */
export function refusalOf(model: string, body: RequestShape, now = Date.now()): Refusal | undefined {
  const info = modelInfo(model);
  if (info && isShutDown(info, now)) {
    return {
      status: 404,
      message: `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
    };
  }
  const thinking = body.generationConfig?.thinkingConfig;
  const budgetModel = info?.thinking === 'budget';
  if (thinking?.thinkingBudget !== undefined && thinking.thinkingLevel !== undefined) {
    return { status: 400, message: 'Unable to submit request because thinking_budget and thinking_level are not supported together.' };
  }
  if (thinking?.thinkingBudget !== undefined && !budgetModel) {
    return {
      status: 400,
      message: `Unable to submit request because thinking_budget is not supported by ${model}; set thinking_level instead.`,
    };
  }
  if (thinking?.thinkingLevel !== undefined) {
    if (budgetModel) return { status: 400, message: `Unable to submit request because thinking_level is not supported by ${model}.` };
    if (!LEVELS.has(String(thinking.thinkingLevel).toUpperCase())) {
      return {
        status: 400,
        message: `Invalid value at 'generation_config.thinking_config.thinking_level' (type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig.ThinkingLevel), "${String(thinking.thinkingLevel)}"`,
      };
    }
  }
  if (!budgetModel) return missingSignature(body.contents);
  return undefined;
}

/**
 * The current exchange runs from the last user message that is not function responses. In it,
 * the first function call of every model turn must carry the signature the model gave it.
 */
function missingSignature(contents: Content[]): Refusal | undefined {
  let start = 0;
  contents.forEach((content, index) => {
    if (content.role === 'user' && !content.parts.some((part) => part.functionResponse)) start = index;
  });
  for (let index = start; index < contents.length; index += 1) {
    const content = contents[index]!;
    if (content.role !== 'model') continue;
    const first = content.parts.find((part) => part.functionCall);
    if (first && !first.thoughtSignature) {
      return {
        status: 400,
        message: `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly. Additional data, function call \`${first.functionCall!.name}\`, position ${index + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
      };
    }
  }
  return undefined;
}

/** Gemini 3 signs the first function call of each response; the client must send it back as given. */
export function withSignatures(model: string, content: Content, requestIndex: number): Content {
  if (modelInfo(model)?.thinking === 'budget') return content;
  let signed = false;
  return {
    ...content,
    parts: content.parts.map((part) => {
      if (!part.functionCall || signed) return part;
      signed = true;
      return part.thoughtSignature
        ? part
        : { ...part, thoughtSignature: Buffer.from(`stand-in-signature:${requestIndex}:${part.functionCall.name}`).toString('base64') };
    }),
  };
}
