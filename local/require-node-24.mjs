// Plain JavaScript on purpose: it runs first, on any Node, before a .ts file is parsed, so an
// old Node gets one line naming the fix instead of "Unknown file extension .ts".
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `durable-agents needs Node 24 or newer (this is Node ${process.versions.node}): it runs its TypeScript files directly. ` +
      'Install Node 24 (https://nodejs.org, or `nvm install 24`), then run the command again.',
  );
  process.exit(1);
}
