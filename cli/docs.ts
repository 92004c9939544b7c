import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIGURATION_PAGE, renderConfigurationPage } from './configuration-page.ts';

// `npm run docs`: writes the generated pages of docs/ (today the configuration reference,
// from the settings schemas). test/docs/configuration.test.ts fails until it has run.
const path = fileURLToPath(new URL(`../${CONFIGURATION_PAGE}`, import.meta.url));
writeFileSync(path, renderConfigurationPage());
console.log(`Wrote ${CONFIGURATION_PAGE}.`);
