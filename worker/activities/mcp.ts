import { ApplicationFailure, Context } from '@temporalio/activity';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { MCP_CALL_ACTIVITY, MCP_LIST_TOOLS_ACTIVITY, type McpActivities } from '../../core/contracts/mcp.ts';
import { durationMs } from '../../core/duration.ts';
import * as z from 'zod';
import { approvalTarget } from '../../core/contracts/tools.ts';
import type { McpServerConfig, McpServerRef, ToolOutcome, ToolSpec } from '../../core/spec.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import { approvedArgs, type ApprovalRecords } from '../../store/approval-records.ts';
import { startHeartbeats } from './heartbeat.ts';
import { storeOutcome } from './tools.ts';

/** An MCP server as the worker runs it: what it starts or calls, and whether each call needs a person's approval. */
export type WorkerMcpServer = McpServerConfig & {
  /** Whether every call to this server's tools needs a recorded approval, whatever a spec says. @default false */
  approval?: boolean;
};

export interface McpActivityDeps {
  store: TranscriptStore;
  /** The servers specs may name, by name; nothing else is ever started or called. */
  servers: Readonly<Record<string, WorkerMcpServer>>;
  /** Where the approvals of calls to servers with `approval` are checked. */
  approvals: ApprovalRecords;
}

/** Pages of `tools/list` read per server; a server with more tools than this is cut off. */
const MAX_TOOL_PAGES = 20;
const DEFAULT_TIMEOUT = '1 minute';

/** The name this worker gives itself to MCP servers. */
const CLIENT_NAME = 'durable-agents';

/** The connections the MCP activities keep open, closed when the worker stops. */
export interface McpConnections {
  /** Closes every open connection (stdio servers exit). */
  close(): Promise<void>;
}

/**
 * MCP tools as activities. `mcp:listTools` runs once at the start of an agent run, so the
 * tool list is in history and replay never asks a server again; `mcp:call` runs one call,
 * keyed by server and tool, and stores its outcome like any tool's. A spec names servers;
 * the worker resolves the names in its own configuration (`servers`), so workflow input never
 * chooses a program or a URL, and an unknown name fails for good. Arguments are checked
 * against the tool's JSON Schema as the server lists it, before the server sees them.
 * Connections are kept per server and reopened when one drops.
 */
export function createMcpActivities({ store, servers, approvals }: McpActivityDeps): McpActivities & McpConnections {
  const connections = new Map<string, Promise<Client>>();
  /** Argument validators by `<server>/<tool>`, from the server's own listing. */
  const validators = new Map<string, z.ZodType | Error>();

  const keyOf = (server: Named) => server.name;

  function resolve(ref: McpServerRef): Named {
    const name = typeof ref?.name === 'string' ? ref.name : '';
    const server = Object.hasOwn(servers, name) ? servers[name] : undefined;
    if (!server) {
      throw ApplicationFailure.nonRetryable(
        `No MCP server named "${name}" on this worker; a spec names servers and the worker decides what they run. Servers: ${Object.keys(servers).join(', ') || 'none'}.`,
        'UnknownMcpServer',
      );
    }
    return { ...server, name };
  }

  function learn(server: Named, tool: string, inputSchema: unknown): void {
    let validator: z.ZodType | Error;
    try {
      validator = z.fromJSONSchema(inputSchema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (error) {
      validator = error instanceof Error ? error : new Error(String(error));
    }
    validators.set(`${server.name}/${tool}`, validator);
  }

  async function validatorOf(server: Named, tool: string, client: Client): Promise<z.ZodType | Error | undefined> {
    const key = `${server.name}/${tool}`;
    if (!validators.has(key)) {
      // Another process listed the tools: ask the server for the schema once.
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { signal: Context.current().cancellationSignal });
        for (const listed of page.tools) learn(server, listed.name, listed.inputSchema);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < MAX_TOOL_PAGES && !validators.has(key));
    }
    return validators.get(key);
  }

  function connect(server: Named): Promise<Client> {
    const key = keyOf(server);
    let connection = connections.get(key);
    if (!connection) {
      const client = new Client({ name: CLIENT_NAME, version: '1.0.0' });
      const transport =
        server.transport === 'stdio'
          ? new StdioClientTransport({
              command: server.command,
              args: server.args ?? [],
              ...(server.cwd ? { cwd: server.cwd } : {}),
              stderr: 'ignore',
            })
          : new StreamableHTTPClientTransport(new URL(server.url));
      client.onclose = () => {
        if (connections.get(key) === connection) connections.delete(key);
      };
      connection = client.connect(transport).then(() => client);
      connection.catch(() => {
        if (connections.get(key) === connection) connections.delete(key);
      });
      connections.set(key, connection);
    }
    return connection;
  }

  /** Drops a connection that failed, so the next attempt opens a new one. */
  async function forget(server: Named): Promise<void> {
    const key = keyOf(server);
    const connection = connections.get(key);
    connections.delete(key);
    await connection?.then((client) => client.close()).catch(() => undefined);
  }

  return {
    async [MCP_LIST_TOOLS_ACTIVITY]({ servers: refs }) {
      const tools: ToolSpec[] = [];
      const names = new Set<string>();
      for (const ref of refs) {
        const server = resolve(ref);
        const client = await connect(server);
        let cursor: string | undefined;
        let pages = 0;
        try {
          do {
            const page = await client.listTools(cursor ? { cursor } : undefined, { signal: Context.current().cancellationSignal });
            for (const tool of page.tools) {
              learn(server, tool.name, tool.inputSchema);
              if (ref.tools && !ref.tools.includes(tool.name)) continue;
              const name = uniqueName(`${server.name}_${tool.name}`, names);
              const { $schema: _schema, ...parameters } = tool.inputSchema as Record<string, unknown>;
              tools.push({
                name,
                description: (tool.description ?? tool.title ?? tool.name).slice(0, 1_000),
                parameters,
                timeout: ref.timeout ?? DEFAULT_TIMEOUT,
                retry: ref.retry ?? { maximumAttempts: 3 },
                approval: server.approval || ref.approval ? 'always' : 'never',
                mcp: { server: server.name, tool: tool.name },
              });
            }
            cursor = page.nextCursor;
            pages += 1;
          } while (cursor && pages < MAX_TOOL_PAGES);
        } catch (error) {
          await forget(server);
          throw error;
        }
      }
      return { tools };
    },

    async [MCP_CALL_ACTIVITY]({ server: ref, tool, call, approval }) {
      const server = resolve(ref);
      const args = (call.argsRef ? await store.get(call.argsRef) : (call.args ?? {})) as Record<string, unknown>;
      if (server.approval)
        await approvals.check(approval, {
          target: approvalTarget({ name: call.name, mcp: { server: server.name, tool } }),
          args: approvedArgs(call),
        });
      const context = Context.current();
      const client = await connect(server);
      const heartbeats = startHeartbeats();
      let outcome: ToolOutcome;
      try {
        const validator = await validatorOf(server, tool, client);
        const refusal = checkArguments(server.name, tool, validator, args);
        if (refusal) return await storeOutcome(store, call, refusal);
        const calling = client.callTool({ name: tool, arguments: args }, undefined, {
          signal: context.cancellationSignal,
          timeout: durationMs(ref.timeout ?? DEFAULT_TIMEOUT),
        });
        calling.catch(() => undefined);
        const result = await Promise.race([calling, context.cancelled]);
        outcome = result.isError
          ? { ok: false, error: { type: 'McpToolError', message: textOf(result.content) || 'The tool reported an error.' } }
          : { ok: true, result: result.structuredContent ?? simplify(result.content) };
      } catch (error) {
        if (context.cancellationSignal.aborted) throw error;
        // Bad arguments are the model's to correct; anything else may be the connection, so retry on a new one.
        if (error instanceof McpError && (error.code === ErrorCode.InvalidParams || error.code === ErrorCode.MethodNotFound)) {
          outcome = { ok: false, error: { type: 'McpInvalidCall', message: error.message } };
        } else {
          await forget(server);
          if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
            throw ApplicationFailure.retryable(`MCP server "${server.name}" did not answer ${tool} in time.`, 'McpTimeout');
          }
          throw error;
        }
      } finally {
        heartbeats.stop();
      }
      return storeOutcome(store, call, outcome);
    },

    async close(): Promise<void> {
      const open = [...connections.values()];
      connections.clear();
      await Promise.all(open.map((connection) => connection.then((client) => client.close()).catch(() => undefined)));
    },
  };
}

type Named = WorkerMcpServer & { name: string };

/** A refusal the model can correct when the arguments do not fit the tool's schema; nothing for arguments that do. */
function checkArguments(server: string, tool: string, validator: z.ZodType | Error | undefined, args: unknown): ToolOutcome | undefined {
  if (validator === undefined)
    return { ok: false, error: { type: 'UnknownTool', message: `MCP server "${server}" lists no tool "${tool}".` } };
  // A schema this worker cannot read is refused rather than passed through unchecked.
  if (validator instanceof Error)
    return {
      ok: false,
      error: { type: 'McpSchemaUnsupported', message: `The input schema of ${server}/${tool} cannot be checked: ${validator.message}` },
    };
  const parsed = validator.safeParse(args);
  return parsed.success ? undefined : { ok: false, error: { type: 'InvalidArguments', message: z.prettifyError(parsed.error) } };
}

function uniqueName(wanted: string, taken: Set<string>): string {
  const base = wanted
    .replace(/[^a-zA-Z0-9_-]/g, '_')
    .replace(/^[^a-zA-Z_]/, '_')
    .slice(0, 60);
  let name = base;
  for (let suffix = 2; taken.has(name); suffix += 1) name = `${base}_${suffix}`;
  taken.add(name);
  return name;
}

type ContentBlock = { type: string; text?: string; [key: string]: unknown };

function textOf(content: unknown): string {
  return (Array.isArray(content) ? (content as ContentBlock[]) : [])
    .filter((block) => block.type === 'text')
    .map((block) => block.text ?? '')
    .join('\n');
}

/** Text-only results read as text (parsed when it is JSON); other content stays as the server sent it. */
function simplify(content: unknown): unknown {
  const blocks = Array.isArray(content) ? (content as ContentBlock[]) : [];
  if (blocks.length === 0 || blocks.some((block) => block.type !== 'text')) return { content: blocks };
  const text = textOf(blocks);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { text };
  }
}
