import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';

/** A small, real MCP server for the tests: order lookups, and a tool that always reports an error. */
export function createOrderServer(): McpServer {
  const server = new McpServer({ name: 'orders', version: '1.0.0' });
  server.registerTool(
    'lookup_order',
    {
      description: 'Finds an order by id.',
      inputSchema: { order: z.string().describe('Order id, e.g. "A-1".') },
    },
    async ({ order }) => ({
      content: [{ type: 'text', text: JSON.stringify({ order, status: order === 'A-1' ? 'shipped' : 'unknown', servedBy: process.pid }) }],
    }),
  );
  server.registerTool(
    'cancel_order',
    {
      description: 'Cancels an order.',
      inputSchema: { order: z.string().describe('Order id.') },
    },
    async ({ order }) => ({
      content: [{ type: 'text', text: `Order ${order} is already shipped and cannot be cancelled.` }],
      isError: true,
    }),
  );
  return server;
}
