import { build } from 'esbuild';

/** Every file of ours that an entry's import graph reaches, packages left out. */
export async function ownImportGraph(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node24',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = result.metafile.inputs;
  const packages = new Set(
    Object.values(inputs).flatMap((input) => input.imports.filter((imported) => imported.external).map((imported) => imported.path)),
  );
  return { files: Object.keys(inputs), packages: [...packages] };
}
