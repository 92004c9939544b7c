import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** The ingress must stay small and start fast: no Temporal, no gRPC, no agent or worker code. */
describe('the ingress bundles', () => {
  it.each(['functions/slack/handler.ts', 'functions/email/handler.ts'])('%s pulls in only the edge', async (entry) => {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      write: false,
      metafile: true,
      minify: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const packages = new Set(inputs.flatMap((input) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? []));
    expect([...packages].filter((name) => /^(@temporalio|@grpc|@google|@slack|@modelcontextprotocol|pino)/.test(name))).toEqual([]);
    // Both edges send their one SQS call signed over fetch (functions/shared/event-queue.ts), not through the SDK.
    expect(inputs.filter((input) => input.includes('@aws-sdk/client-sqs'))).toEqual([]);
    const ownFiles = inputs.filter((input) => !input.includes('node_modules'));
    const edgeFiles =
      /^(functions\/(slack|email|shared)\/|events\/|store\/|config\/(load-settings|slack-edge-settings|email-edge-settings|transcript-store-settings)\.ts$|core\/(duration|conversation|forward-search)\.ts$|telemetry\/traceparent\.ts$|authoring\/suggested-prompts\.ts$)/;
    expect(ownFiles.filter((input) => !edgeFiles.test(input))).toEqual([]);
    const bytes = result.outputFiles[0]?.contents.byteLength ?? 0;
    expect(bytes).toBeLessThan(1.5 * 1024 * 1024);
  });
});
