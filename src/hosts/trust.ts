// Host-key trust: the decision a first `ssh` login would make, from known_hosts and the strictness mode.
// Files are read on every connect (a cold path), so an edit to known_hosts applies without a reload.
import path from 'node:path';
import { ScoutError, type ErrorCode } from '../protocol/errors.js';
import { KnownHosts, appendKnownHost, fingerprint, hostPatternName, keyTypeOfBlob } from './known-hosts.js';
import type { HostEntry, StrictMode } from './ssh-config.js';
import type { HostKeyResult } from '../protocol/methods/index.js';

export interface TrustContext {
  /** `SCOUT_KNOWN_HOSTS`: replaces every host's files when set. */
  knownHostsOverride?: string;
  home: string;
  /** Mode from `SCOUT_STRICT_HOST_KEY_CHECKING` when the env sets it; ssh config's value wins otherwise. */
  mode: StrictMode;
  modeFromEnv: boolean;
  /** Called when a key is accepted without verification (mode no) or learnt (accept-new). */
  warn: (msg: string, data: Record<string, unknown>) => void;
}

export type HostKeyDecision = { ok: true } | { ok: false; error: ScoutError };

/** The known_hosts files consulted for a host, in order; the first is where accept-new writes. */
export function knownHostsFiles(entry: HostEntry, ctx: TrustContext): string[] {
  if (ctx.knownHostsOverride) return [ctx.knownHostsOverride];
  if (entry.userKnownHostsFiles.length > 0) return entry.userKnownHostsFiles;
  return [path.join(ctx.home, '.ssh', 'known_hosts'), path.join(ctx.home, '.ssh', 'known_hosts2')];
}

/** The effective strictness for one host. */
export function strictModeFor(entry: HostEntry, ctx: TrustContext): StrictMode {
  if (ctx.modeFromEnv) return ctx.mode;
  return entry.strictHostKeyChecking ?? ctx.mode;
}

/** The name and port under which the host's key is filed (HostKeyAlias wins, as in OpenSSH). */
export function keyName(entry: HostEntry): { name: string; port: number } {
  return entry.hostKeyAlias ? { name: entry.hostKeyAlias, port: 22 } : { name: entry.hostname, port: entry.port };
}

/** Key types already on file for the host, to offer first (so an RSA-only entry is not "changed" by ed25519). */
export function preferredKeyTypes(entry: HostEntry, ctx: TrustContext): string[] {
  const { name, port } = keyName(entry);
  try {
    return KnownHosts.load(knownHostsFiles(entry, ctx)).knownKeyTypes(name, port);
  } catch {
    return [];
  }
}

/** Build the verifier for one connect to `entry`. */
export function hostKeyVerifier(entry: HostEntry, ctx: TrustContext): (blob: Buffer) => Promise<HostKeyDecision> {
  return async (blob) => {
    const files = knownHostsFiles(entry, ctx);
    const mode = strictModeFor(entry, ctx);
    const { name, port } = keyName(entry);
    const fp = fingerprint(blob);
    const label = hostPatternName(name, port);
    const verdict = KnownHosts.load(files).check(name, port, keyTypeOfBlob(blob), blob);
    switch (verdict.status) {
      case 'ok':
        return { ok: true };
      case 'revoked':
        return refuse('HOST_KEY_REVOKED', `host key for ${entry.name} (${label}) is marked @revoked in known_hosts: ${fp}`, { host: entry.name, fingerprint: fp });
      case 'mismatch':
        if (mode === 'no') {
          ctx.warn('host key CHANGED but StrictHostKeyChecking is off: connecting anyway', { host: entry.name, fingerprint: fp });
          return { ok: true };
        }
        return refuse(
          'HOST_KEY_MISMATCH',
          `host key for ${entry.name} (${label}) changed: expected ${verdict.expected.join(' or ')}, got ${fp} — check with the host's owner before editing ${files[0]}`,
          { host: entry.name, expected: verdict.expected, got: fp, knownHosts: files[0] },
        );
      case 'cert-authority-unsupported':
        return refuse('HOST_KEY_UNKNOWN', `host ${entry.name} (${label}) is trusted only through @cert-authority, which Scout does not support yet; add its key (${fp}) to ${files[0]}`, {
          host: entry.name,
          fingerprint: fp,
        });
      case 'unknown':
        if (mode === 'accept-new') {
          return learn(files, name, port, blob, () => ctx.warn('learnt new host key (accept-new)', { host: entry.name, fingerprint: fp, file: files[0] }));
        }
        if (mode === 'no') {
          ctx.warn('host key NOT verified: StrictHostKeyChecking is off', { host: entry.name, fingerprint: fp });
          return { ok: true };
        }
        return refuse(
          'HOST_KEY_UNKNOWN',
          `host key for ${entry.name} (${label}) is not in ${files[0]}: the server offers ${fp}; verify it, then run 'scoutctl trust ${entry.name}' or 'ssh ${entry.name}' once`,
          { host: entry.name, fingerprint: fp, knownHosts: files[0] },
        );
    }
    return refuse('HOST_KEY_UNKNOWN', `host key for ${entry.name} could not be checked`, { host: entry.name });
  };
}

function refuse(code: ErrorCode, message: string, data: Record<string, unknown>): HostKeyDecision {
  return { ok: false, error: new ScoutError(code, message, data) };
}

/**
 * Appends are serialised within the daemon and re-check the files first: two connections to one host (an
 * overflow connection, a reconnect racing a learn) record its key once, not twice. Across processes the
 * O_APPEND write of one whole line keeps the file valid.
 */
let appendChain: Promise<unknown> = Promise.resolve();
function learn(files: string[], name: string, port: number, blob: Buffer, onLearnt: () => void): Promise<HostKeyDecision> {
  const next = appendChain.then(async (): Promise<HostKeyDecision> => {
    const now = KnownHosts.load(files).check(name, port, keyTypeOfBlob(blob), blob);
    if (now.status === 'ok') return { ok: true };
    if (now.status !== 'unknown' && now.status !== 'cert-authority-unsupported')
      return refuse('HOST_KEY_MISMATCH', `host key for ${hostPatternName(name, port)} was recorded differently while connecting; retry`, { host: name });
    await appendKnownHost(files[0], name, port, keyTypeOfBlob(blob), blob);
    onLearnt();
    return { ok: true };
  });
  appendChain = next.catch(() => undefined);
  return next;
}

/** What known_hosts says about `blob` for `entry` (for `scoutctl trust`): the verifier's verdict, shown rather than enforced. */
export function inspectHostKey(entry: HostEntry, ctx: TrustContext, blob: Buffer): HostKeyResult {
  const files = knownHostsFiles(entry, ctx);
  const { name, port } = keyName(entry);
  const verdict = KnownHosts.load(files).check(name, port, keyTypeOfBlob(blob), blob);
  const base = { host: entry.name, knownAs: hostPatternName(name, port), keyType: keyTypeOfBlob(blob), fingerprint: fingerprint(blob), knownHosts: files[0] };
  switch (verdict.status) {
    case 'ok':
      return { ...base, status: 'known' };
    case 'mismatch':
      return { ...base, status: 'changed', expected: verdict.expected };
    default:
      return { ...base, status: verdict.status };
  }
}

/**
 * Record `blob` for `entry` in its first known_hosts file, as a first `ssh` login does after "yes". Only an
 * unknown key is recorded: a changed or revoked one is refused (the old line must be removed by hand).
 */
export async function recordHostKey(entry: HostEntry, ctx: TrustContext, blob: Buffer): Promise<{ added: boolean; report: HostKeyResult }> {
  const report = inspectHostKey(entry, ctx, blob);
  if (report.status === 'known') return { added: false, report };
  if (report.status === 'changed') {
    throw new ScoutError(
      'HOST_KEY_MISMATCH',
      `host key for ${entry.name} (${report.knownAs}) differs from the one on file (${report.expected?.join(' or ')}); if the change is expected, remove the old key with 'ssh-keygen -R "${report.knownAs}" -f ${report.knownHosts}' first`,
      { host: entry.name, expected: report.expected, got: report.fingerprint, knownHosts: report.knownHosts },
    );
  }
  if (report.status === 'revoked')
    throw new ScoutError('HOST_KEY_REVOKED', `host key ${report.fingerprint} of ${entry.name} is marked @revoked: refusing to trust it`, { host: entry.name, fingerprint: report.fingerprint });
  const { name, port } = keyName(entry);
  const d = await learn(knownHostsFiles(entry, ctx), name, port, blob, () =>
    ctx.warn('host key recorded (scoutctl trust)', { host: entry.name, fingerprint: report.fingerprint, file: report.knownHosts }),
  );
  if (!d.ok) throw d.error;
  return { added: true, report: { ...report, status: 'known' } };
}
