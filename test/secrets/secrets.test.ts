import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../functions/shared/aws-signature.ts';
import { createSecretsManagerReader, loadSecrets, SecretError, type SecretReader } from '../../functions/shared/secrets.ts';
import { slackSignature } from '../../functions/slack/slack-signature.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const credentials = () => MOTO_CLIENT_CONFIG.credentials;

describe("the functions' secrets, against moto's Secrets Manager", () => {
  let moto: MotoServer;
  let secretsManager: SecretsManagerClient;
  let read: SecretReader;
  let reads: string[];

  beforeAll(async () => {
    moto = await startMoto();
    secretsManager = new SecretsManagerClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    const reader = createSecretsManagerReader({ region: MOTO_CLIENT_CONFIG.region, credentials, endpoint: moto.endpoint });
    reads = [];
    read = (arn) => {
      reads.push(arn);
      return reader(arn);
    };
  });
  afterAll(async () => {
    secretsManager?.destroy();
    await moto?.stop();
  });

  const createSecret = async (value: string) =>
    (await secretsManager.send(new CreateSecretCommand({ Name: `test-${crypto.randomUUID()}`, SecretString: value }))).ARN!;

  it('reads each secret once at cold start and serves later uses from the cache', async () => {
    const signing = await createSecret('signing-1');
    const approval = await createSecret('approval-1');
    reads.length = 0;
    const secrets = await loadSecrets({
      read,
      secrets: {
        SLACK_SIGNING_SECRET: { variable: 'SLACK_SIGNING_SECRET_ARN', arn: signing },
        APPROVAL_TOKEN_SECRET: { variable: 'APPROVAL_TOKEN_SECRET_ARN', arn: approval },
      },
      log: () => undefined,
    });
    expect(secrets.values).toEqual({ SLACK_SIGNING_SECRET: 'signing-1', APPROVAL_TOKEN_SECRET: 'approval-1' });
    for (let use = 0; use < 5; use++) expect(secrets.values.SLACK_SIGNING_SECRET).toBe('signing-1');
    expect(reads.sort()).toEqual([approval, signing].sort());
    // Young values are not read again.
    expect(await secrets.refreshIfOlderThan(60_000)).toBe(false);
    expect(reads).toHaveLength(2);
  });

  it('reads again after a check fails on a rotated secret, at most once per interval', async () => {
    const signing = await createSecret('before-rotation');
    let clock = 1_000_000;
    const logs: Record<string, unknown>[] = [];
    const secrets = await loadSecrets({
      read,
      secrets: { SLACK_SIGNING_SECRET: { variable: 'SLACK_SIGNING_SECRET_ARN', arn: signing } },
      minRefreshIntervalMs: 30_000,
      now: () => clock,
      log: (line) => logs.push(line),
    });
    reads.length = 0;

    await secretsManager.send(new PutSecretValueCommand({ SecretId: signing, SecretString: 'after-rotation' }));
    expect(await secrets.refreshAfterFailure()).toBe(true);
    expect(secrets.values.SLACK_SIGNING_SECRET).toBe('after-rotation');
    expect(logs.at(-1)).toEqual({
      msg: 'secrets read again',
      reason: 'a check failed with the values read before',
      changed: ['SLACK_SIGNING_SECRET'],
    });
    expect(JSON.stringify(logs)).not.toContain('after-rotation');

    // Forged requests cannot drive reads: within the interval, a failure reads nothing.
    clock += 10_000;
    expect(await secrets.refreshAfterFailure()).toBe(false);
    expect(reads).toHaveLength(1);
    // Past it, one more read; nothing changed, so nothing is worth retrying.
    clock += 30_000;
    expect(await secrets.refreshAfterFailure()).toBe(false);
    expect(reads).toHaveLength(2);
    // Concurrent failures share one read.
    clock += 30_000;
    await Promise.all([secrets.refreshAfterFailure(), secrets.refreshAfterFailure(), secrets.refreshAfterFailure()]);
    expect(reads).toHaveLength(3);
  });

  it('the Slack function accepts a request signed with a rotated secret after one re-read', async () => {
    const signing = await createSecret('slack-signing-old');
    const approval = await createSecret('approval');
    const sqs = new SQSClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    const queueUrl = (
      await sqs.send(new CreateQueueCommand({ QueueName: `ingress-${crypto.randomUUID()}.fifo`, Attributes: { FifoQueue: 'true' } }))
    ).QueueUrl!;
    Object.assign(process.env, {
      AWS_REGION: MOTO_CLIENT_CONFIG.region,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      AWS_ENDPOINT_URL_SQS: moto.endpoint,
      INGRESS_QUEUE_URL: queueUrl,
      SLACK_SIGNING_SECRET_ARN: signing,
      APPROVAL_TOKEN_SECRET_ARN: approval,
    });
    const { handler } = (await import('../../functions/slack/handler.ts')) as {
      handler: (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
    };
    const mention = (ts: string, secret: string) => {
      const body = JSON.stringify({
        type: 'event_callback',
        team_id: 'T1',
        event_id: `Ev${ts}`,
        event: { type: 'app_mention', user: 'U1', text: '<@UBOT> hello', channel: 'C1', ts, event_ts: ts },
      });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers = {
        'content-type': 'application/json',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(secret, timestamp, body),
      };
      return {
        version: '2.0',
        rawPath: '/slack/events',
        headers,
        body,
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST', path: '/slack/events' } },
      };
    };

    expect((await handler(mention('1700000000.000100', 'slack-signing-old'), {})).statusCode).toBe(200);
    // Slack's signing secret is regenerated and stored; the warm function still holds the old one.
    await secretsManager.send(new PutSecretValueCommand({ SecretId: signing, SecretString: 'slack-signing-new' }));
    expect((await handler(mention('1700000000.000200', 'slack-signing-new'), {})).statusCode).toBe(200);
    // A forgery is still refused, and does not make the function read again at once.
    expect((await handler(mention('1700000000.000300', 'forged'), {})).statusCode).toBe(401);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages?.map((message) => JSON.parse(message.Body!).slack.ts).sort()).toEqual([
      '1700000000.000100',
      '1700000000.000200',
    ]);
    sqs.destroy();
  });

  it('names the fix in one line when a secret does not exist', async () => {
    const missing = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-secret-AbCdEf';
    const loading = loadSecrets({
      read,
      secrets: { EMAIL_REPLY_TOKEN_SECRET: { variable: 'EMAIL_REPLY_TOKEN_SECRET_ARN', arn: missing } },
    });
    await expect(loading).rejects.toThrow(SecretError);
    await expect(loading).rejects.toThrow(
      `Secret ${missing} (EMAIL_REPLY_TOKEN_SECRET_ARN) does not exist: create it in Secrets Manager, or set EMAIL_REPLY_TOKEN_SECRET_ARN to the ARN`,
    );
  });

  /** A function's module in a fresh Node with moto's Secrets Manager and only the given settings besides. */
  const runFunction = (script: string, settings: Record<string, string>) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPOSITORY,
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        AWS_REGION: MOTO_CLIENT_CONFIG.region,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
        INGRESS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/ingress.fifo',
        ...settings,
      },
    });

  it('a function whose secret is missing stops at cold start with one line and no stack trace', () => {
    const result = runFunction("await import('./functions/email/handler.ts')", {
      EMAIL_ALLOWED_SENDERS: '@example.com',
      EMAIL_REPLY_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf',
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/EMAIL_REPLY_TOKEN_SECRET_ARN\) does not exist: create it in Secrets Manager/),
    ]);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
  it('the dispatcher reads its payload keys from Secrets Manager at cold start, and stops with one line when they are not a key set', async () => {
    const settings = { TEMPORAL_ADDRESS: '127.0.0.1:1', APPROVAL_TOKEN_SECRET_ARN: await createSecret('approval') };
    const good = runFunction(
      "const { handler } = await import('./functions/dispatch/handler.ts'); console.log(JSON.stringify(await handler({ Records: [] })));",
      {
        ...settings,
        PAYLOAD_KEYS_ARN: await createSecret(JSON.stringify({ keys: [{ id: 'k1', key: Buffer.alloc(32, 1).toString('base64') }] })),
      },
    );
    expect(good.stdout.trim(), good.stderr).toBe('{"batchItemFailures":[]}');
    const badArn = await createSecret(JSON.stringify({ keys: [{ id: 'k1', key: 'c2hvcnQ=' }] }));
    const bad = runFunction("await import('./functions/dispatch/handler.ts')", { ...settings, PAYLOAD_KEYS_ARN: badArn });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([
      `the PAYLOAD_KEYS_ARN secret (${badArn}) is not a payload key set: keys.0.key: a key is 32 bytes in base64 (openssl rand -base64 32).`,
    ]);
    const unset = runFunction("await import('./functions/dispatch/handler.ts')", settings);
    expect(unset.status).toBe(1);
    expect(unset.stderr).toMatch(/PAYLOAD_KEYS_ARN is not set: the ARN of the Secrets Manager secret holding the payload encryption keys/);
  });

  it('the Slack edge imports without waiting for its secrets, and a missing one stops it at the first request with one line', () => {
    // The import must not hold for Secrets Manager (the edge's cold start); the first request does.
    const script = [
      "const { handler } = await import('./functions/slack/handler.ts');",
      "console.log('imported');",
      "await handler({ version: '2.0', rawPath: '/slack/events', headers: {}, body: '{}', isBase64Encoded: false, requestContext: { http: { method: 'POST', path: '/slack/events' } } });",
      "console.log('served');",
    ].join('\n');
    const result = runFunction(script, {
      SLACK_SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf',
      APPROVAL_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-too-AbCdEf',
    });
    expect(result.stdout.trim().split('\n')).toEqual(['imported']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/_SECRET_ARN\) does not exist: create it in Secrets Manager/)]);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('a role without permission, against moto with its IAM checks on', () => {
  let moto: MotoServer;
  afterAll(() => moto?.stop());

  it('names the grant to add in one line', async () => {
    // moto lets the first three calls through unchecked: create a user with no policy, its key, and the secret.
    moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: '3' } });
    const iam = async (form: Record<string, string>) => {
      const url = new URL('/', moto.endpoint);
      const body = new URLSearchParams({ ...form, Version: '2010-05-08' }).toString();
      const headers = signRequest({
        url,
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        region: 'us-east-1',
        service: 'iam',
        credentials: credentials(),
        now: new Date(),
      });
      return (await fetch(url, { method: 'POST', headers, body })).text();
    };
    await iam({ Action: 'CreateUser', UserName: 'function-role' });
    const key = await iam({ Action: 'CreateAccessKey', UserName: 'function-role' });
    const accessKeyId = /<AccessKeyId>([^<]+)</.exec(key)![1]!;
    const secretAccessKey = /<SecretAccessKey>([^<]+)</.exec(key)![1]!;
    const secretsManager = new SecretsManagerClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    const arn = (await secretsManager.send(new CreateSecretCommand({ Name: 'slack-signing-secret', SecretString: 'x' }))).ARN!;
    secretsManager.destroy();

    const read = createSecretsManagerReader({
      region: 'us-east-1',
      credentials: () => ({ accessKeyId, secretAccessKey }),
      endpoint: moto.endpoint,
    });
    const loading = loadSecrets({ read, secrets: { SLACK_SIGNING_SECRET: { variable: 'SLACK_SIGNING_SECRET_ARN', arn } } });
    await expect(loading).rejects.toThrow(
      `No permission to read secret ${arn} (SLACK_SIGNING_SECRET_ARN): grant this function's role secretsmanager:GetSecretValue on exactly that ARN`,
    );
  });
});
