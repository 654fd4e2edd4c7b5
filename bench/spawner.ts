// The bench's process starter: every `ssh -S`, `scp`, `scoutctl` or `node -e 0` the bench times is started by
// this small process, not by the bench process that also holds the scoutd client being measured. Why: a fork
// marks the whole forking heap copy-on-write, and whatever that process writes next pays a page fault per
// page. A 1 MB `fs.read` through scoutd took 14.4–14.5 ms right after a spawn from the same process against
// 10.3–10.4 ms without (60 pairs, twice), and the next dozen reads stayed slow while V8 walked fresh pages; in
// a full run row 6 measured the bench's forks more than scoutd. An agent's long-lived client does not fork.
//
// Protocol: one JSON line per job on stdin, one JSON line per finished job on stdout, matched by id. The time
// is taken here, from spawn to close, so the pipe between the processes is not in any sample.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

export interface SpawnJob {
  id: number;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** A file for the child's stdin (else /dev/null). */
  stdin?: string;
  /** A file for the child's stdout, truncated (else /dev/null). */
  stdout?: string;
}

export interface SpawnDone {
  id: number;
  ms: number;
  code: number | null;
  signal: string | null;
  stderr: string;
  error?: string;
}

function run(job: SpawnJob): Promise<SpawnDone> {
  const fds: number[] = [];
  const file = (p: string | undefined, flags: string): number | 'ignore' => {
    if (!p) return 'ignore';
    const fd = fs.openSync(p, flags);
    fds.push(fd);
    return fd;
  };
  const t = performance.now();
  return new Promise<SpawnDone>((resolve) => {
    const end = (d: Omit<SpawnDone, 'id' | 'ms'>) => {
      for (const fd of fds) fs.closeSync(fd);
      resolve({ id: job.id, ms: performance.now() - t, ...d });
    };
    let child: ChildProcess;
    try {
      child = spawn(job.cmd, job.args, { env: job.env, stdio: [file(job.stdin, 'r'), file(job.stdout, 'w'), 'pipe'] });
    } catch (err) {
      end({ code: null, signal: null, stderr: '', error: (err as Error).message });
      return;
    }
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err) => end({ code: null, signal: null, stderr, error: err.message }));
    child.once('close', (code, signal) => end({ code, signal, stderr }));
  });
}

// Run only as a script (bench/run.ts imports its types alone); it ends when the bench closes its stdin.
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  void run(JSON.parse(line) as SpawnJob).then((done) => process.stdout.write(`${JSON.stringify(done)}\n`));
});
