import { UsageError } from '../args.js';
import { connect } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  const [host] = ctx.args.positional;
  if (!host) throw new UsageError('trust needs a HOST (an alias from ssh config)');
  const yes = ctx.args.flags.has('yes');
  const client = await connect(ctx);
  try {
    const key = await client.call('hosts.hostKey', { host });
    const type = key.keyType
      .replace(/^ssh-/, '')
      .replace(/^ecdsa-sha2-.*/, 'ECDSA')
      .replace(/^rsa-sha2-.*/, 'RSA')
      .toUpperCase();
    switch (key.status) {
      case 'known':
        if (ctx.json) ctx.io.out(json({ ...key, added: false }) + '\n');
        else ctx.io.out(`${host} (${key.knownAs}) is already trusted: ${type} key ${key.fingerprint} is in ${key.knownHosts}\n`);
        return 0;
      case 'changed':
        if (ctx.json) ctx.io.out(json(key) + '\n');
        ctx.io.err(`@@@ WARNING: THE HOST KEY OF ${host} (${key.knownAs}) HAS CHANGED @@@
The server now offers ${type} key ${key.fingerprint}; ${key.knownHosts} has ${key.expected?.join(' or ')}.
Someone could be eavesdropping on you right now, or the host was simply reinstalled: check with its owner.
If the change is expected: ssh-keygen -R "${key.knownAs}" -f ${key.knownHosts}, then run scoutctl trust ${host} again.
`);
        return 1;
      case 'revoked':
        ctx.io.err(`${host} (${key.knownAs}) offers ${type} key ${key.fingerprint}, which is marked @revoked in known_hosts: refusing\n`);
        return 1;
      default:
        break;
    }
    if (!yes) {
      ctx.io.err(`The authenticity of host '${host} (${key.knownAs})' can't be established.
${type} key fingerprint is ${key.fingerprint}.
Are you sure you want to trust it (yes/no/[fingerprint])? `);
      const answer = (await readLine()).trim();
      if (answer !== 'yes' && answer !== key.fingerprint) {
        ctx.io.err(`Not trusted: nothing recorded${answer && answer !== 'no' ? ` (answer 'yes' or paste the fingerprint; got '${answer.slice(0, 80)}')` : ''}\n`);
        return 1;
      }
    }
    const r = await client.call('hosts.trust', { host, fingerprint: key.fingerprint });
    if (ctx.json) ctx.io.out(json(r) + '\n');
    else ctx.io.out(`Recorded ${type} key ${r.fingerprint} for ${host} as ${r.knownAs} in ${r.knownHosts}\n`);
    return 0;
  } finally {
    client.close();
  }
}

/** One line from stdin (empty at end of input). */
function readLine(): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const done = () => {
      process.stdin.off('data', onData);
      process.stdin.off('end', done);
      process.stdin.pause();
      resolve(buf.split('\n')[0]);
    };
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.includes('\n')) done();
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', done);
    process.stdin.resume();
  });
}
