import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** The parts of a Lambda Function URL request event (payload format 2.0) the handlers read. */
export interface FunctionUrlEvent {
  version: '2.0';
  routeKey: '$default';
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string>;
  cookies?: string[];
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    requestId: string;
    routeKey: '$default';
    stage: '$default';
    time: string;
    timeEpoch: number;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
  };
  body?: string;
  isBase64Encoded: boolean;
}

export interface FunctionUrlResult {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  body?: string;
  isBase64Encoded?: boolean;
  cookies?: string[];
}

export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  getRemainingTimeInMillis(): number;
}

export type LambdaHandler = (event: FunctionUrlEvent, context: LambdaContext) => Promise<FunctionUrlResult | string | undefined | null>;

/**
 * Any Lambda handler: Bolt and Hono each type the event their own way (a missing body is
 * `undefined` to one, `null` to the other), and each accepts what a Function URL sends.
 */
export type AnyLambdaHandler = (event: never, context: never) => Promise<unknown>;

/** The context of one invocation of a 5-second, 256 MB function. */
function invocationContext(): LambdaContext {
  const deadline = Date.now() + 5000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'ingress-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ingress-bench',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/ingress-bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Bodies of these types arrive as text; any other body is base64-encoded. */
const TEXT_CONTENT = /^(text\/|application\/(json|xml|javascript)\b)/i;

/** What the Function URL front end makes of an HTTP request: lower-case headers, repeated ones joined by commas. */
export function toFunctionUrlEvent(request: IncomingMessage, body: Buffer): FunctionUrlEvent {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name !== 'cookie' && value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const domainName = headers.host ?? 'localhost';
  const now = new Date();
  const textual = TEXT_CONTENT.test(headers['content-type'] ?? '');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(request.headers.cookie ? { cookies: request.headers.cookie.split('; ') } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bench',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
    },
    ...(body.length ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !textual,
  };
}

/**
 * Serves a Lambda handler as its Function URL would: each request becomes an event, the result becomes the response; a result that
 * is not an object with a status code is a 200 with that JSON body, as Lambda does.
 */
export function serveLambdaHandler(anyHandler: AnyLambdaHandler, port = 0, host = '127.0.0.1'): Promise<Server> {
  const handler = anyHandler as LambdaHandler;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      handler(toFunctionUrlEvent(request, Buffer.concat(chunks)), invocationContext()).then(
        (result) => {
          if (result && typeof result === 'object' && 'statusCode' in result) {
            const headers = { ...(result.headers ?? {}), ...(result.cookies?.length ? { 'set-cookie': result.cookies } : {}) };
            response.writeHead(result.statusCode ?? 200, headers as Record<string, string | string[]>);
            response.end(result.body === undefined ? '' : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'));
          } else {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end(result === undefined ? '' : JSON.stringify(result));
          }
        },
        (error: unknown) => {
          // Lambda answers an invocation error with 502.
          console.error(error);
          response.writeHead(502, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ message: 'Internal Server Error' }));
        },
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
