import { pathToFileURL } from 'node:url';
import { serveLambdaHandler, type AnyLambdaHandler } from './function-url.ts';

// `node bench/ingress/serve-bundle.ts <bundle.mjs>`, started by the ingress bench with an IPC
// channel: loads a built Lambda bundle, serves its handler on a free port, reports the port.
const bundle = process.argv[2];
if (!bundle || !process.send) throw new Error('usage: started by bench/ingress.ts with an IPC channel: serve-bundle.ts <bundle.mjs>');
const loadStarted = performance.now();
const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: AnyLambdaHandler };
const loadMs = performance.now() - loadStarted;
const server = await serveLambdaHandler(handler);
const address = server.address();
process.send({ port: typeof address === 'object' && address ? address.port : 0, loadMs });
process.on('disconnect', () => server.close(() => process.exit(0)));
