// Many calls on one host at once: scoutd keeps within the server's MaxSessions and every command runs once.
// sshd frees a session slot lazily (at the top of its next main-loop turn), so a channel opened right after
// another one closed can be refused although the client is within MaxSessions; scoutd must absorb that.
import { beforeAll, describe, expect, it } from 'vitest';
import type { DaemonProc } from './fixtures/daemon.js';
import { useFleet } from './fixtures/suite.js';

const CALLS = 100;
const ROUNDS = 3;

// OpenSSH's default, spelled out: the limit is what this file is about.
const fleet = useFleet(['web1'], { config: ['MaxSessions 10'] });
let daemon: DaemonProc;

beforeAll(async () => {
  daemon = await fleet.startDaemon();
});

describe('100 concurrent ssh.exec on a host with MaxSessions 10', () => {
  it('all succeed, each with its own output, round after round on the same connection', async () => {
    const client = await daemon.client();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const outcomes = await Promise.allSettled(Array.from({ length: CALLS }, (_, i) => client.call('ssh.exec', { host: 'web1', command: `echo ${round}-${i}` })));
        const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`#${i}: ${(o.reason as Error).message}`] : []));
        expect(failures, `round ${round}`).toEqual([]);
        const outputs = outcomes.map((o) => (o.status === 'fulfilled' ? `${o.value.exitCode}:${o.value.stdout}` : ''));
        expect(outputs).toEqual(Array.from({ length: CALLS }, (_, i) => `0:${round}-${i}\n`));
      }
      // One pooled connection did all of it: the limit was met by queueing, not by opening more connections.
      expect(fleet.server('web1').acceptedLogins()).toBe(1);
    } finally {
      client.close();
    }
  });
});
