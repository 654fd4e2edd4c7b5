// Issue 19, item 3 (the granular tools): every tool says what it is (title, annotations, outputSchema), the
// read-only ones say so, and every tool called against a real host returns structuredContent that validates
// against its outputSchema (the SDK client and server both check it; a mismatch is an error result).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GRANULAR_TOOLS } from '../src/mcp/tools.js';
import { SCOUT_MODES } from '../src/mcp/tool.js';
import { startShim } from './fixtures/mcp.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);

describe('scout-mcp granular tools', () => {
  it('each has a title, annotations and an outputSchema; the read-only ones say readOnlyHint', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['scout', 'scout_jobs', ...GRANULAR_TOOLS.map((t) => t.name)].sort());
      for (const g of GRANULAR_TOOLS) {
        const tool = tools.find((t) => t.name === g.name)!;
        expect(tool.title, g.name).toBeTruthy();
        expect(tool.outputSchema, g.name).toBeTruthy();
        expect(tool.annotations, g.name).toMatchObject({ readOnlyHint: g.readOnly, destructiveHint: g.destructive, openWorldHint: true });
        // Only a tool that acts may say it destroys; scout_forward acts without destroying anything.
        if (g.readOnly) expect(g.destructive, g.name).toBe(false);
      }
      // scout and scout_jobs too: every listed tool says what it answers.
      for (const tool of tools) {
        expect(tool.title, tool.name).toBeTruthy();
        expect(tool.annotations?.title, tool.name).toBeTruthy();
        expect(tool.outputSchema, tool.name).toMatchObject({ type: 'object' });
      }
      expect(GRANULAR_TOOLS.filter((g) => g.readOnly).map((g) => g.name)).toEqual(['scout_hosts', 'scout_read', 'scout_list', 'scout_stat', 'scout_find', 'scout_tree', 'scout_diff']);
    } finally {
      await client.close();
    }
  });

  it('every tool, called on a real host, returns structuredContent that validates against its schema', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    const dir = `/tmp/scout-tools-${randomBytes(4).toString('hex')}`;
    const local = path.join(fleet.root, 'tools-local');
    fs.mkdirSync(local, { recursive: true });
    fs.writeFileSync(path.join(local, 'up.txt'), 'up\n');
    try {
      await fleet.runAsUser(`mkdir -p ${dir}/sub && printf 'hello\\n' > ${dir}/a.txt && printf x > ${dir}/sub/b.log`);
      await client.listTools(); // the client validates structuredContent against the schemas it listed
      const calls: Record<string, Record<string, unknown>> = {
        scout_hosts: {},
        scout_read: { target: `web1:${dir}/a.txt` },
        scout_list: { target: `web1:${dir}` },
        scout_stat: { target: `web1:${dir}/a.txt` },
        scout_find: { target: `web1:${dir}`, pattern: '*.log' },
        scout_tree: { target: `web1:${dir}`, depth: 2 },
        scout_diff: { target: `web1:${dir}/a.txt`, expected: 'hallo\n' },
        scout_exec: { target: `web1:${dir}`, command: 'cat a.txt' },
        scout_write: { target: `web1:${dir}/new.txt`, content: 'written\n' },
        scout_transfer: { source: path.join(local, 'up.txt'), destination: `web1:${dir}/up.txt` },
        scout_forward: { action: 'open', host: 'web1', kind: 'dynamic', bind_port: 0 },
      };
      expect(Object.keys(calls).sort()).toEqual(GRANULAR_TOOLS.map((g) => g.name).sort());
      const out: Record<string, Record<string, unknown>> = {};
      for (const [name, args] of Object.entries(calls)) {
        const r = await client.callTool({ name, arguments: args });
        expect(r.isError, `${name}: ${JSON.stringify(r.content)}`).toBeFalsy();
        out[name] = r.structuredContent as Record<string, unknown>;
      }
      expect(out.scout_read).toMatchObject({ content: 'hello\n', encoding: 'utf8' });
      // A byte budget: the head of the file, and the answer says it is cut.
      const head = await client.callTool({ name: 'scout_read', arguments: { target: `web1:${dir}/a.txt`, max_bytes: 2 } });
      expect(head.structuredContent).toMatchObject({ content: 'he', bytes: 2, size: 6, truncated: true });
      expect(out.scout_exec).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
      expect(out.scout_find.paths).toEqual([`${dir}/sub/b.log`]);
      const fwd = (out.scout_forward.forwards as Array<{ id: string; kind: string; state: string }>)[0];
      expect(fwd).toMatchObject({ kind: 'dynamic', state: 'up' });
      const listed = await client.callTool({ name: 'scout_forward', arguments: { action: 'list' } });
      expect(listed.structuredContent).toMatchObject({ forwards: [{ id: fwd.id }] });
      const closed = await client.callTool({ name: 'scout_forward', arguments: { action: 'close', id: fwd.id } });
      expect(closed.structuredContent).toMatchObject({ forwards: [], closed: true });
      expect(out.scout_diff).toMatchObject({ from: 'expected', to: `web1:${dir}/a.txt`, identical: false });
      expect(out.scout_diff.diff).toContain('-hallo\n+hello\n');
      const same = await client.callTool({ name: 'scout_diff', arguments: { target: `web1:${dir}/a.txt`, other: `web1:${dir}/a.txt` } });
      expect(same.structuredContent).toMatchObject({ identical: true, diff: '' });
      expect((await fleet.runAsUser(`cat ${dir}/new.txt ${dir}/up.txt`)).stdout).toBe('written\nup\n');
      // A failure is an error result naming the Scout code, with no structuredContent to validate.
      const bad = await client.callTool({ name: 'scout_read', arguments: { target: `web1:${dir}/missing` } });
      expect(bad.isError).toBe(true);
      expect(JSON.stringify(bad.content)).toContain('REMOTE_NOT_FOUND');
    } finally {
      await client.close();
      await fleet.runAsUser(`rm -rf ${dir}`);
    }
  });

  it('scout in every mode and scout_jobs in every action answer structuredContent that validates against their schemas', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    const dir = `/tmp/scout-modes-${randomBytes(4).toString('hex')}`;
    const local = path.join(fleet.root, 'modes-local');
    fs.mkdirSync(local, { recursive: true });
    fs.writeFileSync(path.join(local, 'up.txt'), 'up\n');
    try {
      await fleet.runAsUser(`mkdir -p ${dir}/sub && printf 'hello\\n' > ${dir}/a.txt && printf 'hullo\\n' > ${dir}/b.txt && printf x > ${dir}/sub/c.log`);
      await client.listTools();
      const calls: Array<[string, Record<string, unknown>, string]> = [
        ['scout', { target: 'hosts' }, 'hosts'],
        ['scout', { target: `web1:${dir}/a.txt` }, 'read'],
        ['scout', { target: `web1:${dir}` }, 'list'],
        ['scout', { target: `web1:${dir}`, query: 'cat a.txt' }, 'query'],
        ['scout', { target: `web1:${dir}`, tree: true }, 'tree'],
        ['scout', { target: `web1:${dir}`, find: '*.log' }, 'find'],
        ['scout', { target: `web1:${dir}/a.txt`, diff: `web1:${dir}/b.txt` }, 'diff'],
        ['scout', { target: `web1:${dir}/a.txt`, diff_content: 'hello\n' }, 'diff_content'],
        ['scout', { target: `web1:${dir}/up.txt`, beam: path.join(local, 'up.txt') }, 'upload'],
        ['scout', { target: `web1:${dir}/a.txt`, beam: path.join(local, 'down.txt') }, 'download'],
        ['scout', { beam_source: `web1:${dir}/a.txt`, beam_target: `web1:${dir}/copy.txt` }, 'copy'],
        ['scout', { targets: [`web1:${dir}/a.txt`, `web1:${dir}/b.txt`] }, 'broadcast_read'],
        ['scout', { targets: [`web1:${dir}`], query: 'echo hi' }, 'broadcast_query'],
        ['scout', { target: `web1:${dir}/missing` }, 'error'],
        ['scout', { target: `web1:${dir}`, query: 'echo started; sleep 30', background: true }, 'background'],
        ['scout_jobs', { action: 'list' }, 'jobs'],
      ];
      const modes: string[] = [];
      let jobId = '';
      for (const [name, args, mode] of calls) {
        const r = await client.callTool({ name, arguments: args });
        const sc = r.structuredContent as Record<string, unknown>;
        expect(sc?.mode, `${name} ${JSON.stringify(args)}: ${JSON.stringify(r.content)}`).toBe(mode);
        expect(r.isError ?? false).toBe(mode === 'error');
        modes.push(mode);
        if (mode === 'background') jobId = String(sc.jobId);
      }
      // Every mode of scout is covered, so a mode added without a schema entry fails here.
      expect(modes.filter((_, i) => calls[i][0] === 'scout').sort()).toEqual([...SCOUT_MODES].sort());
      const out = await client.callTool({ name: 'scout_jobs', arguments: { job_id: jobId, wait_seconds: 5 } });
      expect(out.structuredContent).toMatchObject({ mode: 'job_output', jobId, state: 'running' });
      expect((out.structuredContent as { data: string }).data).toContain('started');
      const stop = await client.callTool({ name: 'scout_jobs', arguments: { action: 'stop', job_id: jobId } });
      expect(stop.structuredContent).toMatchObject({ mode: 'job_stop', jobId });
      const wait = await client.callTool({ name: 'scout_jobs', arguments: { action: 'wait', job_id: jobId, wait_seconds: 10 } });
      expect(wait.structuredContent).toMatchObject({ mode: 'job_wait', jobId, state: 'exited' });
      expect(fs.readFileSync(path.join(local, 'down.txt'), 'utf8')).toBe('hello\n');
    } finally {
      await client.close();
      await fleet.runAsUser(`rm -rf ${dir}`);
    }
  });

  it('scout_exec keeps the end of a large output within its byte budget, links the whole, and runs a file target in its directory', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      await client.listTools();
      const r = await client.callTool({
        name: 'scout_exec',
        arguments: { target: 'web1:/etc/hostname', command: 'pwd; head -c 10000 /dev/zero | tr "\\0" x; echo; echo ERROR at end', max_output_bytes: 1000 },
      });
      expect(r.isError).toBeFalsy();
      const sc = r.structuredContent as { cwd: string; stdout: string; omittedBytes: number; truncated: boolean };
      expect(sc.cwd).toBe('/etc');
      expect(sc.stdout.startsWith('/etc\n')).toBe(true);
      expect(sc.stdout.endsWith('ERROR at end\n')).toBe(true);
      expect(sc.truncated).toBe(true);
      expect(sc.omittedBytes).toBe(5 + 10001 + 13 - 1000);
      const content = r.content as Array<{ type: string; text?: string; uri?: string }>;
      expect(content[0].text).toContain(`[… ${sc.omittedBytes} bytes omitted …]`);
      const link = content.find((c) => c.type === 'resource_link');
      const page = await client.readResource({ uri: link!.uri! });
      const bytes = Buffer.from((page.contents[0] as { blob: string }).blob, 'base64').toString();
      expect(bytes).toBe(`/etc\n${'x'.repeat(10000)}\nERROR at end\n`);
    } finally {
      await client.close();
    }
  });
});
