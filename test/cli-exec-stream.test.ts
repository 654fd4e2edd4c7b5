// Issue 17, item 8: `scoutctl exec` streams what the command writes as it arrives, to a terminal or a pipe,
// every byte. Before: piped output came only at the end (`tail -f log | grep x` never printed; a timeout lost
// it all) and was cut at 1 MiB with exit 0 (`seq 1 300000` gave 1,048,576 of 1,988,895 bytes).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCOUTCTL, type DaemonProc } from './fixtures/daemon.js';
import { remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);

/** scoutctl with its stdout a pipe; `onStdout` sees each chunk as it comes. */
function run(d: DaemonProc, args: string[], onStdout?: (chunk: Buffer, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, [SCOUTCTL, ...args], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out.push(c);
    onStdout?.(c, child);
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err })));
  return { child, done };
}

function peakRssMiB(d: DaemonProc): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1]) / 1024;
}

for (const mode of ['on', 'off'] as const) {
  describe(`scoutctl exec into a pipe (exec mode ${mode})`, () => {
    it('shows each line as the command prints it', async () => {
      const d = await fleet.startDaemon({ SCOUT_EXEC_MODE: mode });
      // The command prints a line, then waits until the test has seen it: the rest can only come if the first
      // line reached scoutctl's stdout while the command was still running.
      const seen = `/tmp/${fleet.root.split('/').pop()}-seen-${mode}`;
      fleet.cleanupEach(() => fs.rmSync(seen, { force: true }));
      const r = run(d, ['exec', 'web1', '--timeout', '20', '--', `echo 1; while [ ! -e ${seen} ]; do sleep 0.05; done; echo 2`], (chunk) => {
        if (chunk.toString().includes('1\n')) fs.writeFileSync(seen, '');
      });
      const res = await r.done;
      expect(res.stdout.toString()).toBe('1\n2\n');
      expect(res.code).toBe(0);
    });

    it('passes every byte of a large output, exit 0', async () => {
      const d = await fleet.startDaemon({ SCOUT_EXEC_MODE: mode });
      const res = await run(d, ['exec', 'web1', '--', 'seq', '1', '300000']).done;
      expect(res.code).toBe(0);
      expect(res.stdout.length).toBe(1_988_895);
      expect(res.stdout.equals(spawnSync('seq', ['1', '300000'], { maxBuffer: 16 * 1024 * 1024 }).stdout)).toBe(true);
      expect(res.stderr).toBe('');
    });

    it("holds the command while the reader is slow, so 100 MB pass with the daemon's memory bounded", async () => {
      const d = await fleet.startDaemon({ SCOUT_EXEC_MODE: mode });
      const before = peakRssMiB(d);
      // The command says in a file how many MB it has written: while the reader stops, so must the writer.
      const progress = `/tmp/${fleet.root.split('/').pop()}-progress-${mode}`;
      fleet.cleanupEach(() => fs.rmSync(progress, { force: true }));
      const command = `i=0; while [ $i -lt 100 ]; do head -c 1000000 /dev/zero; i=$((i+1)); echo $i > ${progress}; done`;
      let bytes = 0;
      let paused = false;
      let writtenDuringPause = -1;
      const r = run(d, ['exec', 'web1', '--', command], (c, child) => {
        bytes += c.length;
        // Stop reading for a second once, early: everything upstream must wait instead of buffering.
        if (!paused && bytes > 10_000_000) {
          paused = true;
          child.stdout!.pause();
          setTimeout(() => {
            writtenDuringPause = Number(fs.readFileSync(progress, 'utf8'));
            child.stdout!.resume();
          }, 1_000);
        }
      });
      const res = await r.done;
      console.log(`100 MB streamed; the writer reached ${writtenDuringPause} MB during the pause; daemon peak RSS ${before.toFixed(0)} → ${peakRssMiB(d).toFixed(0)} MiB`);
      expect(res.code).toBe(0);
      expect(res.stdout.length).toBe(100_000_000);
      // 10 MB read, plus what the pipes, the daemon's 1 MiB high-water mark and the SSH window hold: far from
      // the 100 MB an unheld writer reaches in a second.
      expect(writtenDuringPause).toBeGreaterThanOrEqual(10);
      expect(writtenDuringPause).toBeLessThan(40);
      expect(peakRssMiB(d) - before).toBeLessThan(150);
    });

    it('a timeout keeps what was already printed', async () => {
      const d = await fleet.startDaemon({ SCOUT_EXEC_MODE: mode });
      const res = await run(d, ['exec', 'web1', '--timeout', '1', '--', 'echo before; sleep 30']).done;
      expect(res.stdout.toString()).toBe('before\n');
      expect(res.code).toBe(255);
      expect(res.stderr).toMatch(/timed out/);
    });

    it('a reader that goes away stops the remote command; scoutctl exits 141 without a trace', async () => {
      const d = await fleet.startDaemon({ SCOUT_EXEC_MODE: mode });
      const tag = `epipe-${mode}-${Date.now()}`;
      const r = run(d, ['exec', 'web1', '--', `seq 1 100000000 | sed s/^/${tag}/`], (_c, child) => child.stdout!.destroy());
      const res = await r.done;
      expect(res.code).toBe(141);
      expect(res.stderr).not.toMatch(/Error|at /);
      await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, 5_000, 'the remote pipeline to be gone');
    });
  });
}

it('scoutctl exec refuses an option it does not have instead of ignoring it', async () => {
  const d = await fleet.startDaemon();
  const res = await run(d, ['exec', 'web1', '--max-output', '10', '--', 'echo', 'hi']).done;
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/unknown option --max-output for exec/);
});

it('as with ssh, everything after the host is the remote command, its flags included', async () => {
  const d = await fleet.startDaemon();
  const out = async (argv: string[]) => {
    const r = await run(d, argv).done;
    return { code: r.code, stdout: r.stdout.toString() };
  };
  expect(await out(['exec', 'web1', 'tail', '-n', '1', '/etc/hostname'])).toEqual({ code: 0, stdout: `${fs.readFileSync('/etc/hostname', 'utf8').trimEnd().split('\n').at(-1)}\n` });
  expect(await out(['exec', 'web1', 'ls', '-d', '-h', '/etc'])).toEqual({ code: 0, stdout: '/etc\n' });
  expect(await out(['exec', 'web1', 'echo', '--', 'hi'])).toEqual({ code: 0, stdout: '-- hi\n' });
  // --cwd ~ and ~/x are the remote home, as HOST:~/x is.
  const home = (await out(['exec', 'web1', 'pwd'])).stdout;
  expect(await out(['exec', '--cwd', '~', 'web1', 'pwd'])).toEqual({ code: 0, stdout: home });
  // The old form still works: options between the host and --.
  expect(await out(['exec', 'web1', '--timeout', '5', '--', 'echo', 'ok'])).toEqual({ code: 0, stdout: 'ok\n' });
});
