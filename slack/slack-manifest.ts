import * as z from 'zod';

/**
 * The Slack app manifest's shape as Slack documents it (docs.slack.dev/reference/app-manifest),
 * for the fields this app uses: the file in `slack/manifest.json` must pass it before anyone
 * pastes it into Slack, whose own errors name only the first problem.
 */

/** Placeholder in `slack/manifest.json` for the edge's URL (the stack's `SlackRequestUrl` output). */
export const REQUEST_URL_PLACEHOLDER = '${SLACK_REQUEST_URL}';

/**
 * Bot events Slack's Events API delivers, of those an agent app may want (a subset of
 * docs.slack.dev/reference/events): a typo in the manifest is refused here, not by Slack.
 */
export const KNOWN_BOT_EVENTS = [
  'agent_session_stopped',
  'app_context_changed',
  'app_home_opened',
  'app_mention',
  'app_uninstalled',
  'assistant_thread_context_changed',
  'assistant_thread_started',
  'member_joined_channel',
  'message.channels',
  'message.groups',
  'message.im',
  'message.mpim',
  'reaction_added',
  'tokens_revoked',
] as const;

const httpsUrl = z.url({ protocol: /^https$/, hostname: z.regexes.domain });
/** A URL in the template: https, or a path on the placeholder. */
const templateUrl = z.string().refine((value) => value.startsWith(`${REQUEST_URL_PLACEHOLDER}/`) || httpsUrl.safeParse(value).success, {
  message: `expected an https URL, or one starting with ${REQUEST_URL_PLACEHOLDER}/`,
});

const prompt = z.strictObject({ title: z.string().min(1).max(75), message: z.string().min(1).max(1000) });

function manifestSchema(url: z.ZodType<string>) {
  return z.looseObject({
    _metadata: z.looseObject({ major_version: z.number().int().min(1), minor_version: z.number().int().min(0).optional() }).optional(),
    display_information: z.looseObject({
      name: z.string().min(1).max(35),
      description: z.string().max(140).optional(),
      long_description: z.string().min(175).max(4000).optional(),
      background_color: z
        .string()
        .regex(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/)
        .optional(),
    }),
    features: z.looseObject({
      app_home: z
        .looseObject({
          home_tab_enabled: z.boolean().optional(),
          messages_tab_enabled: z.boolean().optional(),
          messages_tab_read_only_enabled: z.boolean().optional(),
        })
        .optional(),
      bot_user: z.looseObject({
        display_name: z
          .string()
          .min(1)
          .max(80)
          .regex(/^[a-z0-9._-]+$/),
        always_online: z.boolean().optional(),
      }),
      // The agent messaging experience (docs.slack.dev/reference/app-manifest, "agent_view"); new apps may use only this.
      agent_view: z
        .looseObject({ agent_description: z.string().min(1).max(1000), suggested_prompts: z.array(prompt).max(4).optional() })
        .optional(),
      // The assistant experience: existing apps keep it for now; Slack refuses it for a new app.
      assistant_view: z
        .looseObject({ assistant_description: z.string().min(1).max(1000), suggested_prompts: z.array(prompt).max(4).optional() })
        .optional(),
      slash_commands: z
        .array(
          z.looseObject({
            command: z
              .string()
              .regex(/^\/[a-z0-9_-]{1,31}$/, { message: 'a command starts with / and has at most 32 lower-case characters' }),
            url,
            description: z.string().min(1).max(2000),
            usage_hint: z.string().max(1000).optional(),
            should_escape: z.boolean().optional(),
          }),
        )
        .max(50)
        .optional(),
    }),
    oauth_config: z.looseObject({
      scopes: z.looseObject({
        bot: z
          .array(z.string().regex(/^[a-z_]+(:[a-z_.]+)*$/))
          .min(1)
          .max(255),
      }),
      redirect_urls: z.array(httpsUrl).optional(),
    }),
    settings: z.looseObject({
      event_subscriptions: z.looseObject({
        request_url: url,
        bot_events: z.array(z.enum(KNOWN_BOT_EVENTS)).min(1).max(100),
      }),
      interactivity: z.looseObject({ is_enabled: z.boolean(), request_url: url }),
      org_deploy_enabled: z.boolean().optional(),
      socket_mode_enabled: z.literal(false, { message: 'this app is reached over HTTPS: socket mode stays off' }).optional(),
      token_rotation_enabled: z.boolean().optional(),
    }),
  });
}

/** The template in the repository: URLs may still hold the placeholder. */
export const slackManifestTemplateSchema = manifestSchema(templateUrl);
/** A manifest ready for Slack: every URL filled, https. */
export const slackManifestSchema = manifestSchema(httpsUrl);
export type SlackManifest = z.infer<typeof slackManifestSchema>;

/** Scopes each capability needs, by Slack's method and event documentation. */
export const REQUIRED_SCOPES: Record<string, string> = {
  app_mention: 'app_mentions:read',
  'message.im': 'im:history',
  // Sessions need chat:write; declaring the app an agent adds assistant:write (docs.slack.dev/ai/agent-sessions).
  agent_session_stopped: 'chat:write',
  app_context_changed: 'assistant:write',
  assistant_thread_started: 'assistant:write',
  assistant_thread_context_changed: 'assistant:write',
};

/**
 * The template with `${SLACK_REQUEST_URL}` replaced by the deploy's `SlackRequestUrl` output,
 * checked as Slack will check it. Throws, naming each field, when the result does not fit.
 */
export function fillSlackManifest(template: unknown, url: string): SlackManifest {
  const base = httpsUrl.safeParse(url.replace(/\/+$/, ''));
  if (!base.success) throw new Error(`${url} is not an https URL; give the stack's SlackRequestUrl output`);
  slackManifestTemplate(template);
  const filled: unknown = JSON.parse(JSON.stringify(template).replaceAll(REQUEST_URL_PLACEHOLDER, base.data.replace(/\/+$/, '')));
  const parsed = slackManifestSchema.safeParse(filled);
  if (!parsed.success) throw new Error(`The filled manifest does not fit Slack's shape: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The repository's template, checked: it creates new apps, so it asks for the agent experience only. */
export function slackManifestTemplate(template: unknown): z.infer<typeof slackManifestTemplateSchema> {
  const parsed = slackManifestTemplateSchema.safeParse(template);
  if (!parsed.success) throw new Error(`slack/manifest.json does not fit Slack's shape: ${z.prettifyError(parsed.error)}`);
  const refusal = newAppViewRefusal(parsed.data);
  if (refusal) throw new Error(`slack/manifest.json: ${refusal}`);
  return parsed.data;
}

/**
 * Why Slack refuses this manifest for a new app, or undefined. Slack's migration guide
 * (docs.slack.dev/ai/migrating-to-agent-messaging): new apps can use only `agent_view`;
 * `assistant_view` stays for existing apps until it is deprecated.
 */
export function newAppViewRefusal(manifest: { features?: Record<string, unknown> }): string | undefined {
  const features = manifest.features ?? {};
  if ('assistant_view' in features)
    return 'features.assistant_view is for existing apps only: a new app uses features.agent_view (with agent_description)';
  if (!('agent_view' in features)) return 'features.agent_view is missing: an agent app declares it (with agent_description)';
  return undefined;
}
