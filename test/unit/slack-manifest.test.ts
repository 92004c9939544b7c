import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HANDLED_BOT_EVENTS } from '../../functions/slack/slack-events.ts';
import { fillSlackManifest, KNOWN_BOT_EVENTS, REQUIRED_SCOPES, slackManifestTemplate } from '../../slack/slack-manifest.ts';

const template: unknown = JSON.parse(readFileSync(new URL('../../slack/manifest.json', import.meta.url), 'utf8'));
type Editable = {
  display_information: { name: string };
  features: { slash_commands: { command: string }[] };
  settings: { event_subscriptions: { bot_events: string[] }; interactivity: { request_url: string } };
};
const URL_OUTPUT = 'https://abc123.lambda-url.eu-west-1.on.aws/';

describe('the Slack app manifest', () => {
  it('fits the shape Slack documents, placeholders and all', () => {
    expect(() => slackManifestTemplate(template)).not.toThrow();
  });

  it('is filled from the deploy output: every request URL on the edge, https', () => {
    const manifest = fillSlackManifest(template, URL_OUTPUT);
    expect(manifest.settings.event_subscriptions.request_url).toBe('https://abc123.lambda-url.eu-west-1.on.aws/slack/events');
    expect(manifest.settings.interactivity.request_url).toBe('https://abc123.lambda-url.eu-west-1.on.aws/slack/interactivity');
    expect(manifest.features.slash_commands?.map((command) => command.url)).toEqual([
      'https://abc123.lambda-url.eu-west-1.on.aws/slack/commands',
    ]);
    expect(JSON.stringify(manifest)).not.toContain('${');
  });

  it('subscribes to every event the edge handles, with the scopes they need', () => {
    const manifest = fillSlackManifest(template, URL_OUTPUT);
    for (const event of HANDLED_BOT_EVENTS) {
      expect(manifest.settings.event_subscriptions.bot_events).toContain(event);
      const scope = REQUIRED_SCOPES[event];
      if (scope) expect(manifest.oauth_config.scopes.bot).toContain(scope);
    }
    // Streaming, sessions, prompts and the agent view need these whatever the events.
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['chat:write', 'assistant:write', 'commands', 'im:history']));
  });

  it('asks for the agent messaging experience with the fields Slack documents for agent_view, and nothing of assistant_view', () => {
    const manifest = fillSlackManifest(template, URL_OUTPUT);
    expect(manifest.features.agent_view?.agent_description).toMatch(/\S/);
    expect(manifest.features.agent_view?.suggested_prompts?.length).toBeGreaterThan(0);
    expect(manifest.features).not.toHaveProperty('assistant_view');
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual([
      'agent_session_stopped',
      'app_context_changed',
      'app_home_opened',
      'app_mention',
      'message.im',
    ]);
    // The DM is where agent_view conversations happen: its messages tab must take messages.
    expect(manifest.features.app_home).toMatchObject({ messages_tab_enabled: true, messages_tab_read_only_enabled: false });
    expect(KNOWN_BOT_EVENTS).toEqual(expect.arrayContaining(['agent_session_stopped', 'app_context_changed']));
  });

  it('refuses, as Slack does for a new app, assistant_view; and an agent_view without its description', () => {
    const copy = structuredClone(template) as { features: Record<string, unknown> };
    copy.features.assistant_view = { assistant_description: 'The old pane.' };
    expect(() => fillSlackManifest(copy, URL_OUTPUT)).toThrow(/assistant_view is for existing apps only/);
    const noDescription = structuredClone(template) as { features: { agent_view: Record<string, unknown> } };
    delete noDescription.features.agent_view.agent_description;
    expect(() => fillSlackManifest(noDescription, URL_OUTPUT)).toThrow(/agent_description/);
    const neither = structuredClone(template) as { features: Record<string, unknown> };
    delete neither.features.agent_view;
    expect(() => fillSlackManifest(neither, URL_OUTPUT)).toThrow(/agent_view is missing/);
  });

  it('refuses what Slack would refuse', () => {
    const broken = (change: (manifest: Editable) => void) => {
      const copy = structuredClone(template) as Editable;
      change(copy);
      return () => fillSlackManifest(copy, URL_OUTPUT);
    };
    expect(broken((m) => (m.display_information.name = 'A name that is far too long for Slack to take'))).toThrow(/name/);
    expect(broken((m) => (m.settings.event_subscriptions.bot_events = ['app_mentions']))).toThrow(/bot_events/);
    expect(broken((m) => (m.features.slash_commands[0]!.command = 'agent'))).toThrow(/command/);
    expect(broken((m) => (m.settings.interactivity.request_url = 'http://example.com/slack/interactivity'))).toThrow(/request_url/);
    expect(() => fillSlackManifest(template, 'http://insecure.example.com')).toThrow(/https/);
  });
});
