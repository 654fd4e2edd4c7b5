// MCP resources: `hosts://list`, `scout://{host}/{path}` (file contents or a directory listing), and Scout
// MCP's per-host views — `{host}://docker`, `{host}://compose`, `{host}://zfs`, `{host}://syslog` and their
// sub-paths — read through the daemon with commands. A host without docker, zfs or a log gets a sentence
// saying so, not a failure.
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { ScoutError } from '../protocol/errors.js';
import { shellQuote } from '../ssh/quote.js';
import { execText, fileText, hostsText, listingText } from './format.js';
import { remotePath } from '../protocol/paths.js';
import { outputPages } from './output-pages.js';
import { registerJobResources } from './job-resources.js';
import type { Rpc } from './tool.js';

/** Exit status a POSIX shell gives "command not found"; the resource scripts also use it for "not installed". */
const EXIT_NOT_FOUND = 127;
/** Lines of logs shown by the log resources (Scout MCP: 100). */
const LOG_LINES = 100;
/** Snapshots shown by `{host}://zfs/snapshots` (Scout MCP: the last 50). */
const SNAPSHOT_LINES = 50;
/** Names Scout MCP accepts for containers / compose projects / pools (also keeps them out of shell syntax). */
const CONTAINER_NAME = /^[a-zA-Z0-9_.-]+$/;
const PROJECT_NAME = /^[a-zA-Z0-9_-]+$/;

type Vars = Record<string, string | string[]>;

function one(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function text(uri: URL, body: string, mimeType = 'text/plain'): ReadResourceResult {
  return { contents: [{ uri: uri.href, mimeType, text: body }] };
}

function checkName(kind: string, name: string, re: RegExp): string {
  if (!re.test(name)) throw new ScoutError('INVALID_PARAMS', `invalid ${kind} name '${name}': use letters, digits, '_', '-'${kind === 'container' ? " and '.'" : ''}`);
  return name;
}

/**
 * Run `script` on `host`; exit 127 means the tool is not there (`missing` says so). Other failures show
 * their output and exit code as text: they are what the agent asked to see.
 */
async function runView(rpc: Rpc, host: string, script: string, missing: string): Promise<string> {
  const r = await rpc.call('ssh.exec', { host, command: script });
  if (r.exitCode === EXIT_NOT_FOUND) return `${missing} on ${host}.`;
  return execText(r);
}

/** `command -v` guard: exit 127 when `tool` is not installed. */
const need = (tool: string) => `command -v ${tool} >/dev/null 2>&1 || exit ${EXIT_NOT_FOUND}; `;
/** `docker compose` (v2 plugin) or the older `docker-compose`. */
const COMPOSE = `if docker compose version >/dev/null 2>&1; then dc='docker compose'; elif command -v docker-compose >/dev/null 2>&1; then dc=docker-compose; else exit ${EXIT_NOT_FOUND}; fi; `;

export function registerResources(server: McpServer, rpc: Rpc): void {
  const hostList = () => rpc.call('hosts.list');
  const perHost = (suffix: string, what: string) => async () => ({
    resources: (await hostList()).map((h) => ({ uri: `${h.name}://${suffix}`, name: `${h.name} ${what}`, mimeType: 'text/plain' })),
  });

  // First (with scout-job://): the per-host wildcard templates below would otherwise take scout-output://… as a host's path.
  server.registerResource(
    'command-output',
    new ResourceTemplate('scout-output://{id}/{page}', { list: undefined }),
    { title: 'Command output, paged', description: 'The whole output of a large query, 1 MiB a page, byte-exact (base64 blob); kept 30 minutes.' },
    (uri, v: Vars) => {
      const p = outputPages.page(one(v.id), Number(one(v.page)));
      if (!p) throw new ScoutError('NOT_FOUND', `no output page ${uri.href}: it expired (outputs are kept 30 minutes) or there is no such page`);
      return { contents: [{ uri: uri.href, mimeType: 'application/octet-stream', blob: p.data.toString('base64'), _meta: { pages: p.pages, totalBytes: p.total, keptBytes: p.kept } }] };
    },
  );

  registerJobResources(server, rpc);

  server.registerResource(
    'hosts',
    'hosts://list',
    { title: 'SSH hosts', description: 'Hosts from ~/.ssh/config with online status and the resource URIs for each', mimeType: 'text/plain' },
    async (uri) => {
      const hosts = await rpc.call('hosts.list', { probe: true });
      const cheats = hosts.map((h) => `  ${h.name}: scout://${h.name}/etc/hostname  ${h.name}://docker  ${h.name}://compose  ${h.name}://zfs  ${h.name}://syslog`);
      return text(uri, `${hostsText(hosts)}${hosts.length ? `\n\nResources per host:\n${cheats.join('\n')}` : ''}`);
    },
  );

  const readPath = async (uri: URL, host: string, path: string): Promise<ReadResourceResult> => {
    const st = await rpc.call('fs.stat', { host, path });
    if (st.type !== 'dir') {
      try {
        const r = await rpc.call('fs.read', { host, path });
        if (r.encoding === 'base64' && !r.truncated) return { contents: [{ uri: uri.href, mimeType: 'application/octet-stream', blob: r.content }] };
        return text(uri, fileText(r));
      } catch (err) {
        if (!(err instanceof ScoutError && err.code === 'REMOTE_IO' && err.details.reason === 'is-directory')) throw err;
      }
    }
    const r = await rpc.call('fs.list', { host, path });
    return text(uri, listingText(`${host}:${path}`, r.entries));
  };

  // `{+path}` keeps the slashes of a path; a path that starts with `~` is relative to the remote home.
  server.registerResource(
    'remote-path',
    new ResourceTemplate('scout://{host}/{+path}', {
      list: async () => ({ resources: (await hostList()).map((h) => ({ uri: `scout://${h.name}/`, name: `${h.name}: /`, mimeType: 'text/plain' })) }),
    }),
    { title: 'Remote file or directory', description: "scout://HOST/PATH: a file's contents or a directory's listing (scout://HOST/~/x is relative to the remote home)" },
    (uri, v: Vars) => {
      const raw = one(v.path);
      return readPath(uri, one(v.host), raw.startsWith('~') ? remotePath(raw) : `/${raw}`);
    },
  );
  server.registerResource('remote-root', new ResourceTemplate('scout://{host}/', { list: undefined }), { title: 'Remote root directory' }, (uri, v: Vars) => readPath(uri, one(v.host), '/'));

  server.registerResource(
    'docker',
    new ResourceTemplate('{host}://docker', { list: perHost('docker', 'Docker containers') }),
    { title: 'Docker containers', mimeType: 'text/plain' },
    async (uri, v: Vars) => {
      const host = one(v.host);
      return text(uri, await runView(rpc, host, `${need('docker')}docker ps -a --format '{{.Names}}\\t{{.Status}}\\t{{.Image}}'`, 'Docker is not installed'));
    },
  );
  server.registerResource(
    'docker-logs',
    new ResourceTemplate('{host}://docker/{container}/logs', { list: undefined }),
    { title: 'Docker container logs', mimeType: 'text/plain' },
    async (uri, v: Vars) => {
      const host = one(v.host);
      const c = checkName('container', one(v.container), CONTAINER_NAME);
      return text(uri, await runView(rpc, host, `${need('docker')}docker logs --tail ${LOG_LINES} --timestamps ${shellQuote(c)} 2>&1`, 'Docker is not installed'));
    },
  );
  server.registerResource(
    'compose',
    new ResourceTemplate('{host}://compose', { list: perHost('compose', 'Compose projects') }),
    { title: 'Compose projects', mimeType: 'text/plain' },
    async (uri, v: Vars) => {
      return text(uri, await runView(rpc, one(v.host), `${COMPOSE}$dc ls -a`, 'Docker Compose is not installed'));
    },
  );
  server.registerResource(
    'compose-logs',
    new ResourceTemplate('{host}://compose/{project}/logs', { list: undefined }),
    { title: 'Compose project logs', mimeType: 'text/plain' },
    async (uri, v: Vars) => {
      const p = checkName('project', one(v.project), PROJECT_NAME);
      return text(uri, await runView(rpc, one(v.host), `${COMPOSE}$dc -p ${shellQuote(p)} logs --tail ${LOG_LINES} --timestamps 2>&1`, 'Docker Compose is not installed'));
    },
  );
  server.registerResource(
    'compose-project',
    new ResourceTemplate('{host}://compose/{project}', { list: undefined }),
    { title: 'Compose project configuration', mimeType: 'text/plain' },
    async (uri, v: Vars) => {
      const p = checkName('project', one(v.project), PROJECT_NAME);
      return text(uri, await runView(rpc, one(v.host), `${COMPOSE}$dc -p ${shellQuote(p)} config 2>&1`, 'Docker Compose is not installed'));
    },
  );
  server.registerResource('zfs', new ResourceTemplate('{host}://zfs', { list: perHost('zfs', 'ZFS pools') }), { title: 'ZFS pools', mimeType: 'text/plain' }, async (uri, v: Vars) => {
    return text(uri, await runView(rpc, one(v.host), `${need('zpool')}zpool list`, 'ZFS is not installed'));
  });
  // Registered before {pool}: the SDK takes the first template that matches, and "snapshots" is not a pool.
  server.registerResource('zfs-snapshots', new ResourceTemplate('{host}://zfs/snapshots', { list: undefined }), { title: 'ZFS snapshots', mimeType: 'text/plain' }, async (uri, v: Vars) => {
    return text(uri, await runView(rpc, one(v.host), `${need('zfs')}zfs list -t snapshot -o name,used,creation -s creation | tail -n ${SNAPSHOT_LINES}`, 'ZFS is not installed'));
  });
  server.registerResource(
    'zfs-datasets',
    new ResourceTemplate('{host}://zfs/{pool}/datasets', { list: undefined }),
    { title: 'ZFS datasets of a pool', mimeType: 'text/plain' },
    async (uri, v: Vars) => {
      const pool = checkName('pool', one(v.pool), CONTAINER_NAME);
      return text(uri, await runView(rpc, one(v.host), `${need('zfs')}zfs list -r ${shellQuote(pool)}`, 'ZFS is not installed'));
    },
  );
  server.registerResource('zfs-pool', new ResourceTemplate('{host}://zfs/{pool}', { list: undefined }), { title: 'ZFS pool status', mimeType: 'text/plain' }, async (uri, v: Vars) => {
    const pool = checkName('pool', one(v.pool), CONTAINER_NAME);
    return text(uri, await runView(rpc, one(v.host), `${need('zpool')}zpool status ${shellQuote(pool)}`, 'ZFS is not installed'));
  });
  server.registerResource('syslog', new ResourceTemplate('{host}://syslog', { list: perHost('syslog', 'system log') }), { title: 'System log', mimeType: 'text/plain' }, async (uri, v: Vars) => {
    const script =
      `if command -v journalctl >/dev/null 2>&1; then journalctl -n ${LOG_LINES} --no-pager 2>&1; ` +
      `elif [ -r /var/log/syslog ]; then tail -n ${LOG_LINES} /var/log/syslog; elif [ -r /var/log/messages ]; then tail -n ${LOG_LINES} /var/log/messages; else exit ${EXIT_NOT_FOUND}; fi`;
    return text(uri, await runView(rpc, one(v.host), script, 'No readable system log (no journalctl, /var/log/syslog or /var/log/messages)'));
  });
}
