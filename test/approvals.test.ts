// Human approval (policy `confirm`) end to end: an MCP client with elicitation is asked and its answer decides;
// one without elicitation gets the approval id, and `scoutctl approve` / `deny` from another process decides
// the retry; nobody deciding lets the approval expire. Real daemon, real scout-mcp, real sshd.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOUT_MCP, SCOUTCTL, scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2']);
let daemon: DaemonProc;
let dir: string;
const asked: string[] = [];
let answer: 'accept' | 'decline' = 'accept';

async function shim(elicitation: boolean): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [SCOUT_MCP], env: daemon.env as Record<string, string>, stderr: 'pipe' });
  const client = new Client({ name: 'approvals-test', version: '1.0.0' }, { capabilities: elicitation ? { elicitation: {} } : {} });
  if (elicitation)
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return answer === 'accept' ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
    });
  await client.connect(transport);
  return client;
}

const text = (r: Awaited<ReturnType<Client['callTool']>>): string => (r.content as Array<{ text: string }>).map((c) => c.text).join('');
const exists = async (f: string) => (await fleet.runAsUser(`test -e '${f}' && echo yes || echo no`)).stdout.trim() === 'yes';

beforeAll(async () => {
  dir = (await fleet.runAsUser('mktemp -d /tmp/scout-approve-XXXXXX')).stdout.trim();
  const config = path.join(fleet.root, 'config.json');
  fs.writeFileSync(config, JSON.stringify({ hosts: { web1: { confirm: { commands: ['touch *'], writes: true } } } }));
  daemon = await fleet.startDaemon({ SCOUT_CONFIG: config, SCOUT_STATE_DIR: path.join(fleet.root, 'state') });
});

afterAll(async () => {
  if (dir) await fleet.runAsUser(`rm -rf '${dir}'`);
});

describe('confirm rules', () => {
  it('an MCP client with elicitation is asked; accept runs the command, decline refuses it with POLICY_DENIED', async () => {
    const c = await shim(true);
    answer = 'accept';
    const ok = await c.callTool({ name: 'scout', arguments: { target: `web1:${dir}`, query: 'touch accepted && echo ran' } });
    expect(text(ok)).toBe('ran');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('touch accepted && echo ran');
    expect(asked[0]).toContain('web1');
    expect(asked[0]).toContain(dir);
    expect(await exists(`${dir}/accepted`)).toBe(true);

    answer = 'decline';
    const no = await c.callTool({ name: 'scout', arguments: { target: `web1:${dir}`, query: 'touch declined' } });
    expect(text(no)).toContain('POLICY_DENIED');
    expect(text(no)).toContain('declined by the user');
    expect(await exists(`${dir}/declined`)).toBe(false);
    // Commands the rule does not name, and other hosts, are not asked about.
    expect(text(await c.callTool({ name: 'scout', arguments: { target: `web1:${dir}`, query: 'echo free' } }))).toBe('free');
    expect(asked).toHaveLength(2);
    await c.close();
  });

  it('a client without elicitation gets the id; scoutctl approve lets the retry run, scoutctl deny refuses it', async () => {
    const c = await shim(false);
    const call = () => c.callTool({ name: 'scout', arguments: { target: `web1:${dir}`, query: 'touch approved-later' } });
    const first = text(await call());
    expect(first).toContain('APPROVAL_PENDING');
    const id = /scoutctl approve (a\d+)/.exec(first)?.[1];
    expect(id, first).toBeDefined();
    expect(await exists(`${dir}/approved-later`)).toBe(false);
    const status = await (await daemon.client('status')).call('daemon.status');
    expect(status.policy?.hosts.find((h) => h.host === 'web1')).toMatchObject({ confirm: ['commands', 'writes'], sudo: false });
    const listed = await scoutctl(['approvals'], daemon.env);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('touch approved-later');
    const approved = await scoutctl(['approve', id!], daemon.env);
    expect(approved.code, approved.stderr).toBe(0);
    expect(text(await call())).not.toContain('APPROVAL_PENDING');
    expect(await exists(`${dir}/approved-later`)).toBe(true);
    // The approval was for one run: the same command asks again.
    expect(text(await call())).toContain('APPROVAL_PENDING');

    const deniedCall = () => c.callTool({ name: 'scout', arguments: { target: `web1:${dir}`, query: 'touch denied-later' } });
    const pending = /scoutctl approve (a\d+)/.exec(text(await deniedCall()))![1];
    expect((await scoutctl(['deny', pending], daemon.env)).code).toBe(0);
    const refused = text(await deniedCall());
    expect(refused).toContain('POLICY_DENIED');
    expect(refused).toContain(`declined by scoutctl (approval ${pending})`);
    expect(await exists(`${dir}/denied-later`)).toBe(false);
    await c.close();
  });

  it('approve --for lets the same command run without asking until then; writes are confirmed too', async () => {
    const c = await shim(false);
    const call = () => c.callTool({ name: 'scout', arguments: { target: `web1:${dir}`, query: 'touch windowed' } });
    const id = /scoutctl approve (a\d+)/.exec(text(await call()))![1];
    expect((await scoutctl(['approve', id, '--for', '10m'], daemon.env)).code).toBe(0);
    for (let i = 0; i < 3; i++) expect(text(await call())).not.toContain('APPROVAL_PENDING');
    const write = await c.callTool({ name: 'scout_write', arguments: { target: `web1:${dir}/written.txt`, content: 'x' } });
    expect(text(write)).toContain('APPROVAL_PENDING');
    expect(await exists(`${dir}/written.txt`)).toBe(false);
    await c.close();
  });

  it('nobody deciding: scoutctl exec says how to decide while it waits, and the approval expires into POLICY_DENIED', async () => {
    const config = path.join(fleet.root, 'config.json');
    const run2 = path.join(fleet.root, 'run2');
    fs.mkdirSync(run2, { mode: 0o700 });
    const short = await fleet.startDaemon({ SCOUT_SOCKET: path.join(run2, 'scoutd.sock'), SCOUT_CONFIG: config, SCOUT_APPROVAL_TIMEOUT: '1', SCOUT_STATE_DIR: path.join(fleet.root, 'state2') });
    const proc = spawn(process.execPath, [SCOUTCTL, 'exec', 'web1', '--', `touch ${dir}/expired`], { env: short.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => proc.once('exit', r));
    expect(err).toMatch(/waiting for approval a1: scoutctl asks to run "touch .*expired" .*on web1/);
    expect(err).toContain('scoutctl approve a1');
    expect(err).toContain('expired');
    expect(code).toBe(255);
    expect(await exists(`${dir}/expired`)).toBe(false);
    const audit = fs.readFileSync(path.join(fleet.root, 'state2', 'audit.log'), 'utf8');
    expect(audit).toContain('"method":"approval.request"');
    expect(audit).toMatch(/"method":"approval.decision".*"outcome":"expired"/);
  });
});
