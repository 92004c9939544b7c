import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FunctionCallingConfigMode, GoogleGenAI } from '@google/genai';
import type { ToolDefinition } from '../../authoring/define-tool.ts';
import type { AgentSpec, Content, Part } from '../../core/spec.ts';

export interface NaiveModelInput {
  spec: AgentSpec;
  /** The whole conversation, every time. */
  contents: Content[];
}

export interface NaiveToolInput {
  name: string;
  args: Record<string, unknown>;
}

export interface NaiveActivities {
  naiveCallModel(input: NaiveModelInput): Promise<Content>;
  naiveRunTool(input: NaiveToolInput): Promise<unknown>;
}

/** The baseline's activities: the model call takes the conversation inline, tools return their result inline. */
export function createNaiveActivities(deps: { apiKey: string; baseUrl: string; tools: ToolDefinition[] }): NaiveActivities {
  const client = new GoogleGenAI({ apiKey: deps.apiKey, httpOptions: { baseUrl: deps.baseUrl, retryOptions: { attempts: 1 } } });
  const tools = new Map(deps.tools.map((tool) => [tool.name, tool]));
  return {
    async naiveCallModel({ spec, contents }) {
      const response = await client.models.generateContent({
        model: spec.model,
        contents,
        config: {
          systemInstruction: spec.instructions,
          tools: [
            {
              functionDeclarations: spec.tools.map((tool) => ({
                name: tool.name,
                description: tool.description,
                parametersJsonSchema: tool.parameters,
              })),
            },
          ],
          toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } },
          automaticFunctionCalling: { disable: true },
        },
      });
      const parts = (response.candidates?.[0]?.content?.parts ?? []) as Part[];
      return { role: 'model', parts };
    },
    async naiveRunTool({ name, args }) {
      const tool = tools.get(name);
      if (!tool) throw ApplicationFailure.nonRetryable(`There is no tool named "${name}".`, 'UnknownTool');
      const context = Context.current();
      return tool.handler(tool.input.parse(args), {
        signal: context.cancellationSignal,
        heartbeat: (details) => context.heartbeat(details),
      });
    },
  };
}
