import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** The repository root: entries are given relative to it. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Under the repository, so `@aws-sdk/*` left out of a bundle resolves from node_modules. */
export const BUNDLE_DIRECTORY = fileURLToPath(new URL('../out/ingress/', import.meta.url));

export interface IngressEntry {
  name: string;
  /** Entry file, relative to the repository root. */
  entry: string;
}

export interface BuiltBundle {
  /** Minified bytes of the bundle as AWS would upload it: `@aws-sdk/*` external. */
  bytes: number;
  /** The same with the AWS SDK bundled in. */
  bytesWithAwsSdk: number;
  path: string;
  pathWithAwsSdk: string;
  /** Size of each npm package (or `(own code)`) in the bundle as uploaded, largest first. */
  packages: { name: string; bytes: number }[];
  /** `@aws-sdk/*` packages the bundle imports at run time. */
  awsSdkImports: string[];
}

/**
 * Builds an entry as infra/constructs/node-lambda.ts has the CDK build it: minified ESM for
 * node24, `module` before `main`, the createRequire banner, `@aws-sdk/*` external (the Lambda
 * runtime provides it). A second build bundles the SDK too.
 */
export async function buildIngressBundle(entry: IngressEntry, plugins: Plugin[] = []): Promise<BuiltBundle> {
  mkdirSync(BUNDLE_DIRECTORY, { recursive: true });
  const path = `${BUNDLE_DIRECTORY}${entry.name}.mjs`;
  const pathWithAwsSdk = `${BUNDLE_DIRECTORY}${entry.name}-with-aws-sdk.mjs`;
  const asUploaded = await esbuild(entry.entry, path, ['@aws-sdk/*'], plugins);
  const withSdk = await esbuild(entry.entry, pathWithAwsSdk, [], plugins);
  const output = Object.values(asUploaded.metafile.outputs)[0]!;
  const packages = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? '(own code)';
    packages.set(name, (packages.get(name) ?? 0) + bytesInOutput);
  }
  return {
    bytes: output.bytes,
    bytesWithAwsSdk: Object.values(withSdk.metafile.outputs)[0]!.bytes,
    path,
    pathWithAwsSdk,
    packages: [...packages].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
    awsSdkImports: [
      ...new Set(output.imports.filter((entry) => entry.external && entry.path.startsWith('@aws-sdk/')).map((entry) => entry.path)),
    ].sort(),
  };
}

/**
 * Not the product: rewrites `import { z } from 'zod'` in the repository's own files to
 * `import * as z from 'zod'`, which lets esbuild drop the parts of zod nobody uses (its
 * locales above all); `rewrites` counts the files changed. Shows what that edit would buy.
 */
export function zodNamespaceImports(): { plugin: Plugin; rewrites: Set<string> } {
  const rewrites = new Set<string>();
  const named = /^import \{ z \} from 'zod';$/m;
  const plugin: Plugin = {
    name: 'zod-namespace-imports',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.startsWith(`${ROOT}node_modules/`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!named.test(source)) return undefined;
        rewrites.add(args.path.slice(ROOT.length));
        return { contents: source.replace(named, "import * as z from 'zod';"), loader: 'ts' };
      });
    },
  };
  return { plugin, rewrites };
}

function esbuild(entry: string, outfile: string, external: string[], plugins: Plugin[]) {
  return build({
    entryPoints: [`${ROOT}${entry}`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: false,
    mainFields: ['module', 'main'],
    external,
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    tsconfig: `${ROOT}tsconfig.json`,
    metafile: true,
    plugins,
    logLevel: 'error',
  });
}
