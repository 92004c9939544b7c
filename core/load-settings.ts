import * as z from 'zod';

/** A setting is missing or malformed; the message names every variable to set. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates environment variables against a zod schema, once, at the edge of a program.
 * `what` names the part being configured ("ingress", "transcript store", …).
 */
export function loadSettingsFrom<Schema extends z.ZodType>(schema: Schema, env: Record<string, unknown>, what: string): z.infer<Schema> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
  throw new ConfigError(`Invalid ${what} configuration; set these environment variables:\n${problems}`);
}

/** A variable that may be unset; an empty or blank value counts as unset. */
export const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** A whole number above zero, `fallback` when unset; a bad value names `variable`. */
export const positiveInteger = (variable: string, fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : Number(value)))
    .pipe(z.number({ message: `${variable} must be a positive integer` }).int({ message: `${variable} must be a positive integer` }).positive({ message: `${variable} must be a positive integer` }));
