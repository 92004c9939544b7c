import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createOrderServer } from './order-server.ts';

// Started by the MCP client of the tests (`node test/mcp/stdio-order-server.ts`): JSON-RPC over stdin and stdout.
await createOrderServer().connect(new StdioServerTransport());
