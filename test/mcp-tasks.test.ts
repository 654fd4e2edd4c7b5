// Issue 19, item 5, through the official SDK client: a query made as an MCP task answers with the task at
// once, tasks/get shows it working and then completed, tasks/result returns its output, and tasks/cancel on
// another one stops its remote process. A call made without a task is answered as before.
import { randomBytes } from 'node:crypto';
import { CallToolResultSchema, CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { remoteProcesses, until } from './fixtures/expect.js';
import { startShim } from './fixtures/mcp.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);

/** tools/call as a task: the CreateTaskResult. */
function callAsTask(client: Client, name: string, args: Record<string, unknown>) {
  return client.request({ method: 'tools/call', params: { name, arguments: args, task: { ttl: 60_000 } } }, CreateTaskResultSchema);
}

describe('scout-mcp: MCP tasks', () => {
  it('a task query is working, then completed, and its result is the output; the long tools say they take tasks', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      const { tools } = await client.listTools();
      const taskTools = tools.filter((t) => t.execution?.taskSupport === 'optional').map((t) => t.name);
      expect(taskTools.sort()).toEqual(['scout', 'scout_exec', 'scout_transfer']);

      const started = Date.now();
      const { task } = await callAsTask(client, 'scout', { target: 'web1:/tmp', query: 'sleep 3; echo done' });
      // Answered at once, long before the command ends.
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(task.status).toBe('working');
      expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('working');
      expect((await client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toContain(task.taskId);
      const seen: string[] = [];
      await until(
        async () => {
          const s = (await client.experimental.tasks.getTask(task.taskId)).status;
          seen.push(s);
          return s === 'completed';
        },
        15_000,
        'the task to complete',
      );
      expect(seen[0]).toBe('working');
      expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
      const r = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ mode: 'query', exitCode: 0, stdout: 'done\n' });
      expect(JSON.stringify(r.content)).toContain('done');

      // scout_exec as a task too; and the same tool called without a task answers in place.
      const ex = await callAsTask(client, 'scout_exec', { target: 'web1:/tmp', command: 'echo as-task' });
      const exr = await client.experimental.tasks.getTaskResult(ex.task.taskId, CallToolResultSchema);
      expect(exr.structuredContent).toMatchObject({ exitCode: 0, stdout: 'as-task\n' });
      const plain = await client.callTool({ name: 'scout_exec', arguments: { target: 'web1:/tmp', command: 'echo in-place' } });
      expect(plain.structuredContent).toMatchObject({ exitCode: 0, stdout: 'in-place\n' });
    } finally {
      await client.close();
    }
  });

  it('tasks/cancel stops the remote process of a task query, and the shim keeps serving', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      // A duration of its own makes the remote process findable by its argv.
      const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
      const { task } = await callAsTask(client, 'scout', { target: 'web1:/tmp', query: tag });
      await until(async () => (await remoteProcesses(fleet.user, tag)).length > 0, 10_000, 'the remote sleep');
      const cancelled = await client.experimental.tasks.cancelTask(task.taskId);
      expect(cancelled.status).toBe('cancelled');
      const at = Date.now();
      await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, 1_000, 'the remote sleep to be gone within 1 s of tasks/cancel');
      expect(Date.now() - at).toBeLessThanOrEqual(1_000);
      expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('cancelled');
      // Its result says it was cancelled, with Scout's code.
      const r = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toContain('CANCELLED');
      // It says the remote process was confirmed gone.
      expect(r.structuredContent).toMatchObject({ mode: 'error', error: { code: 'CANCELLED', data: { stopped: true } } });
      expect(JSON.stringify(r.content)).toMatch(/stopped/);
      const again = await client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', query: 'echo still serving' } });
      expect(JSON.stringify(again.content)).toContain('still serving');
    } finally {
      await client.close();
    }
  });

  it('a scout_exec task is a durable job: tasks/get and tasks/result work from a new scout-mcp after scoutd was killed', async () => {
    let d = await fleet.startDaemon();
    const first = await startShim(d.env);
    const { task } = await callAsTask(first, 'scout_exec', { target: 'web1:/tmp', command: 'sleep 1; echo survived; exit 3' });
    expect(task.taskId).toMatch(/^job-j[0-9a-f]+$/);
    expect(task.status).toBe('working');
    await first.close();
    await d.kill9();
    d = await fleet.startDaemon();
    const second = await startShim(d.env);
    try {
      expect((await second.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toContain(task.taskId);
      await until(async () => (await second.experimental.tasks.getTask(task.taskId)).status === 'completed', 15_000, 'the task to complete');
      const r = await second.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
      expect(r.structuredContent).toMatchObject({ host: 'web1', cwd: '/tmp', exitCode: 3, signal: null, stdout: 'survived\n' });
      expect(JSON.stringify(r.content)).toContain('[exit code: 3]');

      // tasks/cancel of a job task stops its remote process group.
      const tag = `sleep 301.${randomBytes(3).readUIntBE(0, 3)}`;
      const long = await callAsTask(second, 'scout_exec', { target: 'web1:/tmp', command: tag });
      await until(async () => (await remoteProcesses(fleet.user, tag)).length > 0, 10_000, 'the remote sleep');
      expect((await second.experimental.tasks.cancelTask(long.task.taskId)).status).toBe('cancelled');
      await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, 5_000, 'the remote sleep to be gone');
      const cr = await second.experimental.tasks.getTaskResult(long.task.taskId, CallToolResultSchema);
      expect(cr.structuredContent).toMatchObject({ signal: 'SIGTERM' });
    } finally {
      await second.close();
    }
  });
});
