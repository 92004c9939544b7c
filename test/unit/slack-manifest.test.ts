import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HANDLED_BOT_EVENTS } from '../../functions/slack/slack-events.ts';
import { fillSlackManifest, REQUIRED_SCOPES, slackManifestTemplate } from '../../slack/slack-manifest.ts';

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
    expect(manifest.features.slash_commands?.map((command) => command.url)).toEqual(['https://abc123.lambda-url.eu-west-1.on.aws/slack/commands']);
    expect(JSON.stringify(manifest)).not.toContain('${');
  });

  it('subscribes to every event the edge handles, with the scopes they need', () => {
    const manifest = fillSlackManifest(template, URL_OUTPUT);
    for (const event of HANDLED_BOT_EVENTS) {
      expect(manifest.settings.event_subscriptions.bot_events).toContain(event);
      const scope = REQUIRED_SCOPES[event];
      if (scope) expect(manifest.oauth_config.scopes.bot).toContain(scope);
    }
    // Streaming, status and the assistant pane need these whatever the events.
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['chat:write', 'assistant:write', 'commands', 'im:history']));
    expect(manifest.features.assistant_view?.suggested_prompts?.length).toBeGreaterThan(0);
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
