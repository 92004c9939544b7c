import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_PAGE, renderConfigurationPage } from '../../cli/configuration-page.ts';
import { DEPLOYABLES } from '../../config/configuration-reference.ts';
import { undescribedFields } from '../../config/setting-docs.ts';

/**
 * docs/configuration.md is generated from the settings schemas; these tests keep the two in
 * step and make every field say what it is for.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every settings schema the modules of config/ export, by module and export name. */
async function exportedSettingsSchemas(): Promise<Array<{ name: string; schema: z.ZodObject }>> {
  const found: Array<{ name: string; schema: z.ZodObject }> = [];
  for (const file of readdirSync(`${ROOT}config`).filter((name) => name.endsWith('-settings.ts'))) {
    const module = (await import(`../../config/${file}`)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module))
      if (value instanceof z.ZodObject) found.push({ name: `config/${file}: ${name}`, schema: value });
  }
  return found;
}

describe('the configuration reference', () => {
  it('is what the schemas render', () => {
    const written = readFileSync(`${ROOT}${CONFIGURATION_PAGE}`, 'utf8').split('\n');
    const rendered = renderConfigurationPage().split('\n');
    const line = rendered.findIndex((text, index) => text !== written[index]);
    const first = line === -1 ? rendered.length : line;
    expect(
      written.length === rendered.length && line === -1,
      `${CONFIGURATION_PAGE} differs from the settings schemas from line ${first + 1} ("${rendered[first] ?? ''}"): run \`npm run docs\``,
    ).toBe(true);
  });

  it('describes every field it shows', () => {
    const undescribed = DEPLOYABLES.flatMap((deployable) =>
      deployable.groups.flatMap((group) => undescribedFields(group.schema).map((field) => `${deployable.title}, ${group.title}: ${field}`)),
    );
    expect(undescribed, "give these fields .meta({ description: '…' }) in their schema").toEqual([]);
  });

  it('shows every field of every settings schema config/ exports', async () => {
    const shown = new Set(DEPLOYABLES.flatMap((deployable) => deployable.groups.flatMap((group) => Object.values(group.schema.shape))));
    const schemas = await exportedSettingsSchemas();
    expect(schemas.map(({ name }) => name)).toContain('config/worker-settings.ts: workerConnectionSchema');
    const missing = schemas.flatMap(({ name, schema }) =>
      Object.entries(schema.shape)
        .filter(([, field]) => !shown.has(field))
        .map(([field]) => `${name}.${field}`),
    );
    expect(missing, 'add their groups to DEPLOYABLES in config/configuration-reference.ts').toEqual([]);
  });
});
