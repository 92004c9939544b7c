import * as z from 'zod';

/**
 * Prompts Slack shows when a person opens the agent's assistant thread
 * (`assistant.threads.setSuggestedPrompts`): at most four, each a short title and the message
 * it sends. Pure module: the agent definition, the edge's settings and the manifest share it.
 */
export const MAX_SUGGESTED_PROMPTS = 4;

export const suggestedPromptSchema = z.strictObject({
  /** What the button says. */
  title: z.string().trim().min(1).max(75),
  /** What clicking it sends, as if typed. */
  message: z.string().trim().min(1).max(1000),
});

export const suggestedPromptsSchema = z.array(suggestedPromptSchema).max(MAX_SUGGESTED_PROMPTS);

export type SuggestedPrompt = z.infer<typeof suggestedPromptSchema>;

/** `SLACK_SUGGESTED_PROMPTS` is JSON text: `[{"title":"…","message":"…"}]`. */
export const suggestedPromptsSetting = z
  .string()
  .trim()
  .optional()
  .transform((text, context) => {
    if (text === undefined || text === '') return [];
    try {
      const parsed = suggestedPromptsSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      context.addIssue({ code: 'custom', message: `SLACK_SUGGESTED_PROMPTS: ${z.prettifyError(parsed.error)}` });
    } catch {
      context.addIssue({ code: 'custom', message: 'SLACK_SUGGESTED_PROMPTS must be JSON: [{"title":"…","message":"…"}], at most 4' });
    }
    return z.NEVER;
  });
