/**
 * The stand-in's manifest methods (`apps.manifest.create`, `apps.manifest.validate`) and the
 * events the project's manifest subscribes to.
 */
import { SlackApiError, type SlackMethod } from './wire.ts';

/** The events `slack/manifest.json` subscribes to. */
export const MANIFEST_EVENTS = ['agent_session_stopped', 'app_context_changed', 'app_home_opened', 'app_mention', 'message.im'];

/**
 * `apps.manifest.create` and `apps.manifest.validate`: Slack's checks of a new app's manifest,
 * of which the stand-in keeps the one this project trips over: a new app may use only the agent
 * messaging experience (`agent_view`), never `assistant_view` (docs.slack.dev/ai/migrating-to-agent-messaging).
 */
export function createManifestMethods(parse: (value: unknown) => unknown): Record<string, SlackMethod> {
  let apps = 0;
  function check(args: Record<string, unknown>): Record<string, unknown> {
    const manifest = parse(args.manifest) as { features?: Record<string, unknown>; display_information?: { name?: unknown } } | undefined;
    if (typeof manifest !== 'object' || manifest === null)
      throw new SlackApiError('invalid_manifest', { errors: [{ message: 'manifest is required', pointer: '/' }] });
    const errors: { message: string; pointer: string }[] = [];
    if (typeof manifest.display_information?.name !== 'string')
      errors.push({ message: 'display_information.name is required', pointer: '/display_information/name' });
    if (manifest.features && 'assistant_view' in manifest.features) {
      errors.push({ message: 'New apps can only use the agent messaging experience: use agent_view', pointer: '/features/assistant_view' });
    }
    const agentView = manifest.features?.agent_view as { agent_description?: unknown } | undefined;
    if (agentView !== undefined && (typeof agentView.agent_description !== 'string' || agentView.agent_description === '')) {
      errors.push({ message: 'agent_view.agent_description is required', pointer: '/features/agent_view/agent_description' });
    }
    if (errors.length > 0) throw new SlackApiError('invalid_manifest', { errors });
    return manifest;
  }
  return {
    'apps.manifest.validate': (args) => (check(args), {}),
    'apps.manifest.create': (args) => {
      check(args);
      apps += 1;
      return { app_id: `A0LOCAL${apps}`, credentials: {}, oauth_authorize_url: 'http://localhost/oauth' };
    },
  };
}
