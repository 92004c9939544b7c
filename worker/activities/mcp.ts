import { ApplicationFailure, Context } from '@temporalio/activity';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { MCP_CALL_ACTIVITY, MCP_LIST_TOOLS_ACTIVITY, type McpActivities } from '../../core/contracts/mcp.ts';
import { durationMs } from '../../core/duration.ts';
import type { McpServerSpec, ToolOutcome, ToolSpec } from '../../core/spec.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import { startHeartbeats } from './heartbeat.ts';
import { storeOutcome } from './tools.ts';

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
 * keyed by server and tool, and stores its outcome like any tool's. Connections are kept
 * per server configuration and reopened when one drops.
 */
export function createMcpActivities(store: TranscriptStore): McpActivities & McpConnections {
  const connections = new Map<string, Promise<Client>>();

  const keyOf = (server: McpServerSpec) =>
    JSON.stringify(server.transport === 'stdio' ? [server.transport, server.command, server.args ?? [], server.cwd ?? ''] : [server.transport, server.url]);

  function connect(server: McpServerSpec): Promise<Client> {
    const key = keyOf(server);
    let connection = connections.get(key);
    if (!connection) {
      const client = new Client({ name: CLIENT_NAME, version: '1.0.0' });
      const transport =
        server.transport === 'stdio'
          ? new StdioClientTransport({ command: server.command, args: server.args ?? [], ...(server.cwd ? { cwd: server.cwd } : {}), stderr: 'ignore' })
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
  async function forget(server: McpServerSpec): Promise<void> {
    const key = keyOf(server);
    const connection = connections.get(key);
    connections.delete(key);
    await connection?.then((client) => client.close()).catch(() => undefined);
  }

  return {
    async [MCP_LIST_TOOLS_ACTIVITY]({ servers }) {
      const tools: ToolSpec[] = [];
      const names = new Set<string>();
      for (const server of servers) {
        const client = await connect(server);
        let cursor: string | undefined;
        let pages = 0;
        try {
          do {
            const page = await client.listTools(cursor ? { cursor } : undefined, { signal: Context.current().cancellationSignal });
            for (const tool of page.tools) {
              if (server.tools && !server.tools.includes(tool.name)) continue;
              const name = uniqueName(`${server.name}_${tool.name}`, names);
              const { $schema: _schema, ...parameters } = tool.inputSchema as Record<string, unknown>;
              tools.push({
                name,
                description: (tool.description ?? tool.title ?? tool.name).slice(0, 1_000),
                parameters,
                timeout: server.timeout ?? DEFAULT_TIMEOUT,
                retry: server.retry ?? { maximumAttempts: 3 },
                approval: server.approval ? 'always' : 'never',
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

    async [MCP_CALL_ACTIVITY]({ server, tool, call }) {
      const args = (call.argsRef ? await store.get(call.argsRef) : (call.args ?? {})) as Record<string, unknown>;
      const context = Context.current();
      const client = await connect(server);
      const heartbeats = startHeartbeats();
      let outcome: ToolOutcome;
      try {
        const calling = client.callTool({ name: tool, arguments: args }, undefined, {
          signal: context.cancellationSignal,
          timeout: durationMs(server.timeout ?? DEFAULT_TIMEOUT),
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

function uniqueName(wanted: string, taken: Set<string>): string {
  const base = wanted.replace(/[^a-zA-Z0-9_-]/g, '_').replace(/^[^a-zA-Z_]/, '_').slice(0, 60);
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
