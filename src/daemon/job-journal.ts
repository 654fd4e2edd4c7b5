// scoutd's record of its durable jobs, so that a new scoutd (after an upgrade, a crash, kill -9) finds them
// again: one JSON line per event (started, ended, forgotten), appended with a synchronous write before the
// event is acted on, so a daemon killed at any instant leaves a journal that says no less than it had told
// anyone. Loading replays the lines, skips a line torn by a crash mid-write, and rewrites the file compacted.
// The output is not journaled: it lives on the host (remote/durable.ts), addressed by byte offset.
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorCode } from '../protocol/errors.js';
import type { JobState } from '../protocol/methods/jobs.js';

/** How a durable job ended, as listed. */
export interface DurableEnd {
  state: Exclude<JobState, 'running' | 'unknown'>;
  exitCode: number | null;
  signal: string | null;
  endedAt: string;
  /** Bytes of output it printed in all. */
  bytes: number;
  error?: { code: ErrorCode; message: string };
}

export interface DurableRecord {
  id: string;
  host: string;
  /** The job's directory on the host; '' while it is being launched (a scoutd killed then left only this). */
  dir: string;
  /** The command's process group on the host (0 until known). */
  pid: number;
  command: string;
  cwd?: string;
  client: string;
  startedAt: string;
  /** When the job's timeout stops it (epoch ms). */
  deadline: number;
  end?: DurableEnd;
}

type Line = ({ op: 'launch' | 'start' } & DurableRecord) | ({ op: 'end'; id: string } & DurableEnd) | { op: 'forget'; id: string };

export class JobJournal {
  constructor(readonly file: string) {}

  /** The jobs the journal holds, in start order; the file is rewritten with just them. */
  load(): { records: DurableRecord[]; skipped: number } {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: 0 };
      throw err;
    }
    const jobs = new Map<string, DurableRecord>();
    let skipped = 0;
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        skipped++;
        continue;
      }
      if (line.op === 'start' || line.op === 'launch') {
        const { op: _, ...rec } = line;
        jobs.set(rec.id, rec);
      } else if (line.op === 'end') {
        const { op: _, id, ...end } = line;
        const rec = jobs.get(id);
        if (rec) rec.end = end;
      } else if (line.op === 'forget') jobs.delete(line.id);
    }
    const records = [...jobs.values()];
    this.rewrite(records);
    return { records, skipped };
  }

  /** Before the launch: a scoutd killed before it hears the answer still knows to look for the job. */
  launching(rec: DurableRecord): void {
    this.append({ op: 'launch', ...rec });
  }

  started(rec: DurableRecord): void {
    this.append({ op: 'start', ...rec });
  }

  ended(id: string, end: DurableEnd): void {
    this.append({ op: 'end', id, ...end });
  }

  forgotten(id: string): void {
    this.append({ op: 'forget', id });
  }

  private append(line: Line): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    fs.appendFileSync(this.file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }

  private rewrite(records: DurableRecord[]): void {
    const lines = records.flatMap((r) => {
      const { end, ...rec } = r;
      const out: Line[] = [{ op: rec.dir ? 'start' : 'launch', ...rec }];
      if (end) out.push({ op: 'end', id: r.id, ...end });
      return out.map((l) => `${JSON.stringify(l)}\n`);
    });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, lines.join(''), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}
