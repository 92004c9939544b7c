import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The contracts in core/contracts/ are the only place an activity's input and output are
 * written down: workflows call activities through `proxyActivities<Contract>()`, so a change
 * to a contract that a workflow does not follow must fail to compile. These tests compile the
 * real workflow files with one contract changed in memory and expect the compiler to object.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOWS_INDEX = `${ROOT}workflows/index.ts`;

function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(`${ROOT}tsconfig.json`, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  // Workflows run in a sandbox: they need neither Node's types nor the DOM's.
  return { ...parsed.options, types: [], noEmit: true };
}

const options = compilerOptions();
const baseHost = ts.createCompilerHost(options);
// Parsed once per file: the SDK's protobuf declarations alone are megabytes.
const parsed = new Map<string, ts.SourceFile | undefined>();
let previous: ts.Program | undefined;

/**
 * Type errors of `files` (all of the program's own files by default) in a program rooted at
 * workflows/index.ts, with `overlay` replacing files' text.
 */
function typeErrors(overlay: Record<string, string> = {}, files?: string[]): { file: string; message: string }[] {
  const overlaid = new Map(Object.entries(overlay).map(([path, text]) => [`${ROOT}${path}`, text]));
  const host: ts.CompilerHost = {
    ...baseHost,
    readFile: (path) => overlaid.get(path) ?? baseHost.readFile(path),
    getSourceFile: (path, language, onError) => {
      const text = overlaid.get(path);
      if (text !== undefined) return ts.createSourceFile(path, text, language);
      if (!parsed.has(path)) parsed.set(path, baseHost.getSourceFile(path, language, onError));
      return parsed.get(path);
    },
  };
  const program = ts.createProgram({ rootNames: [WORKFLOWS_INDEX], options, host, ...(previous ? { oldProgram: previous } : {}) });
  previous = program;
  const checked = files
    ? files.map((file) => program.getSourceFile(`${ROOT}${file}`)!)
    : program.getSourceFiles().filter((source) => !source.fileName.includes('/node_modules/'));
  return checked
    .flatMap((source) => [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)])
    .map((diagnostic) => ({
      file: diagnostic.file ? diagnostic.file.fileName.slice(ROOT.length) : '(options)',
      message: ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
    }));
}

/** `path`'s text with `find` replaced; fails loudly when the contract no longer reads that way. */
function changed(path: string, find: string, replace: string): Record<string, string> {
  const text = readFileSync(`${ROOT}${path}`, 'utf8');
  if (!text.includes(find)) throw new Error(`${path} no longer contains ${JSON.stringify(find)}: update this test's change.`);
  return { [path]: text.replace(find, replace) };
}

/** One change per contract, each of a shape a workflow sends or reads, and the workflow file that must notice. */
const CHANGES: { contract: string; change: string; find: string; replace: string; noticedIn: string }[] = [
  {
    contract: 'core/contracts/model.ts',
    change: 'a required field added to the model input',
    find: '  head: MessageRef;\n  /** Results of the previous',
    replace: '  head: MessageRef;\n  temperature: number;\n  /** Results of the previous',
    noticedIn: 'workflows/agent-run.ts',
  },
  {
    contract: 'core/contracts/model.ts',
    change: 'the model output renamed a field',
    find: "  /** The transcript with the model's response appended. */\n  head: MessageRef;",
    replace: "  /** The transcript with the model's response appended. */\n  newHead: MessageRef;",
    noticedIn: 'workflows/agent-run.ts',
  },
  {
    contract: 'core/contracts/transcript.ts',
    change: 'a transcript append takes one message, not a list',
    find: 'messages: Content[];',
    replace: 'message: Content;',
    noticedIn: 'workflows/conversation-turn.ts',
  },
  {
    contract: 'core/contracts/tools.ts',
    change: 'a required field added to the approval predicate input',
    find: 'export interface NeedsApprovalInput {\n',
    replace: 'export interface NeedsApprovalInput {\n  agent: string;\n',
    noticedIn: 'workflows/tool-calls.ts',
  },
  {
    contract: 'core/contracts/tools.ts',
    change: 'a required field added to a tool activity input',
    find: 'export interface ToolInput {\n',
    replace: 'export interface ToolInput {\n  attempt: number;\n',
    noticedIn: 'workflows/tool-calls.ts',
  },
  {
    contract: 'core/contracts/mcp.ts',
    change: 'an MCP call takes the server by name',
    find: '  server: McpServerRef;\n  /** The tool',
    replace: '  server: string;\n  /** The tool',
    noticedIn: 'workflows/tool-calls.ts',
  },
  {
    contract: 'core/contracts/agents.ts',
    change: 'a required field added to the agent lookup',
    find: '  name: string;\n}',
    replace: '  name: string;\n  version: number;\n}',
    noticedIn: 'workflows/conversation-turn.ts',
  },
  {
    contract: 'core/contracts/replies.ts',
    change: 'a required field added to the status reply',
    find: 'export interface ReplyStatusInput {\n',
    replace: 'export interface ReplyStatusInput {\n  postedBy: string;\n',
    noticedIn: 'workflows/conversation-status.ts',
  },
  {
    contract: 'core/contracts/replies.ts',
    change: 'a required field added to the approval request reply',
    find: 'export interface ReplyApprovalInput {\n',
    replace: 'export interface ReplyApprovalInput {\n  urgency: number;\n',
    noticedIn: 'workflows/approvals.ts',
  },
  {
    contract: 'core/contracts/conversations.ts',
    change: 'a required field added to the conversation save',
    find: 'export interface SaveConversationInput {\n',
    replace: 'export interface SaveConversationInput {\n  savedAt: string;\n',
    noticedIn: 'workflows/conversation-turn.ts',
  },
  {
    contract: 'core/contracts/conversations.ts',
    change: 'the conversation load keyed differently',
    find: 'export interface LoadConversationInput {\n  conversationId: string;',
    replace: 'export interface LoadConversationInput {\n  id: string;',
    noticedIn: 'workflows/conversation.ts',
  },
];

describe('activity contracts bind workflows', () => {
  it('the workflows compile clean against the contracts as they are', () => {
    const errors = typeErrors();
    expect(errors).toEqual([]);
  });

  it.each(CHANGES)('$contract: $change fails to compile in $noticedIn', ({ contract, find, replace, noticedIn }) => {
    const errors = typeErrors(changed(contract, find, replace), [noticedIn]);
    expect(errors.map(({ file }) => file)).toContain(noticedIn);
  });
});
