import { Client } from 'ssh2';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startFleet } from '../../test/fixtures/sshd.js';

const fleet = await startFleet(['slowrc', 'clean'], { perHost: { slowrc: { config: ['AllowUsers scout-bench'] } } });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p / 100 * xs.length)];
async function connect(name: string, user: string): Promise<Client> {
  const c = new Client();
  await new Promise<void>((res, rej) => {
    c.on('ready', () => res()).on('error', rej);
    c.connect({ host: '127.0.0.1', port: fleet.server(name).port, username: user, privateKey: fs.readFileSync(fleet.clientKeyPath), });
    (c as any)._sock?.setNoDelay?.(true);
  });
  return c;
}
// A loop: reads nonce line, command line, nonce line; runs; prints markers.
const loops: Record<string, string> = {
  current: `exec 9>&2 2>/dev/null; printf 'READY\\n'; while IFS= read -r n; do c=; while IFS= read -r l; do [ "$l" = "$n" ] && break; c="$c$l
"; done; printf 'S%s\\n' "$n"; printf 'S%s\\n' "$n" >&9; ( unset n l s; eval "unset c; $c" ) </dev/null 2>&9 9>&- && s=0 || s=$?; printf 'E%s %s\\n' "$n" "$s"; printf 'E%s\\n' "$n" >&9; done`,
  prefork: `exec 9>&2 2>/dev/null; printf 'READY\\n'; IFS= read -r n || exit; while :; do ( c=; while IFS= read -r l; do [ "$l" = "$n" ] && break; c="$c$l
"; done; printf 'S%s\\n' "$n"; printf 'S%s\\n' "$n" >&9; unset n l; eval "unset c; $c" </dev/null 2>&9 9>&- ) && s=0 || s=$?; printf 'E%s %s\\n' "$n" "$s"; printf 'E%s\\n' "$n" >&9; IFS= read -r n || exit; done`,
};
async function bench(c: Client, loop: string, runs = 300, cmd = 'true', gap = 0) {
  const pre = loop.includes('IFS= read -r n || exit;');
  const s: any = await new Promise((res, rej) => c.exec(loop, (e, st) => e ? rej(e) : res(st)));
  let buf = ''; let ebuf = '';
  let waiter: ((x: void) => void) | undefined; let want = ''; let ewant = '';
  const check = () => { if (want && buf.includes(want) && (!ewant || ebuf.includes(ewant))) { buf = ''; ebuf = ''; const w = waiter; waiter = undefined; want=''; ewant = ''; w?.(); } };
  s.on('data', (d: Buffer) => { buf += d.toString(); check(); });
  s.stderr.on('data', (d: Buffer) => { ebuf += d.toString(); check(); });
  await new Promise<void>((r) => { want = 'READY\n'; if (buf.includes(want)) { buf=''; r(); } else waiter = r; });
  let next = randomBytes(16).toString('hex');
  if (pre) s.write(`${next}\n`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const n = pre ? next : randomBytes(16).toString('hex');
    next = randomBytes(16).toString('hex');
    if (gap) await new Promise((r) => setTimeout(r, gap));
    const t = performance.now();
    await new Promise<void>((r) => { want = `E${n} `; ewant = `E${n}\n`; waiter = r; s.write(pre ? `${cmd}\n${n}\n${next}\n` : `${n}\n${cmd}\n${n}\n`); });
    times.push(performance.now() - t);
  }
  s.close();
  return times;
}
async function rawExec(c: Client, runs = 100) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await new Promise<void>((res, rej) => c.exec('true', (e, st) => { if (e) return rej(e); st.on('close', () => res()).resume(); st.stderr.resume(); }));
    times.push(performance.now() - t);
  }
  return times;
}
try {
  fleet.writeConfig();
  for (const [name, user] of [['clean', fleet.user], ['slowrc', 'scout-bench']] as const) {
    const c = await connect(name, user);
    for (const [k, loop] of Object.entries(loops)) {
      for (const cmd of ['true', 'ls /']) for (const gap of [0, 20]) {
      const t = await bench(c, loop, 150, cmd, gap);
      console.log(name, k.padEnd(10), cmd.padEnd(5), 'gap', gap, 'p50', pct(t, 50).toFixed(2), 'p10', pct(t, 10).toFixed(2), 'p90', pct(t, 90).toFixed(2));
      }
    }
    if (name === 'clean') { const t = await rawExec(c); console.log(name, 'rawexec   ', 'p50', pct(t, 50).toFixed(2)); }
    c.end();
  }
} finally { await fleet.cleanup(); }
