// Background jobs through MCP: the SDK's own Client drives dist/bin/scout-mcp.js over stdio against a real
// scoutd and real sshd, as an agent would: start in the background, poll by cursor, read the end.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonProc } from './fixtures/daemon.js';
import { startShim } from './fixtures/mcp.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);
let daemon: DaemonProc | undefined;
let shim: Client | undefined;

afterEach(async () => {
  await shim?.close().catch(() => undefined);
  shim = undefined;
});

async function call(c: Client, name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean; structured: Record<string, any> }> {
  const r = await c.callTool({ name, arguments: args });
  const content = r.content as Array<{ type: string; text: string }>;
  return { text: content.map((x) => x.text).join(''), isError: r.isError === true, structured: r.structuredContent as Record<string, any> };
}

describe('background jobs over MCP', () => {
  it('starts a query in the background, polls it by cursor and gets the final output and exit code', async () => {
    daemon = await fleet.startDaemon();
    shim = await startShim(daemon.env);
    const tools = (await shim.listTools()).tools;
    const jobsTool = tools.find((t) => t.name === 'scout_jobs');
    expect(jobsTool?.description).toMatch(/next_offset/);
    expect(jobsTool?.description).toMatch(/wait_seconds/);
    expect(JSON.stringify(tools.find((t) => t.name === 'scout')?.inputSchema)).toContain('background');

    const started = await call(shim, 'scout', {
      target: 'web1:/tmp',
      query: 'for i in 1 2 3 4 5 6 7 8; do echo "step $i in $(pwd)"; sleep 0.2; done; echo warning >&2; exit 2',
      background: true,
    });
    expect(started.isError, started.text).toBe(false);
    const jobId = started.structured.jobId as string;
    expect(started.text).toContain(`scout_jobs(job_id="${jobId}"`);

    let offset = 0;
    let data = '';
    let polls = 0;
    let last: Awaited<ReturnType<typeof call>>;
    do {
      last = await call(shim, 'scout_jobs', { job_id: jobId, offset, wait_seconds: 10, max_bytes: 40 });
      expect(last.isError, last.text).toBe(false);
      data += last.structured.data;
      offset = last.structured.nextOffset;
      polls++;
      if (!last.structured.done) expect(last.text).toContain(`next_offset: ${offset}`);
    } while (!last.structured.done);
    const expected = Array.from({ length: 8 }, (_, i) => `step ${i + 1} in /tmp\n`).join('') + 'warning\n';
    expect(data).toBe(expected);
    expect(polls).toBeGreaterThan(2);
    expect(last.structured).toMatchObject({ state: 'exited', exitCode: 2, done: true });
    expect(last.text).toContain(`[job ${jobId} exited with code 2]`);

    const listed = await call(shim, 'scout_jobs', { action: 'list' });
    expect(listed.text).toContain(jobId);
    expect(listed.text).toContain('exit 2');
  });

  it('stops a background job and reports how it ended', async () => {
    daemon = await fleet.startDaemon();
    shim = await startShim(daemon.env);
    const started = await call(shim, 'scout', { target: 'web1:/tmp', query: 'echo waiting; sleep 7801', background: true });
    const jobId = started.structured.jobId as string;
    const first = await call(shim, 'scout_jobs', { job_id: jobId, wait_seconds: 10 });
    expect(first.structured.data).toBe('waiting\n');
    const stop = await call(shim, 'scout_jobs', { action: 'stop', job_id: jobId });
    expect(stop.text).toContain(`Sent TERM to job ${jobId}`);
    const waited = await call(shim, 'scout_jobs', { action: 'wait', job_id: jobId, wait_seconds: 10 });
    expect(waited.text).toContain(`[job ${jobId} was killed by SIGTERM]`);
    const missing = await call(shim, 'scout_jobs', { job_id: 'jnothere' });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain('NOT_FOUND');
  });
});
