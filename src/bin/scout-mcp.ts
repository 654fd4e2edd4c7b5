#!/usr/bin/env node
// scout-mcp: Scout's MCP server on stdio (for Claude Code, Claude Desktop, any MCP client).
(await import('../protocol/version.js')).binaryArgs(
  'scout-mcp',
  `scout-mcp — Scout's MCP server (stdio)

Usage: scout-mcp [--version] [--help]

Speaks MCP on stdin/stdout; add it to an MCP client, e.g.: claude mcp add scout -- scout-mcp
Forwards every call to scoutd ($SCOUT_SOCKET, else $XDG_RUNTIME_DIR/scout/scoutd.sock, else
/tmp/scout-$UID/scoutd.sock) and starts scoutd when none runs (its log: ~/.local/state/scout/scoutd.log).
`,
);
const { runStdio } = await import('../mcp/server.js');
try {
  await runStdio();
} catch (err) {
  // A setting it cannot honour (SCOUT_MCP_TOOLS=…): said on stderr, where MCP clients show a server's log.
  process.stderr.write(`scout-mcp: ${(err as Error).message}\n`);
  process.exit(1);
}
