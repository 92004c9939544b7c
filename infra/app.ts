import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { createApp } from './create-app.ts';

/**
 * Run by the CDK CLI from the repository root (`npx cdk synth`, `npm run cdk -- deploy`), the
 * CLI reads cdk.json and passes the output folder and the context. Run directly (`npm run
 * synth`, `node infra/app.ts -c key=value …`), the app reads cdk.json's context and the `-c`
 * arguments itself and writes cdk.out at the root, as the CLI would, so a synth needs no CLI.
 */
const launchedByCli = process.env.CDK_OUTDIR !== undefined;
const app = launchedByCli
  ? new App()
  : new App({
      outdir: new URL('../cdk.out', import.meta.url).pathname,
      context: { ...cdkJsonContext(), ...contextArguments(process.argv.slice(2)) },
    });
createApp(app).app.synth();
if (!launchedByCli) console.error(`Synthesised to ${app.outdir}`);

function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/** `-c key=value` and `--context key=value`, as the CLI takes them. */
function contextArguments(args: string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let index = 0; index < args.length; index++) {
    const argument = args[index]!;
    if (argument !== '-c' && argument !== '--context') throw new Error(`Unknown argument ${argument}; pass settings as -c key=value`);
    const pair = args[++index] ?? '';
    const separator = pair.indexOf('=');
    if (separator < 1) throw new Error(`Expected key=value after ${argument}, got "${pair}"`);
    context[pair.slice(0, separator)] = pair.slice(separator + 1);
  }
  return context;
}
