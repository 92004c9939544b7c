import * as z from 'zod';

/**
 * What a settings field says about itself, for the configuration reference (`npm run docs`
 * writes docs/configuration.md from it). Each field of a settings schema carries it with zod's
 * `.meta({ description, … })`, called last so that nothing wraps the field after it; its
 * default is not written here but found by parsing an unset value, so it cannot drift.
 */
declare module 'zod' {
  interface GlobalMeta {
    /** What an unset variable means when its parsed value does not say it (`Google's endpoint`), or a gloss of a default (`1 MiB`). */
    unset?: string;
    /** When a variable that may be left unset must be set after all (`with SLACK_BOT_TOKEN`). */
    requiredWhen?: string;
  }
}

/** One variable (or CDK context key) as the reference shows it. */
export interface SettingRow {
  name: string;
  description: string;
  /** Markdown: the parsed default in backticks, with its gloss, or what unset means. */
  default: string;
  /** `yes`, `no`, or the condition under which it is. */
  required: string;
}

/** A schema's fields: a `z.object`, refined or not (refinements keep the shape). */
export type SettingsSchema = z.ZodObject;

/** The fields of `schema` with no description, which the reference would show blank. */
export function undescribedFields(schema: SettingsSchema): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !z.globalRegistry.get(field as z.ZodType)?.description?.trim())
    .map(([name]) => name);
}

/** The rows of `schema`, in its order; descriptions, defaults and conditions come from the fields themselves. */
export function settingRows(schema: SettingsSchema): SettingRow[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const meta = z.globalRegistry.get(field as z.ZodType) ?? {};
    const unset = (field as z.ZodType).safeParse(undefined);
    const value = unset.success ? unset.data : undefined;
    const shown =
      value === undefined || (Array.isArray(value) && value.length === 0) || (isRecord(value) && Object.keys(value).length === 0)
        ? undefined
        : formatValue(value);
    return {
      name,
      description: meta.description ?? '',
      default: !unset.success
        ? '—'
        : shown === undefined
          ? (meta.unset ?? (Array.isArray(value) ? 'none' : 'unset'))
          : meta.unset
            ? `${shown} (${meta.unset})`
            : shown,
      required: !unset.success ? 'yes' : (meta.requiredWhen ?? 'no'),
    };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'empty' : `\`${value}\``;
  if (typeof value === 'number' || typeof value === 'boolean') return `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}
