// scoutctl's side of approvals: a call that needs a person's approval (policy `confirm`) asks on this
// terminal when there is one, and otherwise says how to decide it from another shell while it waits.
import fs from 'node:fs';
import type { ScoutClient } from '../client/client.js';
import type { ApprovalPending } from '../protocol/methods/approvals.js';
import type { Io } from './main.js';

/** The one-line description a person decides on: what, where, who asks, and why it asks. */
export function describeApproval(a: Pick<ApprovalPending, 'host' | 'kind' | 'what' | 'cwd' | 'client' | 'reason'>): string {
  const act = a.kind === 'command' || a.kind === 'job' ? `run ${JSON.stringify(a.what)}${a.cwd ? ` in ${a.cwd}` : ''}` : `${a.kind} ${a.what}`;
  return `${a.client} asks to ${act} on ${a.host} (${a.reason})`;
}

/** The `onApproval` of scoutctl's client: ask on /dev/tty, or tell how to decide elsewhere. */
export function approvalAsker(io: Io, getClient: () => ScoutClient | undefined): (a: ApprovalPending) => void {
  return (a) => {
    const line = `approval ${a.approvalId}: ${describeApproval(a)}`;
    const tty = openTty();
    if (!tty) {
      io.err(`scoutctl: waiting for ${line}.\n  Decide in another shell: scoutctl approve ${a.approvalId} (or scoutctl deny ${a.approvalId}); it expires at ${a.expiresAt}\n`);
      return;
    }
    void ask(tty, `scoutctl: ${line}.\nApprove? [y/N] `).then(
      (answer) =>
        getClient()
          ?.call('approvals.decide', { id: a.approvalId, approve: /^y(es)?$/i.test(answer.trim()), via: 'terminal' })
          .catch((err: Error) => io.err(`scoutctl: ${err.message}\n`)),
      () => io.err(`scoutctl: cannot ask on the terminal; decide with scoutctl approve ${a.approvalId}\n`),
    );
  };
}

/** The controlling terminal, when stdin and stderr are one (a person is there); else undefined. */
function openTty(): number | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  try {
    return fs.openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
}

async function ask(fd: number, question: string): Promise<string> {
  const tty = await import('node:tty');
  const input = new tty.ReadStream(fd);
  const output = new tty.WriteStream(fd);
  output.write(question);
  try {
    return await new Promise<string>((resolve, reject) => {
      let got = '';
      input.setEncoding('utf8');
      input.on('data', (chunk: string) => {
        got += chunk;
        const nl = got.indexOf('\n');
        if (nl >= 0) resolve(got.slice(0, nl));
      });
      input.once('error', reject);
      input.once('end', () => resolve(got));
    });
  } finally {
    input.destroy();
  }
}
