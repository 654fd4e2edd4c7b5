// Secrets never reach the logs or the audit trail, and the audit trail has every call that touched a host.
// A session at SCOUT_LOG_LEVEL=trace logs in with a passphrase-protected key held by an ssh-agent this test
// starts, sends stdin and an env value, reads and transfers files holding marker strings; afterwards neither
// scoutd's log nor the audit log contains a marker, the passphrase or the private key.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import { isScoutError } from '../src/protocol/errors.js';
import type { AuditQueryResult } from '../src/protocol/methods/index.js';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { useFleet } from './fixtures/suite.js';

const pexec = promisify(execFile);

const PASSPHRASE = 'pass-Phr4se-never-logged';
const FILE_MARKER = 'FILE-MARKER-7f3a9c';
const STDIN_MARKER = 'STDIN-MARKER-51be02';
const ENV_MARKER = 'ENV-MARKER-c0ffee';
const UPLOAD_MARKER = 'UPLOAD-MARKER-9d21';

// AcceptEnv: a job's env reaches the command only when sshd accepts the name.
const fleet = useFleet(['web1'], { config: ['AcceptEnv SECRET_VAR'] });
let daemon: DaemonProc;
let client: ScoutClient;
let agent: ChildProcess | undefined;
let keyFile: string;
let keyFingerprint: string;
let R: string;
let auditFile: string;

async function startAgent(sock: string): Promise<ChildProcess> {
  const p = spawn('ssh-agent', ['-D', '-a', sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  // -D prints the SSH_AUTH_SOCK line once it listens.
  await new Promise<void>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('SSH_AUTH_SOCK=')) resolve();
    });
    p.once('exit', (code) => reject(new Error(`ssh-agent exited (${code})`)));
  });
  return p;
}

beforeAll(async () => {
  // A passphrase-protected key, loaded into our own agent through SSH_ASKPASS (no terminal needed).
  const dir = path.join(fleet.root, 'agent');
  fs.mkdirSync(dir, { mode: 0o700 });
  keyFile = path.join(dir, 'id_protected');
  await pexec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'protected', '-f', keyFile]);
  const pub = fs.readFileSync(`${keyFile}.pub`, 'utf8');
  keyFingerprint =
    'SHA256:' +
    createHash('sha256')
      .update(Buffer.from(pub.split(/\s+/)[1], 'base64'))
      .digest('base64')
      .replace(/=+$/, '');
  const agentSock = path.join(dir, 'agent.sock');
  agent = await startAgent(agentSock);
  const askpass = path.join(dir, 'askpass.sh');
  fs.writeFileSync(askpass, `#!/bin/sh\necho '${PASSPHRASE}'\n`, { mode: 0o700 });
  await pexec('ssh-add', [keyFile], { env: { PATH: process.env.PATH, SSH_AUTH_SOCK: agentSock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none' } });
  // Only the agent's key opens the account now; the config also names the encrypted file, which scoutd reads
  // and must skip without logging it.
  fs.writeFileSync(path.join(fleet.root, 'authorized_keys'), pub);
  fleet.writeConfig({ web1: [`IdentityFile ${keyFile}`] });

  R = path.join(fleet.root, 'remote');
  fs.mkdirSync(R, { mode: 0o755 });
  const [uid, gid] = (await fleet.runAsUser('id -u; id -g')).stdout.trim().split('\n').map(Number);
  fs.chownSync(R, uid, gid);
  await fleet.runAsUser(`echo ${FILE_MARKER} > ${R}/secret.txt`);
  fs.writeFileSync(path.join(fleet.root, 'upload.txt'), `${UPLOAD_MARKER}\n`);

  auditFile = path.join(fleet.root, 'state', 'audit.log');
  daemon = await fleet.startDaemon({ SCOUT_LOG_LEVEL: 'trace', SSH_AUTH_SOCK: agentSock, SCOUT_STATE_DIR: path.join(fleet.root, 'state') });
  client = await daemon.client('secrets-test');
});

afterAll(() => {
  agent?.kill('SIGTERM');
});

/** Everything a session did; run once, checked by the tests below. */
let session: Promise<void> | undefined;
function runSession(): Promise<void> {
  return (session ??= (async () => {
    const cat = await client.call('ssh.exec', { host: 'web1', command: `cat ${R}/secret.txt` });
    expect(cat.stdout).toBe(`${FILE_MARKER}\n`);
    const read = await client.call('fs.read', { host: 'web1', path: `${R}/secret.txt` });
    expect(read.content).toBe(`${FILE_MARKER}\n`);
    const piped = await client.call('ssh.exec', { host: 'web1', command: 'cat; printf %s "$SECRET_VAR"', stdin: `${STDIN_MARKER}-exec`, env: { SECRET_VAR: `${ENV_MARKER}-exec` } });
    expect(piped.stdout).toBe(`${STDIN_MARKER}-exec${ENV_MARKER}-exec`);
    await client.call('fs.write', { host: 'web1', path: `${R}/written.txt`, content: `${UPLOAD_MARKER}-write` });
    const job = await client.call('jobs.start', { host: 'web1', command: `cat > ${R}/stdin.txt; printf %s "$SECRET_VAR" > ${R}/env.txt`, stdin: STDIN_MARKER, env: { SECRET_VAR: ENV_MARKER } });
    const done = await client.call('jobs.wait', { jobId: job.jobId, timeoutMs: 20_000 });
    expect(done).toMatchObject({ state: 'exited', exitCode: 0 });
    const out = await client.call('jobs.output', { jobId: job.jobId });
    expect(out.data).toBe('');
    expect((await fleet.runAsUser(`cat ${R}/stdin.txt ${R}/env.txt`)).stdout).toBe(STDIN_MARKER + ENV_MARKER);
    await client.call('transfer.get', { host: 'web1', remotePath: `${R}/secret.txt`, localPath: path.join(fleet.root, 'got.txt') });
    expect(fs.readFileSync(path.join(fleet.root, 'got.txt'), 'utf8')).toBe(`${FILE_MARKER}\n`);
    await client.call('transfer.put', { host: 'web1', localPath: path.join(fleet.root, 'upload.txt'), remotePath: `${R}/up.txt` });
    // Failures are audited with their code, and their error data echoes no contents either.
    const missing = await client.call('transfer.get', { host: 'web1', remotePath: `${R}/nope.txt`, localPath: path.join(fleet.root, 'nope.txt') }).catch((e: unknown) => e);
    expect(isScoutError(missing, 'REMOTE_NOT_FOUND')).toBe(true);
    const failing = await client.call('ssh.exec', { host: 'web1', command: `cat ${R}/secret.txt >&2; exit 3` });
    expect(failing).toMatchObject({ exitCode: 3, stderr: `${FILE_MARKER}\n` });
  })());
}

const secrets = () => [FILE_MARKER, STDIN_MARKER, ENV_MARKER, UPLOAD_MARKER, PASSPHRASE, ...privateKeyLines()];
/** The base64 body lines of the encrypted private key file. */
function privateKeyLines(): string[] {
  return fs
    .readFileSync(keyFile, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'));
}

describe('secrets at SCOUT_LOG_LEVEL=trace', () => {
  it('the session logs in through the agent with the protected key', async () => {
    await runSession();
    const log = fs.readFileSync(fleet.server('web1').logPath, 'utf8');
    expect(log).toContain(`Accepted publickey for ${fleet.user}`);
    expect(log).toContain(keyFingerprint);
  });

  it('scoutd logs carry no marker, passphrase or key material', async () => {
    await runSession();
    const logs = daemon.logs();
    // The log is really at trace level and has the calls in it (so an empty log cannot pass).
    expect(daemon.logLines().some((l) => l.level === 20 && l.msg === 'call')).toBe(true);
    expect(logs).toContain('jobs.start');
    for (const s of secrets()) expect(logs, `log contains ${s.slice(0, 12)}…`).not.toContain(s);
  });

  it('the audit log has each exec, job, read and transfer once with its outcome, and no secrets', async () => {
    await runSession();
    const text = fs.readFileSync(auditFile, 'utf8');
    for (const s of secrets()) expect(text, `audit contains ${s.slice(0, 12)}…`).not.toContain(s);
    expect(fs.statSync(auditFile).mode & 0o777).toBe(0o600);
    const entries = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = entries.map((e) => [e.method, e.host, e.outcome, e.command ?? e.path]);
    expect(summary).toEqual([
      ['ssh.exec', 'web1', 'ok', `cat ${R}/secret.txt`],
      ['fs.read', 'web1', 'ok', `${R}/secret.txt`],
      ['ssh.exec', 'web1', 'ok', 'cat; printf %s "$SECRET_VAR"'],
      ['fs.write', 'web1', 'ok', `${R}/written.txt`],
      ['jobs.start', 'web1', 'ok', `cat > ${R}/stdin.txt; printf %s "$SECRET_VAR" > ${R}/env.txt`],
      ['job.end', 'web1', 'ok', `cat > ${R}/stdin.txt; printf %s "$SECRET_VAR" > ${R}/env.txt`],
      ['transfer.get', 'web1', 'ok', `${R}/secret.txt`],
      ['transfer.put', 'web1', 'ok', `${R}/up.txt`],
      ['transfer.get', 'web1', 'REMOTE_NOT_FOUND', `${R}/nope.txt`],
      ['ssh.exec', 'web1', 'ok', `cat ${R}/secret.txt >&2; exit 3`],
    ]);
    for (const e of entries) {
      expect(e.client).toBe('secrets-test');
      expect(typeof e.durationMs).toBe('number');
      expect(Date.parse(String(e.time))).toBeGreaterThan(Date.now() - 120_000);
    }
    expect(entries[5]).toMatchObject({ jobId: entries[4].jobId, exitCode: 0 });
    expect(entries[9].exitCode).toBe(3);
  });

  it('scoutctl audit filters by host and time', async () => {
    await runSession();
    const all = JSON.parse((await scoutctl(['audit', '--host', 'web1', '--since', '1h', '--json'], daemon.env)).stdout) as AuditQueryResult;
    expect(all.entries.map((e) => e.method)).toEqual(['ssh.exec', 'fs.read', 'ssh.exec', 'fs.write', 'jobs.start', 'job.end', 'transfer.get', 'transfer.put', 'transfer.get', 'ssh.exec']);
    const other = JSON.parse((await scoutctl(['audit', '--host', 'web9', '--json'], daemon.env)).stdout) as AuditQueryResult;
    expect(other.entries).toEqual([]);
    const future = await scoutctl(['audit', '--since', new Date(Date.now() + 3_600_000).toISOString()], daemon.env);
    expect(future.stdout).toMatch(/^No audit entries/);
    const text = await scoutctl(['audit'], daemon.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/secrets-test\s+transfer\.get\s+web1\s+REMOTE_NOT_FOUND/);
    expect(text.stdout).toMatch(/ssh\.exec\s+web1\s+exit 3/);
    // scoutctl's own calls (audit.query, hello) touch no host and are not in the log.
    expect(fs.readFileSync(auditFile, 'utf8')).not.toContain('audit.query');
  });
});
