// scout-mcp's file modes end to end (they run on the daemon's fs.* methods): read, list, tree, find, diff,
// diff_content, targets without a query, and the scout://HOST/PATH resource, on a prepared remote tree.
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonProc } from './fixtures/daemon.js';
import { ok, readText, remoteTree, scout, startShim } from './fixtures/mcp.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2']);
let remote: string;
let daemon: DaemonProc;
let c: Client;

beforeAll(async () => {
  remote = await remoteTree(fleet, 'scout-mcpf', ['ln -s hello.txt "$d/tree/link"']);
  daemon = await fleet.startDaemon({ SCOUT_STATE_DIR: path.join(fleet.root, 'state') });
  c = await startShim(daemon.env);
});

afterAll(async () => {
  await c?.close();
  if (remote) await fleet.runAsUser(`rm -rf '${remote}'`);
});

describe('scout tool file modes', () => {
  it('reads a file', async () => {
    const r = await scout(c, { target: `web1:${remote}/tree/hello.txt` });
    expect(r.isError).toBe(false);
    expect(r.text).toBe('hello from web\nsecond line\n');
    expect(r.structured).toMatchObject({ mode: 'read', host: 'web1', size: 27, truncated: false });
  });

  it('notes truncation at the byte cap', async () => {
    const d2 = await startDaemon(fleet.env({ SCOUT_SOCKET: path.join(fleet.root, 'run2', 'scoutd.sock'), SCOUT_MAX_FILE_SIZE: '5' }));
    const c2 = await startShim(d2.env);
    try {
      expect(await ok(c2, { target: `web1:${remote}/tree/hello.txt` })).toBe('hello\n\n[truncated at 5 bytes of 27; raise SCOUT_MAX_FILE_SIZE or download it with beam]');
    } finally {
      await c2.close();
      await d2.kill9();
    }
  });

  it('lists a directory, directories first', async () => {
    const text = await ok(c, { target: `web1:${remote}/tree` });
    const lines = text.split('\n');
    // Six entries (the names below); the draft said 7, which contradicted its own list of names.
    expect(lines[0]).toBe(`web1:${remote}/tree (6 entries)`);
    const names = lines.slice(1).map((l) => l.split(/\s+/).slice(4).join(' '));
    expect(names).toEqual(['logs/', 'sub/', 'a.conf', 'b.conf', 'hello.txt', 'link -> hello.txt']);
    expect(lines[1]).toMatch(/^drwx/);
    expect(lines.find((l) => l.endsWith(' a.conf'))).toMatch(/^-rw\S+\s+17\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+a\.conf$/);
  });

  it('shows a tree', async () => {
    const text = await ok(c, { target: `web1:${remote}/tree/sub`, tree: true });
    expect(text).toBe([`web1:${remote}/tree/sub/`, '├── deep/', '│   └── two.log', '└── one.log', '', '3 entries, depth 3'].join('\n'));
  });

  it('finds by glob within a depth', async () => {
    const all = await ok(c, { target: `web1:${remote}/tree`, find: '*.log' });
    expect(all.split('\n\n')[0].split('\n').sort()).toEqual([`${remote}/tree/logs/three.log`, `${remote}/tree/sub/deep/two.log`, `${remote}/tree/sub/one.log`]);
    const shallow = await ok(c, { target: `web1:${remote}/tree`, find: '*.log', depth: 2 });
    expect(shallow.split('\n\n')[0].split('\n').sort()).toEqual([`${remote}/tree/logs/three.log`, `${remote}/tree/sub/one.log`]);
    expect(await ok(c, { target: `web1:${remote}/tree`, find: '*.nope' })).toBe(`No files matching '*.nope' found in ${remote}/tree`);
    const bad = await scout(c, { target: `web1:${remote}/tree`, find: '*', depth: 11 });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('depth must be 1-10, got 11');
  });

  it('diffs two remote files, and a file against expected text', async () => {
    const d = await ok(c, { target: `web1:${remote}/tree/a.conf`, diff: `web2:${remote}/tree/b.conf` });
    expect(d).toBe([`--- web1:${remote}/tree/a.conf`, `+++ web2:${remote}/tree/b.conf`, '@@ -1,3 +1,3 @@', ' alpha', '-beta', '+BETA', ' gamma'].join('\n'));
    expect(await ok(c, { target: `web1:${remote}/tree/a.conf`, diff: `web2:${remote}/tree/a.conf` })).toBe(`Files are identical:\n  web1:${remote}/tree/a.conf\n  web2:${remote}/tree/a.conf`);
    const dc = await ok(c, { target: `web1:${remote}/tree/a.conf`, diff_content: 'alpha\nbeta\ndelta\n' });
    expect(dc).toBe(['--- expected', `+++ web1:${remote}/tree/a.conf`, '@@ -1,3 +1,3 @@', ' alpha', ' beta', '-delta', '+gamma'].join('\n'));
    expect(await ok(c, { target: `web1:${remote}/tree/a.conf`, diff_content: 'alpha\nbeta\ngamma\n' })).toBe(`File matches expected content: web1:${remote}/tree/a.conf`);
  });

  it('reads many targets, one section each; a missing file fails alone', async () => {
    const r = await scout(c, { targets: [`web1:${remote}/tree/hello.txt`, `web2:${remote}/tree/missing.txt`] });
    expect(r.isError).toBe(false);
    expect(r.text).toMatch(new RegExp(`^═══ web1:${remote}/tree/hello.txt ═+\nhello from web\nsecond line\n`));
    expect(r.text).toMatch(new RegExp(`═══ web2:${remote}/tree/missing.txt \\[FAILED\\] ═+\nError: .*\\[REMOTE_NOT_FOUND\\]`));
    expect(r.text).toContain('─── 1/2 hosts succeeded ───');
  });

  it('a missing path is an error with its code', async () => {
    const r = await scout(c, { target: `web1:${remote}/nope` });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/^Error: .*\[REMOTE_NOT_FOUND\]$/s);
  });
});

describe('scout://HOST/PATH', () => {
  it('reads a file and lists a directory', async () => {
    expect(await readText(c, `scout://web1${remote}/tree/hello.txt`)).toBe('hello from web\nsecond line\n');
    const listing = await readText(c, `scout://web1${remote}/tree/sub`);
    expect(listing.split('\n')[0]).toBe(`web1:${remote}/tree/sub (2 entries)`);
    expect(listing).toMatch(/ deep\/\n.* one\.log$/);
  });
});
