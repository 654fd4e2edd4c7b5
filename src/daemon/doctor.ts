// daemon.doctor: the checks only the daemon can make, since it is the process that reads the ssh config,
// talks to the agent and verifies host keys. `scoutctl doctor` adds the client-side ones (socket, protocol)
// and turns all of it into one screen.
import { KnownHosts, hostPatternName } from '../hosts/known-hosts.js';
import { loadSshConfig } from '../hosts/ssh-config.js';
import { keyName, knownHostsFiles, strictModeFor } from '../hosts/trust.js';
import { isScoutError } from '../protocol/errors.js';
import type { DoctorHost, DoctorResult } from '../protocol/methods/index.js';
import { hostAlgorithms } from '../ssh/algorithms.js';
import { agentKeyCount } from '../ssh/auth.js';
import type { Services } from './context.js';

/** Bound on one host's probe (connect, login and `true`), so one dead host cannot stall the report. */
const PROBE_TIMEOUT_MS = 10_000;

export async function diagnose(svc: Services, opts: { probe: boolean; signal: AbortSignal }): Promise<DoctorResult> {
  const { settings } = svc;
  let sshConfig: DoctorResult['sshConfig'];
  try {
    // Read afresh: the question is whether the file on disk parses now, not whether it did at start-up.
    const hosts = loadSshConfig(settings.sshConfigPath, { home: settings.home, localUser: settings.localUser });
    sshConfig = { path: settings.sshConfigPath, ok: true, hosts: hosts.aliases.length };
  } catch (err) {
    sshConfig = { path: settings.sshConfigPath, ok: false, hosts: svc.registry.aliases().length, error: (err as Error).message };
  }
  let agent: DoctorResult['agent'];
  if (!settings.agentSocket) agent = { socket: null, ok: true };
  else {
    try {
      agent = { socket: settings.agentSocket, ok: true, keys: await agentKeyCount(settings.agentSocket) };
    } catch (err) {
      agent = { socket: settings.agentSocket, ok: false, error: (err as Error).message };
    }
  }
  const hosts = await Promise.all(svc.registry.aliases().map((name) => checkHost(svc, name, opts)));
  return { sshConfig, agent, strictHostKeyChecking: settings.strictHostKeyChecking, hosts };
}

async function checkHost(svc: Services, name: string, opts: { probe: boolean; signal: AbortSignal }): Promise<DoctorHost> {
  const entry = svc.registry.get(name);
  const files = knownHostsFiles(entry, svc.trust);
  const key = keyName(entry);
  let knownHosts: DoctorHost['knownHosts'];
  try {
    const keyTypes = KnownHosts.load(files).knownKeyTypes(key.name, key.port);
    knownHosts = { found: keyTypes.length > 0, keyTypes, files, name: hostPatternName(key.name, key.port) };
  } catch (err) {
    knownHosts = { found: false, keyTypes: [], files, name: hostPatternName(key.name, key.port), error: (err as Error).message };
  }
  const host: DoctorHost = { name, hostname: entry.hostname, port: entry.port, strict: strictModeFor(entry, svc.trust), knownHosts };
  if (entry.algorithms) {
    try {
      host.algorithms = { ok: true, dropped: hostAlgorithms(name, entry.algorithms).dropped };
    } catch (err) {
      host.algorithms = { ok: false, error: (err as Error).message, dropped: [] };
    }
  }
  if (!opts.probe) return host;
  const warm = svc.pool.peek(name) !== undefined;
  const t0 = performance.now();
  const ms = () => Math.round((performance.now() - t0) * 10) / 10;
  try {
    const out = await svc.pool.use(name, (conn) => conn.exec('true', { timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 1024, signal: opts.signal }));
    host.probe = { ok: out.exitCode === 0, latencyMs: ms(), warm, ...(out.exitCode === 0 ? {} : { error: `'true' exited with ${out.exitCode ?? out.signal}` }) };
  } catch (err) {
    host.probe = { ok: false, latencyMs: ms(), warm, code: isScoutError(err) ? err.code : 'INTERNAL_ERROR', error: (err as Error).message };
  }
  return host;
}
