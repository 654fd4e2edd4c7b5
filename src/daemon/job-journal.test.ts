import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JobJournal, type DurableRecord } from './job-journal.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-journal-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const rec = (id: string): DurableRecord => ({
  id,
  host: 'web1',
  dir: `/home/u/.local/state/scout/jobs/${id}`,
  pid: 42,
  command: 'make',
  client: 'scoutctl',
  startedAt: '2026-12-05T00:00:00.000Z',
  deadline: 1,
});

describe('JobJournal', () => {
  it('replays starts, ends and forgets, and compacts the file', () => {
    const file = path.join(dir, 'a', 'jobs.jsonl');
    const j = new JobJournal(file);
    j.started(rec('j1'));
    j.started(rec('j2'));
    j.started(rec('j3'));
    j.ended('j2', { state: 'exited', exitCode: 3, signal: null, endedAt: '2026-12-05T00:01:00.000Z', bytes: 10 });
    j.forgotten('j1');
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect((fs.statSync(path.dirname(file)).mode & 0o777).toString(8)).toBe('700');
    const { records } = new JobJournal(file).load();
    expect(records.map((r) => [r.id, r.end?.exitCode])).toEqual([
      ['j2', 3],
      ['j3', undefined],
    ]);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(new JobJournal(file).load().records).toEqual(records);
  });

  it('a line torn by a crash mid-write is skipped, the rest kept', () => {
    const file = path.join(dir, 'b.jsonl');
    const j = new JobJournal(file);
    j.started(rec('j1'));
    fs.appendFileSync(file, '{"op":"start","id":"j2","ho');
    const { records, skipped } = j.load();
    expect(records.map((r) => r.id)).toEqual(['j1']);
    expect(skipped).toBe(1);
  });

  it('a launch never followed by its start is kept with no directory, to be looked for by id', () => {
    const file = path.join(dir, 'c.jsonl');
    const j = new JobJournal(file);
    j.launching({ ...rec('j1'), dir: '', pid: 0 });
    j.launching({ ...rec('j2'), dir: '', pid: 0 });
    j.started(rec('j2'));
    const { records } = j.load();
    expect(records.map((r) => [r.id, r.dir])).toEqual([
      ['j1', ''],
      ['j2', '/home/u/.local/state/scout/jobs/j2'],
    ]);
    expect(new JobJournal(file).load().records).toEqual(records);
  });

  it('no file is no jobs', () => {
    expect(new JobJournal(path.join(dir, 'none.jsonl')).load()).toEqual({ records: [], skipped: 0 });
  });
});
