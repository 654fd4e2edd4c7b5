// fleet.exec with many hosts in flight at once (aliases of one sshd, each its own pooled connection): $/cancel
// stops the command on every host, and the call's cancellation reaches each host through a signal of its own.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { remoteCommands, remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

/** More hosts in flight than Node's default of 10 listeners on one AbortSignal. */
const ALIASES = Array.from({ length: 12 }, (_, i) => `f${i + 1}`);
const fleet = useFleet(['web1']);

beforeAll(() => {
  const s = fleet.server('web1');
  fleet.writeConfig(
    Object.fromEntries(
      ALIASES.map((a) => [
        a,
        ['HostName 127.0.0.1', `Port ${s.port}`, `User ${fleet.user}`, `IdentityFile ${fleet.clientKeyPath}`, `UserKnownHostsFile ${fleet.knownHostsPath}`, 'IdentitiesOnly yes'],
      ]),
    ),
  );
});

describe('fleet.exec over 12 hosts at once', () => {
  it('$/cancel stops the command on every host within 2 s, and the daemon warns of no listener leak', async () => {
    const d = await fleet.startDaemon({ SCOUT_EXEC_MODE: 'off' });
    const client = await d.client();
    const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
    const ac = new AbortController();
    const call = client.call('fleet.exec', { hosts: ALIASES, command: tag, concurrency: ALIASES.length }, { signal: ac.signal });
    // Every host runs it (counting the `sh -c` holders too cancelled with half the hosts still opening).
    await until(async () => (await remoteCommands(fleet.user, tag)).length === ALIASES.length, 15_000, 'the sleep on every host');
    ac.abort();
    // A fleet call answers per host, a cancelled one too: every host CANCELLED.
    const r = await call;
    expect(r.results.map((h) => h.error?.code)).toEqual(ALIASES.map(() => 'CANCELLED'));
    await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, 2_000, 'the sleep gone on every host within 2 s of the cancel');
    // Every host's exec listened on the call's own signal: 12 at once made Node print MaxListenersExceededWarning
    // on each fleet call (1,000 hosts at concurrency 100: on every call of bench row 15).
    expect(d.logs()).not.toContain('MaxListenersExceededWarning');
    // The pool serves the same hosts at once after the cancel.
    const again = await client.call('fleet.exec', { hosts: ALIASES, command: 'echo ok', concurrency: ALIASES.length });
    expect(again.summary).toEqual({ ok: ALIASES.length, failed: 0, total: ALIASES.length });
    expect(d.logs()).not.toContain('MaxListenersExceededWarning');
  });
});
