import type { GeminiReply, GeminiRequest } from '../local/gemini-server.ts';
import { offlineModel } from '../local/offline-model.ts';

const NO_TOOLS = /\b(do not|don't|never) (use|call) (any )?tools\b|\bwithout (using )?(any )?tools\b/i;
const NOT_THIS_TOOL = /\b(?:do not|don't|never) (?:use|call) (?:the )?([a-z_][a-z0-9_-]*)\b/gi;

/**
 * The offline model of evals: `npm start`'s scripted model, which also heeds the one kind of
 * instruction a prompt change is most often about, which tools to use. Instructions that say
 * "do not use any tools" (or "answer without tools") hide every tool from it; "never call
 * <tool>" hides that one. Everything else it answers as `offlineModel` does, so a case
 * recorded with `npm start` offline runs back to the same calls and answer.
 */
export function evalOfflineModel(request: GeminiRequest): GeminiReply {
  const instructions = (request.body.systemInstruction?.parts ?? []).map((part) => part.text ?? '').join('\n');
  if (!request.body.tools?.length || !instructions) return offlineModel(request);
  const hidden = new Set([...instructions.matchAll(NOT_THIS_TOOL)].map((match) => match[1]!.toLowerCase()));
  const none = NO_TOOLS.test(instructions);
  const tools = none
    ? []
    : request.body.tools.map((tool) => ({
        ...tool,
        functionDeclarations: (tool.functionDeclarations ?? []).filter((declaration) => !hidden.has(declaration.name.toLowerCase())),
      }));
  return offlineModel({ ...request, body: { ...request.body, tools } });
}
