import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fillSlackManifest } from '../slack/slack-manifest.ts';

/**
 * `npm run manifest -- --url <SlackRequestUrl>` prints the app manifest with every request URL
 * filled from the deploy's `SlackRequestUrl` output, ready to paste into
 * https://api.slack.com/apps → Create New App → From a manifest (or App Manifest → Edit).
 */
const { values } = parseArgs({ options: { url: { type: 'string' } } });
if (!values.url) {
  console.error(
    "Give the edge URL: npm run manifest -- --url <SlackRequestUrl> (the stack output of that name, or `npm start`'s public tunnel).",
  );
  process.exit(2);
}
try {
  const template: unknown = JSON.parse(readFileSync(new URL('../slack/manifest.json', import.meta.url), 'utf8'));
  console.log(JSON.stringify(fillSlackManifest(template, values.url), null, 2));
} catch (error) {
  console.error(`Could not fill the manifest: ${(error as Error).message}`);
  process.exit(1);
}
