// Issue 17, item 7: a timeout or cancel that says it stopped a command must have stopped it. A command that
// ignores SIGTERM (`trap "" TERM`, python's signal.SIG_IGN) kept running as an orphan on the warm-shell path
// while the error said "timed out … and was stopped". Both paths now escalate to KILL, and say what happened.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TERM_GRACE_MS, KILL_GRACE_MS } from '../src/ssh/exec.js';
import { expectCode, remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(fleet.root, 'stop-'));
  fs.chmodSync(dir, 0o777);
});

/** Commands that ignore SIGTERM, and create `ready` once they do (so the stop never races their set-up). */
const ignoring = (tag: string, ready: string) => ({
  shell: `trap "" TERM; touch ${ready}; sleep 30 # ${tag}`,
  python: `python3 -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open("${ready}", "w"); time.sleep(30)' ${tag}`,
});

for (const mode of ['on', 'off'] as const) {
  describe(`a command that ignores SIGTERM (exec mode ${mode})`, () => {
    for (const kind of ['shell', 'python'] as const) {
      for (const how of ['timeout', 'cancel'] as const) {
        it(`${kind}, ${how}: gone within the grace, and the error says it was stopped`, async () => {
          const d = await fleet.startDaemon({ SCOUT_EXEC_MODE: mode });
          const c = await d.client();
          await c.call('ssh.exec', { host: 'web1', command: 'true' }); // warm: time the stop, not the connect
          const tag = `stop-${mode}-${kind}-${how}-${Date.now()}`;
          const ready = path.join(dir, tag);
          const command = ignoring(tag, ready)[kind];
          const ac = new AbortController();
          const t0 = performance.now();
          const call = c.call('ssh.exec', { host: 'web1', command, timeoutMs: how === 'timeout' ? 2_000 : 60_000 }, { signal: ac.signal });
          await until(() => fs.existsSync(ready), 10_000, 'the command to ignore TERM');
          if (how === 'cancel') ac.abort();
          const err = await expectCode(call, how === 'timeout' ? 'COMMAND_TIMEOUT' : 'CANCELLED');
          const ms = performance.now() - t0;
          console.log(`${mode}/${kind}/${how}: answered after ${ms.toFixed(0)} ms: ${err.message}`);
          const bound = (how === 'timeout' ? 2_000 : 0) + TERM_GRACE_MS + KILL_GRACE_MS + 1_500;
          if (err.details.stopped === false) {
            // Said honestly: on an exec channel whose login shell (dash) did not exec the command, TERM ends
            // the session's shell, after which sshd can no longer signal the session, and python runs on.
            expect(mode).toBe('off');
            expect(err.message).toMatch(/may still be running/);
            expect((await remoteProcesses(fleet.user, tag)).length).toBeGreaterThan(0);
            spawnSync('pkill', ['-KILL', '-f', tag]);
            return;
          }
          expect(err.details.stopped).toBe(true);
          expect(err.message).toMatch(/stopped/);
          await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, bound, 'the command to be gone');
          expect(performance.now() - t0).toBeLessThan(bound + 2_000);
        });
      }
    }
  });
}
