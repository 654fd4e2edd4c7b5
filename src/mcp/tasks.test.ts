import { afterEach, describe, expect, it, vi } from 'vitest';
import { TASK_POLL_MS, ToolTasks } from './tasks.js';

const asTask = { method: 'tools/call', params: { name: 'scout', task: { ttl: 1000 } } };
const inPlace = { method: 'tools/call', params: { name: 'scout' } };
const answer = (text: string) => ({ content: [{ type: 'text', text }] });

afterEach(() => {
  vi.useRealTimers();
});

describe('ToolTasks', () => {
  it('keeps no entry for a call made without a task, and hands its answer over once', async () => {
    const tasks = new ToolTasks();
    const t = await tasks.createTask({}, 1, inPlace);
    expect(tasks.isTask(t.taskId)).toBe(false);
    tasks.answerDirect(t.taskId, answer('x'));
    expect((await tasks.getTask(t.taskId))?.status).toBe('completed');
    expect(await tasks.getTaskResult(t.taskId)).toEqual(answer('x'));
    expect((await tasks.listTasks()).tasks).toEqual([]);
  });

  it('a cancel aborts the call and stays cancelled; the answer that follows is its result', async () => {
    const tasks = new ToolTasks();
    const t = await tasks.createTask({ ttl: 5000 }, 1, asTask);
    expect(t).toMatchObject({ status: 'working', ttl: 5000, pollInterval: TASK_POLL_MS });
    const signal = tasks.signal(t.taskId);
    const result = tasks.getTaskResult(t.taskId);
    await tasks.updateTaskStatus(t.taskId, 'cancelled');
    expect(signal.aborted).toBe(true);
    expect(String(signal.reason)).toContain('tasks/cancel');
    await tasks.storeTaskResult(t.taskId, 'failed', answer('cancelled, process gone'));
    expect((await tasks.getTask(t.taskId))?.status).toBe('cancelled');
    expect(await result).toEqual(answer('cancelled, process gone'));
  });

  it('forgets an ended task its ttl after it ended, never a running one', async () => {
    vi.useFakeTimers();
    const tasks = new ToolTasks();
    const ended = await tasks.createTask({ ttl: 1000 }, 1, asTask);
    const running = await tasks.createTask({ ttl: 1000 }, 2, asTask);
    await tasks.storeTaskResult(ended.taskId, 'completed', answer('ok'));
    vi.advanceTimersByTime(1001);
    expect(await tasks.getTask(ended.taskId)).toBeNull();
    expect((await tasks.getTask(running.taskId))?.status).toBe('working');
    tasks.close();
  });

  it('lists in pages of 100 with a cursor, and refuses a cursor it never gave', async () => {
    const tasks = new ToolTasks();
    for (let i = 0; i < 150; i++) await tasks.createTask({}, i, asTask);
    const first = await tasks.listTasks();
    expect(first.tasks).toHaveLength(100);
    const second = await tasks.listTasks(first.nextCursor);
    expect(second.tasks).toHaveLength(50);
    expect(second.nextCursor).toBeUndefined();
    await expect(tasks.listTasks('nope')).rejects.toThrow("unknown cursor 'nope'");
    tasks.close();
  });
});
