#!/usr/bin/env node
// scout-mcp: Scout's MCP server, on stdio (for Claude Code, Claude Desktop, any MCP client) or, with --http,
// on streamable HTTP for a team.
(await import('../protocol/version.js')).binaryArgs(
  'scout-mcp',
  `scout-mcp — Scout's MCP server (stdio, or streamable HTTP)

Usage: scout-mcp [--http [--host 127.0.0.1] [--port 8000]] [--version] [--help]

Speaks MCP on stdin/stdout; add it to an MCP client, e.g.: claude mcp add scout -- scout-mcp
With --http (or SCOUT_TRANSPORT=http) it serves MCP at http://HOST:PORT/mcp instead: API keys from
'scoutctl keys add', a rate limit per key, loopback by default (docs/mcp.md, "Over HTTP").
Forwards every call to scoutd ($SCOUT_SOCKET, else $XDG_RUNTIME_DIR/scout/scoutd.sock, else
/tmp/scout-$UID/scoutd.sock) and starts scoutd when none runs (its log: ~/.local/state/scout/scoutd.log).
`,
  { flags: ['--http'], valued: ['--host', '--port'] },
);
const argv = process.argv.slice(2);
const transport = argv.includes('--http') ? 'http' : (process.env.SCOUT_TRANSPORT ?? 'stdio').trim().toLowerCase();
try {
  if (transport === 'http') {
    const [{ httpOptions, startHttp }, { pino }] = await Promise.all([import('../mcp/http.js'), import('pino')]);
    const log = pino({ name: 'scout-mcp', level: process.env.SCOUT_LOG_LEVEL?.toLowerCase() || 'info' }, pino.destination(2));
    const running = await startHttp(httpOptions(argv, process.env), process.env, log);
    const stop = () => void running.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } else if (transport === 'stdio') {
    if (argv.some((a) => /^--(host|port)(=|$)/.test(a))) throw new Error('--host and --port go with --http');
    const { runStdio } = await import('../mcp/server.js');
    await runStdio();
  } else {
    throw new Error(`SCOUT_TRANSPORT must be stdio or http, got '${process.env.SCOUT_TRANSPORT}'`);
  }
} catch (err) {
  // A setting it cannot honour (SCOUT_MCP_TOOLS=…, a public --host without keys): said on stderr, where MCP
  // clients and service managers show a server's log.
  process.stderr.write(`scout-mcp: ${(err as Error).message}\n`);
  process.exit(1);
}
