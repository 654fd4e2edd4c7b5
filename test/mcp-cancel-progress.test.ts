// Issue 19, items 1 and 2, through the official SDK client: cancelling a `scout` query stops the remote
// command (before, `sleep` went on until the command timeout), and a client that asks for progress gets it
// while a query runs (its latest line) and while a beam moves bytes (up to the total).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ok, progressRecorder, startShim } from './fixtures/mcp.js';
import { remoteCommands, remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2']);

describe('scout-mcp: cancel and progress', () => {
  it('a cancelled query stops its remote process, and the shim and the pool keep serving', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      // A duration of its own makes the remote process findable by its argv (a warm shell runs it from stdin).
      const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
      const ac = new AbortController();
      const call = client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', query: tag } }, undefined, { signal: ac.signal });
      call.catch(() => {});
      await until(async () => (await remoteProcesses(fleet.user, tag)).length > 0, 10_000, 'the remote sleep');
      ac.abort();
      await expect(call).rejects.toThrow();
      const cancelledAt = Date.now();
      await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, 1_000, 'the remote sleep to be gone within 1 s of the cancel');
      expect(Date.now() - cancelledAt).toBeLessThanOrEqual(1_000);
      expect(await ok(client, { target: 'web1:/tmp', query: 'echo still serving' })).toContain('still serving');
    } finally {
      await client.close();
    }
  });

  it('a cancelled broadcast stops the command on every host', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
      const ac = new AbortController();
      const call = client.callTool({ name: 'scout', arguments: { targets: ['web1:/tmp', 'web2:/tmp'], query: tag } }, undefined, { signal: ac.signal });
      call.catch(() => {});
      // Both hosts' sshd run on this machine as the test user.
      await until(async () => (await remoteCommands(fleet.user, tag)).length === 2, 10_000, 'the sleep on both hosts');
      ac.abort();
      await expect(call).rejects.toThrow();
      await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, 1_000, 'the sleep gone on every host within 1 s of the cancel');
    } finally {
      await client.close();
    }
  });

  it('a query with a progress token reports while it runs, each update with the latest line', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      const updates: Array<{ progress: number; message?: string }> = [];
      const r = await client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', query: 'for i in 1 2 3 4 5; do echo tick $i; sleep 1; done' } }, undefined, {
        onprogress: (p) => updates.push(p),
      });
      expect(r.isError).toBeFalsy();
      const ticks = updates.map((u) => Number(/tick (\d)/.exec(u.message ?? '')?.[1]));
      expect(ticks.filter((t) => t > 0).length).toBeGreaterThanOrEqual(3);
      // Each carries the latest line: the tick numbers never go back, and progress only grows.
      for (let i = 1; i < updates.length; i++) {
        expect(updates[i].progress).toBeGreaterThan(updates[i - 1].progress);
        if (ticks[i] > 0 && ticks[i - 1] > 0) expect(ticks[i]).toBeGreaterThanOrEqual(ticks[i - 1]);
      }
      expect(Math.max(...ticks.filter((t) => t > 0))).toBeGreaterThanOrEqual(4);
    } finally {
      await client.close();
    }
  });

  it('a 100 MB beam reports bytes of the total, ending at the total', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    const size = 100_000_000;
    const remote = `/tmp/scout-beam-progress-${randomBytes(4).toString('hex')}.bin`;
    const local = path.join(fleet.root, 'beam-progress.bin');
    try {
      await fleet.runAsUser(`head -c ${size} /dev/zero > ${remote}`);
      const { updates, onprogress } = progressRecorder(client);
      const r = await client.callTool({ name: 'scout', arguments: { target: `web1:${remote}`, beam: local } }, undefined, { onprogress });
      expect(r.isError).toBeFalsy();
      expect(fs.statSync(local).size).toBe(size);
      expect(updates.length).toBeGreaterThanOrEqual(2);
      expect(updates.every((u) => u.total === size)).toBe(true);
      expect(updates.at(-1)?.progress).toBe(size);
      for (let i = 1; i < updates.length; i++) expect(updates[i].progress).toBeGreaterThan(updates[i - 1].progress);
    } finally {
      await client.close();
      await fleet.runAsUser(`rm -f ${remote}`);
    }
  });
  it('a broadcast reports hosts done of total, ending at the total with the failures counted', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      for (const query of ['echo hi', undefined]) {
        const { updates, onprogress } = progressRecorder(client);
        const r = await client.callTool({ name: 'scout', arguments: { targets: ['web1:/tmp', 'web1:/', 'nosuch:/tmp'], ...(query ? { query } : {}) } }, undefined, { onprogress });
        expect((r.structuredContent as { summary: unknown }).summary).toEqual({ ok: 2, failed: 1, total: 3 });
        expect(updates.length).toBeGreaterThanOrEqual(1);
        expect(updates.every((u) => u.total === 3)).toBe(true);
        expect(updates.at(-1)).toMatchObject({ progress: 3, total: 3 });
        expect(updates.at(-1)?.message).toMatch(/^3 of 3 hosts done \(1 failed\)/);
      }
    } finally {
      await client.close();
    }
  });
});

describe('scout-mcp: arguments an agent can rely on', () => {
  it('a file target with a query runs in the file directory (query and background); a failing query in a directory is left as it is', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    const dir = `/tmp/scout-filecwd-${randomBytes(4).toString('hex')}`;
    try {
      await fleet.runAsUser(`mkdir -p ${dir} && printf 'note\\n' > ${dir}/a.txt`);
      const r = await client.callTool({ name: 'scout', arguments: { target: `web1:${dir}/a.txt`, query: 'pwd; cat a.txt' } });
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ mode: 'query', cwd: dir, exitCode: 0, stdout: `${dir}\nnote\n`, stderr: '' });
      expect(JSON.stringify(r.content)).toContain(`${dir}/a.txt is a file: ran in its directory, ${dir}`);

      const failing = await client.callTool({ name: 'scout', arguments: { target: `web1:${dir}`, query: 'exit 3' } });
      expect(failing.structuredContent).toMatchObject({ mode: 'query', cwd: dir, exitCode: 3 });
      expect(JSON.stringify(failing.content)).not.toContain('is a file');

      const bg = await client.callTool({ name: 'scout', arguments: { target: `web1:${dir}/a.txt`, query: 'pwd', background: true } });
      const jobId = (bg.structuredContent as { jobId: string }).jobId;
      await client.callTool({ name: 'scout_jobs', arguments: { action: 'wait', job_id: jobId, wait_seconds: 10 } });
      const out = await client.callTool({ name: 'scout_jobs', arguments: { job_id: jobId } });
      expect(out.structuredContent).toMatchObject({ data: `${dir}\n`, state: 'exited', exitCode: 0 });
    } finally {
      await client.close();
      await fleet.runAsUser(`rm -rf ${dir}`);
    }
  });

  it('a misspelt argument is refused naming the right one; depth 50 is refused by the schema; a binary file stays small', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    const bin = `/tmp/scout-binary-${randomBytes(4).toString('hex')}.bin`;
    try {
      const typo = await client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', qurey: 'echo hi' } });
      expect(typo.isError).toBe(true);
      expect(JSON.stringify(typo.content)).toContain("unknown argument 'qurey' (did you mean 'query'?)");
      const jobsTypo = await client.callTool({ name: 'scout_jobs', arguments: { jobid: 'j1' } });
      expect(JSON.stringify(jobsTypo.content)).toContain("did you mean 'job_id'?");

      const deep = await client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', find: '*', depth: 50 } });
      expect(deep.isError).toBe(true);
      expect(JSON.stringify(deep.content)).toContain('depth must be 1-10, got 50');
      const { tools } = await client.listTools();
      expect(tools.find((t) => t.name === 'scout')?.inputSchema.properties?.depth).toMatchObject({ minimum: 1, maximum: 10 });

      await fleet.runAsUser(`head -c 1000000 /dev/urandom > ${bin}`);
      const r = await client.callTool({ name: 'scout', arguments: { target: `web1:${bin}` } });
      expect(r.isError).toBeFalsy();
      expect(JSON.stringify(r).length).toBeLessThan(4096);
      expect(r.structuredContent).toMatchObject({ mode: 'read', encoding: 'base64', content: '', size: 1_000_000 });
    } finally {
      await client.close();
      await fleet.runAsUser(`rm -f ${bin}`);
    }
  });
});

describe('scout-mcp: large output keeps the end', () => {
  it('5 MB then ERROR at end: the text holds head, omission and tail; the resource pages return the 5 MB byte-exact', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      const size = 5_000_000;
      const r = await client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', query: `head -c ${size} /dev/zero | tr '\\0' a; echo; echo ERROR at end` } });
      expect(r.isError).toBeFalsy();
      const content = r.content as Array<{ type: string; text?: string; uri?: string }>;
      const text = content.find((c) => c.type === 'text')!.text!;
      expect(text.startsWith('aaaa')).toBe(true);
      expect(text).toMatch(/\[… \d+ bytes omitted …\]/);
      expect(text).toContain('ERROR at end');
      expect(text.length).toBeLessThan(64 * 1024);
      const link = content.find((c) => c.type === 'resource_link');
      expect(link?.uri).toMatch(/^scout-output:\/\/[\w-]+\/0$/);
      const pages: Buffer[] = [];
      for (let n = 0; ; n++) {
        const res = await client.readResource({ uri: link!.uri!.replace(/\/0$/, `/${n}`) });
        const c = res.contents[0] as { blob: string; _meta?: { pages: number } };
        pages.push(Buffer.from(c.blob, 'base64'));
        if (n + 1 >= (c._meta?.pages ?? 1)) break;
      }
      const whole = Buffer.concat(pages);
      expect(whole.length).toBe(size + 1 + 'ERROR at end\n'.length);
      expect(whole.equals(Buffer.concat([Buffer.alloc(size, 'a'), Buffer.from('\nERROR at end\n')]))).toBe(true);
      // Small output is unchanged: whole, exact, no link.
      const small = await client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', query: 'echo small' } });
      expect((small.content as Array<{ type: string }>).map((c) => c.type)).toEqual(['text']);
      expect(small.structuredContent).toMatchObject({ stdout: 'small\n', truncated: false });
    } finally {
      await client.close();
    }
  });
});

describe('scout-mcp: a query that times out', () => {
  it('says to run it in the background', async () => {
    const d = await fleet.startDaemon({ SCOUT_COMMAND_TIMEOUT: '1' });
    const client = await startShim(d.env);
    try {
      const r = await client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', query: 'sleep 5' } });
      expect(r.isError).toBe(true);
      const text = JSON.stringify(r.content);
      expect(text).toContain('COMMAND_TIMEOUT');
      expect(text).toContain('background=true');
    } finally {
      await client.close();
    }
  });
});
