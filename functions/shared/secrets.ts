import * as z from 'zod';
import { optionalText, type Environment } from '../../config/load-settings.ts';
import { credentialsFromEnvironment, signRequest, type AwsCredentials } from './aws-signature.ts';
import { jsonLog, type Log } from './log.ts';

/**
 * Secrets of the functions: each lives in Secrets Manager, the function's configuration holds
 * only its ARN (`…_SECRET_ARN`), and the role may read exactly those ARNs. Values are read
 * once at cold start and kept; when a check fails with the kept value (a rotation), they are
 * read again, at most once per interval, before the request is refused.
 */

/** Reads the `SecretString` of one secret. */
export type SecretReader = (secretId: string) => Promise<string>;

/** A secret could not be read; the message is one line naming the fix. */
export class SecretError extends Error {
  override name = 'SecretError';
}

/** Where Secrets Manager is: the function's region, or a local endpoint (moto). */
export const secretsManagerEndpointSchema = z.object({
  AWS_REGION: optionalText,
  AWS_DEFAULT_REGION: optionalText,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: optionalText,
  AWS_ENDPOINT_URL: optionalText,
});

export interface SecretsManagerReaderOptions {
  /** @default us-east-1 */
  region?: string;
  /** Read per call, so refreshed role credentials are used. @default the environment's (Lambda's) */
  credentials?: () => AwsCredentials;
  /** @default https://secretsmanager.{region}.amazonaws.com */
  endpoint?: string;
  /** @default 3000 ms */
  timeoutMs?: number;
}

/** The reader the endpoint settings describe, with the function role's credentials. */
export function secretsManagerReaderFrom(env: Environment): SecretReader {
  const settings = secretsManagerEndpointSchema.parse(env);
  const endpoint = settings.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? settings.AWS_ENDPOINT_URL;
  return createSecretsManagerReader({
    region: settings.AWS_REGION ?? settings.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: () => credentialsFromEnvironment(env),
    ...(endpoint ? { endpoint } : {}),
  });
}

/** `GetSecretValue` over a signed `fetch`: one small call instead of an SDK client at every cold start. */
export function createSecretsManagerReader(options: SecretsManagerReaderOptions = {}): SecretReader {
  const region = options.region ?? 'us-east-1';
  const url = new URL('/', options.endpoint ?? `https://secretsmanager.${region}.amazonaws.com`);
  const credentials = options.credentials ?? (() => credentialsFromEnvironment(process.env));
  return async function readSecret(secretId) {
    const body = JSON.stringify({ SecretId: secretId });
    const headers = signRequest({
      url,
      body,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
      region,
      service: 'secretsmanager',
      credentials: credentials(),
      now: new Date(),
    });
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 3000) });
    const text = await response.text();
    const parsed = parseJson(text) as { SecretString?: string; __type?: string; message?: string; Message?: string } | undefined;
    if (!response.ok) {
      // Secrets Manager answers JSON; an IAM refusal on the way may come as XML (`<Code>AccessDenied</Code>`).
      const type = parsed?.__type?.split('#').pop() ?? /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${response.status}`;
      throw new SecretReadFailure(
        type,
        parsed?.message ?? parsed?.Message ?? /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200),
      );
    }
    return parsed?.SecretString ?? '';
  };
}

/** Secrets Manager's error, by its type (`ResourceNotFoundException`, `AccessDeniedException`, …). */
export class SecretReadFailure extends Error {
  override name = 'SecretReadFailure';
  readonly type: string;
  constructor(type: string, detail: string) {
    super(`${type}: ${detail}`);
    this.type = type;
  }
}

/** One secret a function reads: its ARN and the variable that named it. */
export interface SecretBinding {
  /** e.g. `SLACK_SIGNING_SECRET_ARN` */
  variable: string;
  arn: string;
}

export interface SecretSetOptions<Name extends string> {
  read: SecretReader;
  secrets: Record<Name, SecretBinding>;
  /** Least time between two re-reads after failed checks, so forged requests cannot drive reads. @default 30 000 ms */
  minRefreshIntervalMs?: number;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
  /** Re-reads are logged by name, never by value. @default jsonLog */
  log?: Log;
}

export interface SecretSet<Name extends string> {
  /** The values as last read. */
  readonly values: Readonly<Record<Name, string>>;
  /** Reads of Secrets Manager so far, one per secret. */
  readonly reads: number;
  /**
   * A check failed with `values`: reads every secret again, unless that was done less than
   * the interval ago. True when a value changed, so the check is worth one more try. A
   * failed re-read keeps the old values (and is logged).
   */
  refreshAfterFailure(): Promise<boolean>;
  /** Reads again when the values are older than `maxAgeMs`; true when a value changed. */
  refreshIfOlderThan(maxAgeMs: number): Promise<boolean>;
}

/** Reads every secret (in parallel) at cold start; a secret that cannot be read throws a one-line `SecretError`. */
export async function loadSecrets<Name extends string>(options: SecretSetOptions<Name>): Promise<SecretSet<Name>> {
  const now = options.now ?? Date.now;
  const log = options.log ?? jsonLog;
  const minInterval = options.minRefreshIntervalMs ?? 30_000;
  const names = Object.keys(options.secrets) as Name[];
  let reads = 0;
  // The first re-read after a cold start is not held back: a rotation may be why the container is new.
  let refreshedAt = Number.NEGATIVE_INFINITY;
  let readAt = 0;
  let refreshing: Promise<boolean> | undefined;

  async function readAll(): Promise<Record<Name, string>> {
    const values = await Promise.all(names.map((name) => readOne(options.secrets[name])));
    return Object.fromEntries(names.map((name, index) => [name, values[index]!])) as Record<Name, string>;
  }

  async function readOne(binding: SecretBinding): Promise<string> {
    reads += 1;
    let value: string;
    try {
      value = await options.read(binding.arn);
    } catch (error) {
      throw new SecretError(explainReadFailure(binding, error as Error));
    }
    if (value.trim() === '')
      throw new SecretError(
        `Secret ${binding.arn} (${binding.variable}) is empty: store the value as its SecretString (aws secretsmanager put-secret-value --secret-id … --secret-string …).`,
      );
    return value;
  }

  let values = await readAll();
  readAt = now();

  function refresh(reason: string): Promise<boolean> {
    refreshing ??= (async () => {
      refreshedAt = now();
      try {
        const fresh = await readAll();
        readAt = now();
        const changed = names.filter((name) => fresh[name] !== values[name]);
        values = fresh;
        log({ msg: 'secrets read again', reason, changed });
        return changed.length > 0;
      } catch (error) {
        log({ msg: 'secrets could not be read again; keeping the values read before', reason, error: (error as Error).message });
        return false;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  return {
    get values() {
      return values;
    },
    get reads() {
      return reads;
    },
    refreshAfterFailure() {
      if (refreshing) return refreshing;
      if (now() - refreshedAt < minInterval) return Promise.resolve(false);
      return refresh('a check failed with the values read before');
    },
    refreshIfOlderThan(maxAgeMs) {
      if (refreshing) return refreshing;
      if (now() - readAt < maxAgeMs || now() - refreshedAt < minInterval) return Promise.resolve(false);
      return refresh(`older than ${maxAgeMs} ms`);
    },
  };
}

function explainReadFailure(binding: SecretBinding, error: Error): string {
  const which = `${binding.arn} (${binding.variable})`;
  const type = error instanceof SecretReadFailure ? error.type : error.name;
  switch (type) {
    case 'ResourceNotFoundException':
      return `Secret ${which} does not exist: create it in Secrets Manager, or set ${binding.variable} to the ARN of the secret that holds the value.`;
    case 'AccessDeniedException':
    case 'AccessDenied':
      return `No permission to read secret ${which}: grant this function's role secretsmanager:GetSecretValue on exactly that ARN (the CDK stack does so for the ARN it was deployed with).`;
    case 'DecryptionFailure':
    case 'KMSAccessDeniedException':
      return `Secret ${which} cannot be decrypted: grant this function's role kms:Decrypt on the secret's KMS key.`;
    case 'InvalidRequestException':
      return `Secret ${which} cannot be read (${error.message.slice(0, 160)}): restore it if it is scheduled for deletion, or point ${binding.variable} at a live secret.`;
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      return `Secrets Manager refused this function's credentials while reading ${which} (${type}): check the role and AWS_REGION.`;
    default:
      return `Cannot read secret ${which} (${error.message.slice(0, 200)}): check that Secrets Manager is reachable from the function (AWS_REGION, or AWS_ENDPOINT_URL_SECRETS_MANAGER).`;
  }
}

/**
 * A Lambda handler built from the secrets' values. When `refusedBySecret` says a result is a
 * refusal that newer values could turn (a signature that did not match), the secrets are
 * read again (rate-limited) and, if they changed, the same event is handled once more by a
 * handler built from the new values. With `maxAgeMs`, values older than that are read again
 * before an event is handled.
 */
export function withSecretRefresh<Name extends string, Args extends unknown[], Result>(
  secrets: SecretSet<Name>,
  build: (values: Readonly<Record<Name, string>>) => (...args: Args) => Promise<Result>,
  options: { refusedBySecret?: (result: Result, ...args: Args) => boolean; maxAgeMs?: number } = {},
): (...args: Args) => Promise<Result> {
  let built = { values: secrets.values, handle: build(secrets.values) };
  const current = () => {
    if (built.values !== secrets.values) built = { values: secrets.values, handle: build(secrets.values) };
    return built.handle;
  };
  return async function handleWithFreshSecrets(...args: Args): Promise<Result> {
    if (options.maxAgeMs !== undefined) await secrets.refreshIfOlderThan(options.maxAgeMs);
    const result = await current()(...args);
    if (!options.refusedBySecret?.(result, ...args) || !(await secrets.refreshAfterFailure())) return result;
    return current()(...args);
  };
}

/**
 * Like `withSecretRefresh`, for a function whose import must stay short: the read starts at
 * cold start but the module does not wait for it; the first event does. A secret that cannot
 * be read then stops the process as `secretsOrExit` does (Lambda starts a fresh one for the
 * next event), so a missing secret still fails with one line naming the fix. `loading` is
 * called once the import has finished: a first `fetch` loads Node's HTTP client, which is most
 * of a read's cost at cold start, and Lambda's runtime asks for the first event meanwhile.
 */
export function withSecretsReadInBackground<Name extends string, Args extends unknown[], Result>(
  loading: () => Promise<SecretSet<Name>>,
  build: (values: Readonly<Record<Name, string>>) => (...args: Args) => Promise<Result>,
  options: { refusedBySecret?: (result: Result, ...args: Args) => boolean; maxAgeMs?: number } = {},
): (...args: Args) => Promise<Result> {
  const ready = new Promise<void>((resolve) => setImmediate(resolve))
    .then(loading)
    .then((secrets) => withSecretRefresh(secrets, build, options));
  // Handled at the first event; until then a failed read must not count as unhandled.
  ready.catch(() => undefined);
  return async function handleOnceSecretsAreRead(...args: Args): Promise<Result> {
    return (await secretsOrExit(ready))(...args);
  };
}

/**
 * For a function's cold start: the secrets, or, when one cannot be read, its one-line
 * message on stderr and exit code 1 (Lambda reports the init as failed and tries again on
 * the next event), with no stack trace.
 */
export async function secretsOrExit<Loaded>(loading: Promise<Loaded>): Promise<Loaded> {
  try {
    return await loading;
  } catch (error) {
    if (!(error instanceof SecretError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
