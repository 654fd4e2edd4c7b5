// scoutctl keys: the API keys of scout-mcp --http. Local only (no daemon): the key file is the user's own.
import { type KeyEntry, hashSecret, keysPath, newSecret, readKeys, writeKeys } from '../../mcp/http-keys.js';
import { commaList } from '../../protocol/values.js';
import { UsageError, flag } from '../args.js';
import type { CommandContext } from '../main.js';
import { json, table } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  const [sub, name, ...extra] = ctx.args.positional;
  if (extra.length > 0) throw new UsageError(`keys ${sub}: unexpected '${extra[0]}'`);
  const file = keysPath(process.env);
  const keys = readKeys(file);
  if (sub === 'list' || sub === undefined) {
    const shown = keys.map(({ hash: _h, ...k }) => k);
    if (ctx.json) ctx.io.out(`${json({ file, keys: shown })}\n`);
    else if (keys.length === 0) ctx.io.out(`No API keys (${file}); add one: scoutctl keys add NAME\n`);
    else ctx.io.out(`${table(shown.map(row), ['NAME', 'HOSTS', 'ACCESS', 'TOOLS', 'RATE', 'CREATED'])}\n`);
    return 0;
  }
  if (!name) throw new UsageError(`keys ${sub} needs a NAME`);
  if (sub === 'remove') {
    if (!keys.some((k) => k.name === name)) throw new UsageError(`no key named '${name}' (scoutctl keys list)`);
    writeKeys(
      file,
      keys.filter((k) => k.name !== name),
    );
    ctx.io.out(ctx.json ? `${json({ removed: name })}\n` : `removed key ${name}: a running scout-mcp --http refuses it from its next request\n`);
    return 0;
  }
  if (sub !== 'add') throw new UsageError(`keys takes list, add NAME or remove NAME, not '${sub}'`);
  if (keys.some((k) => k.name === name)) throw new UsageError(`a key named '${name}' exists; remove it first to replace it`);
  const secret = newSecret();
  const entry: KeyEntry = {
    name,
    hash: hashSecret(secret),
    hosts: list(flag(ctx.args, 'hosts')) ?? ['*'],
    readOnly: ctx.args.flags.has('read-only'),
    ...(flag(ctx.args, 'tools') !== undefined ? { tools: list(flag(ctx.args, 'tools')) } : {}),
    ...rate(flag(ctx.args, 'rate'), flag(ctx.args, 'burst')),
    created: new Date().toISOString(),
  };
  // The file's own checks (name, sizes) speak for themselves: write through them, then read back.
  writeKeys(file, [...keys, entry]);
  try {
    readKeys(file);
  } catch (err) {
    writeKeys(file, keys);
    throw new UsageError((err as Error).message.replace(`${file}: `, ''));
  }
  if (ctx.json) ctx.io.out(`${json({ name, secret, file })}\n`);
  else ctx.io.out(`${secret}\n`);
  ctx.io.err(`key ${name} added to ${file}: the secret above is shown only now; send it as X-API-Key or Authorization: Bearer\n`);
  return 0;
}

function list(raw: string | undefined): string[] | undefined {
  return raw === undefined ? undefined : commaList(raw);
}

function rate(perMinute: string | undefined, burst: string | undefined): Pick<KeyEntry, 'rate'> {
  if (perMinute === undefined && burst === undefined) return {};
  const n = (raw: string | undefined, what: string, dflt: number): number => {
    if (raw === undefined) return dflt;
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${what} takes a whole number, not '${raw}'`);
    return Number(raw);
  };
  return { rate: { perMinute: n(perMinute, 'rate', 60), burst: n(burst, 'burst', 10) } };
}

function row(k: Omit<KeyEntry, 'hash'>): string[] {
  return [
    k.name,
    k.hosts.join(',') || '(none)',
    k.readOnly ? 'read-only' : 'read-write',
    k.tools?.join(',') ?? 'all',
    k.rate ? `${k.rate.perMinute}/min burst ${k.rate.burst}` : 'default',
    k.created ?? '',
  ];
}
