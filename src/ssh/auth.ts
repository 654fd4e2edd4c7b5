// Which credentials to offer, in OpenSSH's order: the agent, then configured IdentityFiles, then the
// default keys. Keys are parsed here so an encrypted key without an agent is skipped with a reason the
// caller can report, instead of ssh2 throwing mid-handshake.
import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthHandlerMiddleware, AuthenticationType, NextAuthHandler, ParsedKey } from 'ssh2';

const { utils } = ssh2;

/** Default identity files tried when the host names none (OpenSSH's list, most common first). */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa', 'id_ecdsa_sk', 'id_ed25519_sk'];

export interface AuthPlan {
  /** The ssh2 auth handler offering each credential once. */
  handler: AuthHandlerMiddleware;
  /** What was tried, for an AUTH_FAILED message (names only, never key material). */
  tried: string[];
  /** Keys skipped because they are encrypted and no passphrase is available. */
  encrypted: string[];
}

export interface AuthInputs {
  username: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  /** Agent socket path; empty or undefined means no agent. */
  agent?: string;
  home: string;
}

type Attempt = { label: string; auth: AnyAuthMethod };

function loadKey(file: string): ParsedKey | Error | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return undefined; // a missing default key is normal
  }
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) return parsed;
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

/** Build the ordered list of credentials for one connection attempt. */
export function planAuth(input: AuthInputs): AuthPlan {
  const attempts: Attempt[] = [];
  const encrypted: string[] = [];
  const tried: string[] = [];
  if (input.agent) {
    attempts.push({ label: 'ssh-agent', auth: { type: 'agent', username: input.username, agent: input.agent } });
  }
  const files = input.identityFiles.length > 0 ? input.identityFiles : DEFAULT_KEYS.map((k) => path.join(input.home, '.ssh', k));
  for (const file of files) {
    const key = loadKey(file);
    if (key === undefined) continue;
    if (key instanceof Error) {
      if (/encrypted|passphrase/i.test(key.message)) encrypted.push(file);
      continue;
    }
    attempts.push({ label: file, auth: { type: 'publickey', username: input.username, key } });
  }
  let next = 0;
  const handler: AuthHandlerMiddleware = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, cb: NextAuthHandler) => {
    while (next < attempts.length) {
      const a = attempts[next++];
      // The server lists 'publickey' for both agent and file keys.
      if (methodsLeft && !methodsLeft.includes('publickey')) continue;
      tried.push(a.label);
      cb(a.auth);
      return;
    }
    cb(false as unknown as AuthenticationType); // ssh2: false means no more methods to try
  };
  return { handler, tried, encrypted };
}

/** Bound on an agent answering "list identities" (a local socket: milliseconds when healthy). */
const AGENT_QUERY_TIMEOUT_MS = 3_000;

/** How many keys the agent at `socket` holds; rejects when it cannot be reached or does not answer. */
export function agentKeyCount(socket: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${AGENT_QUERY_TIMEOUT_MS / 1000} s`)), AGENT_QUERY_TIMEOUT_MS);
    new ssh2.OpenSSHAgent(socket).getIdentities((err, keys) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(keys?.length ?? 0);
    });
  });
}
