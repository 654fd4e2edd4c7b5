// Packaging: what `npm pack` produces installs globally and its three commands work from any directory.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoutClient } from '../src/client/client.js';
import type { ServicePlan } from '../src/cli/service/plan.js';
import { ROOT } from './fixtures/daemon.js';

/**
 * Bound on `npm install -g` of the packed tarball. Dependencies come from the npm cache when they are there
 * (--prefer-offline); measured 12–20 s with a warm cache and ~25 s with an empty one on the 2-core test machine.
 */
const INSTALL_TIMEOUT_MS = 150_000;
/** Bound on the installed scoutd listening. */
const START_TIMEOUT_MS = 15_000;

const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-pkg-'));
const prefix = path.join(tmp, 'prefix');
const bin = path.join(prefix, 'bin');
/** Somewhere unrelated to the repository, to run the commands from. */
const elsewhere = path.join(tmp, 'elsewhere');
let packed: string[] = [];

function npm(args: string[]): { code: number | null; stdout: string; stderr: string } {
  // --ignore-scripts: `prepare` would rebuild dist/ under the feet of test files running in parallel; the
  // test command builds dist/ before any test runs.
  const r = spawnSync('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ROOT, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS, env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The environment of a user whose PATH has the global install first, with a fresh HOME and socket. */
function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(SCOUT_|MCP_CAT_|LISTEN_|npm_)/.test(k) && !['SSH_AUTH_SOCK', 'XDG_RUNTIME_DIR', 'XDG_STATE_HOME', 'XDG_CONFIG_HOME', 'NODE_OPTIONS'].includes(k)) env[k] = v;
  }
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home, { recursive: true });
  // node itself stays reachable for the bins' `#!/usr/bin/env node`.
  return { ...env, HOME: home, PATH: `${bin}:${path.dirname(process.execPath)}:${env.PATH}`, SCOUT_SOCKET: path.join(tmp, 'run', 'scoutd.sock') };
}

beforeAll(() => {
  fs.mkdirSync(elsewhere);
  const pack = npm(['pack', '--json', '--pack-destination', tmp]);
  expect(pack.code, pack.stderr).toBe(0);
  const info = (JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0];
  packed = info.files.map((f) => f.path);
  // --omit=optional: ssh2's optional native speed-up (cpu-features) has nothing to do with whether our bins
  // work, and fetching it is a good part of the install time.
  const install = npm(['install', '--global', '--prefix', prefix, '--prefer-offline', '--omit=optional', path.join(tmp, info.filename)]);
  expect(install.code, install.stderr).toBe(0);
}, INSTALL_TIMEOUT_MS + 30_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('npm package', () => {
  it('holds the compiled bins, the units, the README and the docs it links to, and no sources or tests', () => {
    for (const f of [
      'dist/bin/scoutd.js',
      'dist/bin/scoutctl.cjs',
      'dist/bin/scout-mcp.js',
      'systemd/scoutd.service',
      'systemd/scoutd.socket',
      'launchd/dev.scout.scoutd.plist',
      'README.md',
      'docs/mcp.md',
      'docs/protocol.md',
      'docs/cli.md',
      'docs/service.md',
      'docs/settings.md',
      'docs/security.md',
      'docs/performance.md',
      'docs/architecture.md',
      'package.json',
    ]) {
      expect(packed, f).toContain(f);
    }
    expect(packed.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.test.js'))).toEqual([]);
  });

  it('scoutctl --version from any directory matches package.json', () => {
    const r = spawnSync('scoutctl', ['--version'], { cwd: elsewhere, env: userEnv(), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`scoutctl ${version}\n`);
    expect(r.status).toBe(0);
  });

  it('the installed scoutd starts and serves, the installed scout-mcp lists its tools through it', async () => {
    const env = userEnv();
    const scoutd = spawn('scoutd', [], { cwd: elsewhere, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    scoutd.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    scoutd.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | string>((r) => scoutd.once('exit', (code, sig) => r(code ?? sig ?? -1)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`installed scoutd did not listen within ${START_TIMEOUT_MS} ms: ${out}`)), START_TIMEOUT_MS);
        scoutd.stdout.on('data', () => {
          if (!out.includes('"scoutd listening"')) return;
          clearTimeout(timer);
          resolve();
        });
        void exited.then((c) => {
          clearTimeout(timer);
          reject(new Error(`installed scoutd exited (${c}): ${out}`));
        });
      });
      const c = new ScoutClient({ socket: env.SCOUT_SOCKET });
      const hello = await c.connect();
      c.close();
      expect(hello.version).toBe(version);
      expect(hello.pid).toBe(scoutd.pid);

      const mcp = new Client({ name: 'package-test', version: '1.0.0' });
      await mcp.connect(new StdioClientTransport({ command: 'scout-mcp', cwd: elsewhere, env, stderr: 'pipe' }));
      try {
        expect((await mcp.listTools()).tools.map((t) => t.name)).toContain('scout');
      } finally {
        await mcp.close();
      }

      // The service it would install runs this installed copy, not the repository's.
      const plan = JSON.parse(spawnSync('scoutctl', ['service', 'install', '--dry-run', '--json'], { cwd: elsewhere, env, encoding: 'utf8' }).stdout) as ServicePlan;
      expect(plan.program[1]).toBe(fs.realpathSync(path.join(prefix, 'lib', 'node_modules', 'scout-ssh', 'dist', 'bin', 'scoutd.js')));
    } finally {
      scoutd.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
