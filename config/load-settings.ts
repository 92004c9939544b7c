import * as z from 'zod';
import { parseDuration } from '../core/duration.ts';

/** A setting is missing or malformed; the message names every variable to set. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables as a program receives them (`process.env`, or a test's record). */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Validates environment variables against a zod schema, once, at the edge of a program.
 * `what` names the part being configured ("Slack edge", "worker", …).
 */
export function loadSettingsFrom<Schema extends z.ZodType>(schema: Schema, env: Record<string, unknown>, what: string): z.infer<Schema> {
  return loadSettingGroups({ settings: schema }, env, what).settings;
}

/**
 * Validates several groups of settings read from one environment, and reports the problems
 * of every group in one error, so a program that lacks three variables says so once, not
 * three times over three restarts.
 */
export function loadSettingGroups<Groups extends Record<string, z.ZodType>>(
  groups: Groups,
  env: Record<string, unknown>,
  what: string,
): { [Name in keyof Groups]: z.infer<Groups[Name]> } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(groups)) {
    const parsed = schema.safeParse(env);
    if (parsed.success) values[name] = parsed.data;
    else for (const issue of parsed.error.issues) problems.push(`  ${issue.path.join('.')}: ${issue.message}`);
  }
  if (problems.length > 0)
    throw new ConfigError(`Invalid ${what} configuration; set these environment variables:\n${[...new Set(problems)].join('\n')}`);
  return values as { [Name in keyof Groups]: z.infer<Groups[Name]> };
}

/** A variable that may be unset; an empty or blank value counts as unset. */
export const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** A variable that must be set and not blank; the message says what it is for. */
export const requiredText = (variable: string, purpose: string) =>
  z
    .string({ message: `${variable} is not set: ${purpose}` })
    .trim()
    .min(1, { message: `${variable} is empty: ${purpose}` });

/** A URL that may be unset. */
export const optionalUrl = (variable: string) =>
  optionalText.pipe(z.url({ message: `${variable} must be a URL, e.g. http://127.0.0.1:8080` }).optional());

/** `true`/`false` (also `1`/`0`, `yes`/`no`); unset or empty is `fallback`. */
export const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : ['true', '1', 'yes'].includes(value)));

/** A Temporal duration such as '30 seconds', '24 hours' or '1h'; unset is `fallback`. */
export const duration = (variable: string, fallback: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : value))
    .refine((value) => (parseDuration(value) ?? -1) >= 0, {
      message: `${variable} must be a duration such as '30 seconds', '1 hour' or '24h'`,
    });

/** A whole number above zero, `fallback` when unset; a bad value names `variable`. */
export const positiveInteger = (variable: string, fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : Number(value)))
    .pipe(
      z
        .number({ message: `${variable} must be a positive integer` })
        .int({ message: `${variable} must be a positive integer` })
        .positive({ message: `${variable} must be a positive integer` }),
    );

/**
 * For a program's entry: the settings `load` reads, or, when one is missing or bad, the
 * message naming every variable on stderr and exit code 1, with no stack trace.
 */
export function settingsOrExit<Settings>(load: () => Settings, prefix = ''): Settings {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${prefix}${error.message}`);
    process.exit(1);
  }
}
