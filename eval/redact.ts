/**
 * What an exported case must not carry: secrets. Values under keys that name a secret
 * (token, secret, password, api key, authorization, cookie, private key), strings shaped like
 * well-known credentials (Slack tokens, AWS access keys, Google API keys, bearer tokens, PEM
 * private keys, signed URLs' signatures), and any value of the exporting process's own
 * secret-named environment variables, are replaced by `[redacted]`.
 */
export const REDACTED = '[redacted]';

const SECRET_KEY = /(token|secret|passw(or)?d|api[-_]?key|authori[sz]ation|cookie|private[-_]?key|credential|signature)/i;
/** Keys a secret-named rule would catch that hold no secret: Gemini's thought signatures are model state a later call must send back unchanged. */
const NOT_SECRETS = new Set(['thoughtSignature']);
const SECRET_SHAPES: RegExp[] = [
  /xox[abprs]-[A-Za-z0-9-]{8,}/g,
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{30,}\b/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{12,}/gi,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /([?&](X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|sig|signature|token)=)[^&\s"]+/gi,
];

/** Values of environment variables whose names say they are secrets (8 characters or more). */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(
      ([name, value]) => value !== undefined && value.length >= 8 && /(SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE_KEY|CREDENTIAL)/i.test(name),
    )
    .map(([, value]) => value!);
}

export function redact<T>(value: T, secrets: readonly string[] = []): T {
  return walk(value, secrets) as T;
}

function walk(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => walk(item, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        key,
        SECRET_KEY.test(key) && !NOT_SECRETS.has(key) && typeof item === 'string' ? REDACTED : walk(item, secrets),
      ]),
    );
  }
  return value;
}

function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join(REDACTED);
  for (const shape of SECRET_SHAPES) {
    result = result.replace(shape, (match, prefix: unknown) =>
      typeof prefix === 'string' && prefix.endsWith('=') ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return result;
}
