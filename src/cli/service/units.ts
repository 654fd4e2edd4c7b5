// The service definitions Scout ships: a systemd user service + socket (Linux) and a launchd LaunchAgent
// (macOS). One renderer for both uses: `scoutctl service install` writes them with the real paths of node
// and of the installed package, and the copies in systemd/ and launchd/ of the package are the same
// rendering with generic paths (test/service.test.ts keeps them identical, and verifies both). The optional
// second service, scout-mcp --http (`service install --http`), has no generic copy: its unit is only useful
// with the host, port, socket and key file written in.

/** Sandboxing both units share: free for a process that only opens sockets and files. */
const HARDENING = `NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
SystemCallArchitectures=native
`;

/** launchd job label (reverse-DNS, as launchd expects); also the plist's file name. */
export const LAUNCHD_LABEL = 'dev.scout.scoutd';

/** The second, optional service (`scoutctl service install --http`): scout-mcp serving MCP over HTTP. */
export const HTTP_UNIT = 'scout-mcp-http';
/** Its launchd label, beside LAUNCHD_LABEL. */
export const HTTP_LAUNCHD_LABEL = `dev.scout.${HTTP_UNIT}`;

/** The socket path the systemd socket unit listens on: DESIGN.md's `$XDG_RUNTIME_DIR/scout/scoutd.sock` (%t). */
export const SYSTEMD_SOCKET_PATH = '%t/scout/scoutd.sock';

export interface SystemdOptions {
  /** argv of the daemon: [node, .../dist/bin/scoutd.js] when installed, ['/usr/bin/env', 'scoutd'] in the shipped copy. */
  execStart: string[];
  /** Socket path with systemd specifiers (see systemdLiteral); default SYSTEMD_SOCKET_PATH. */
  socketPath?: string;
}

/** Quote one ExecStart word the way systemd parses it (double quotes, backslash escapes, `%` doubled). */
function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A literal path for a unit file (systemd would expand `%` specifiers in it). */
export function systemdLiteral(p: string): string {
  return p.replace(/%/g, '%%');
}

/** An Environment= assignment, quoted when it holds whitespace or quotes. */
function systemdEnv(name: string, value: string): string {
  const a = `${name}=${value}`;
  return /[\s"'\\]/.test(a) ? `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : a;
}

export function systemdService(opts: SystemdOptions): string {
  const socketPath = opts.socketPath ?? SYSTEMD_SOCKET_PATH;
  return `# Scout daemon (scoutd) as a systemd user service, socket-activated by scoutd.socket.
# Installed by 'scoutctl service install' (which writes the real paths of node and scoutd below).
# Settings: put SCOUT_* variables in ~/.config/scout/env (KEY=value lines), then 'systemctl --user restart scoutd'.
[Unit]
Description=Scout SSH connection pool daemon (scoutd)
Documentation=https://www.npmjs.com/package/scout-ssh
Requires=scoutd.socket
After=scoutd.socket

[Service]
Type=simple
ExecStart=${opts.execStart.map(systemdWord).join(' ')}
# SIGHUP re-reads ssh config and known_hosts; connections whose settings did not change stay warm.
ExecReload=/bin/kill -HUP $MAINPID
# The socket unit and the daemon must agree on the path clients use (status shows it).
Environment=${systemdEnv('SCOUT_SOCKET', socketPath)}
EnvironmentFile=-%h/.config/scout/env
# pino JSON lines on stdout go to the journal: 'scoutctl logs' or 'journalctl --user -u scoutd'.
StandardOutput=journal
StandardError=journal
SyslogIdentifier=scoutd
Restart=on-failure
RestartSec=2
# scoutd drains in-flight calls for SCOUT_SHUTDOWN_GRACE (5 s by default), then closes every connection.
TimeoutStopSec=30
# A descriptor per pooled connection, client, forward and job: a thousand hosts need more than the usual soft
# limit of 1,024. At the limit a connect closes an idle connection first, else fails with LIMIT_REACHED.
LimitNOFILE=16384

# Hardening that still lets scoutd read ~/.ssh (keys, config, known_hosts), write known_hosts (accept-new)
# and read/write the local paths of transfers: no ProtectHome, no ProtectSystem, no PrivateTmp. What is
# left costs nothing to a process that only opens sockets and files. MemoryDenyWriteExecute is absent on
# purpose: V8's JIT needs writable+executable pages.
${HARDENING}# Unix (control socket, ssh-agent), IPv4/IPv6 (ssh), netlink (getaddrinfo's interface lookup).
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=default.target
`;
}

export function systemdSocket(opts: { socketPath?: string } = {}): string {
  return `# Scout's control socket. systemd listens on it and starts scoutd.service on the first connection;
# scoutd then serves on the inherited socket (LISTEN_FDS) instead of binding its own.
[Unit]
Description=Scout control socket (scoutd)
Documentation=https://www.npmjs.com/package/scout-ssh

[Socket]
ListenStream=${opts.socketPath ?? SYSTEMD_SOCKET_PATH}
# Only the owner may talk to scoutd (it runs commands on their hosts as them).
SocketMode=0600
DirectoryMode=0700
RemoveOnStop=yes

[Install]
WantedBy=sockets.target
`;
}

export interface HttpSystemdOptions {
  /** argv of the server: [node, .../dist/bin/scout-mcp.js, '--http', '--host', H, '--port', P]. */
  execStart: string[];
  /** The socket scoutd.service is given (systemd specifiers escaped): the server must dial the same one. */
  socketPath: string;
  /** The key file `scoutctl keys` writes (a path; the keys in it are hashes). */
  keysFile: string;
}

/**
 * scout-mcp --http as a user service beside scoutd.service. No secret in it, ever: keys live hashed in the key
 * file, which the unit names by path only.
 */
export function systemdHttpService(opts: HttpSystemdOptions): string {
  return `# Scout's MCP server over HTTP (scout-mcp --http) as a systemd user service, beside scoutd.service.
# Installed by 'scoutctl service install --http' (which writes the real paths of node and scout-mcp below).
# API keys: 'scoutctl keys add NAME'; only their hashes are stored, in the key file named below. Never put a
# key in this file or in its environment. Settings: SCOUT_* variables in ~/.config/scout/env (shared with
# scoutd), then 'systemctl --user restart ${HTTP_UNIT}'.
[Unit]
Description=Scout MCP server over HTTP (scout-mcp --http)
Documentation=https://www.npmjs.com/package/scout-ssh
# It forwards every call to scoutd over its socket: start after it and pull it in. Wants=, not Requires=: a
# restart of scoutd leaves this server running (its next call reconnects).
Wants=scoutd.socket scoutd.service
After=scoutd.socket scoutd.service

[Service]
Type=simple
ExecStart=${opts.execStart.map(systemdWord).join(' ')}
# The same socket as scoutd.service, and the key file 'scoutctl keys' writes.
Environment=${systemdEnv('SCOUT_SOCKET', opts.socketPath)}
Environment=${systemdEnv('SCOUT_HTTP_KEYS', systemdLiteral(opts.keysFile))}
EnvironmentFile=-%h/.config/scout/env
# pino JSON lines on stderr go to the journal: 'journalctl --user -u ${HTTP_UNIT}'.
StandardOutput=journal
StandardError=journal
SyslogIdentifier=${HTTP_UNIT}
# It exits 1 on a setting it cannot honour (a non-loopback --host without a key): retried, then given up on
# by systemd's start limit; after fixing it: 'systemctl --user restart ${HTTP_UNIT}'.
Restart=on-failure
RestartSec=2
TimeoutStopSec=30

${HARDENING}# Unix (scoutd's socket), IPv4/IPv6 (HTTP clients; an OAuth issuer's keys), netlink (getaddrinfo).
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=default.target
`;
}

export interface LaunchdOptions {
  /** argv of the daemon. */
  programArguments: string[];
  /** Directory for stdout/stderr logs (absolute: launchd does not expand `~`). */
  logDir: string;
  /** Extra environment (SCOUT_SOCKET, so the agent and the user's shells agree on the socket). */
  env?: Record<string, string>;
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(opts: LaunchdOptions): string {
  return plist(opts, {
    label: LAUNCHD_LABEL,
    comment: `Scout daemon (scoutd) as a launchd agent. Installed by 'scoutctl service install', which writes the
     real paths of node, scoutd and your log directory.`,
    log: 'scoutd.log',
    keepAlive: "Restart after a crash, not after 'scoutctl stop' (a clean exit).",
    extra: `\t<!-- A descriptor per pooled connection: more than the default soft limit of 256 for a large fleet. -->
\t<key>SoftResourceLimits</key>
\t<dict>
\t\t<key>NumberOfFiles</key>
\t\t<integer>8192</integer>
\t</dict>
`,
  });
}

/**
 * scout-mcp --http as a second agent: its own label and log, the same SCOUT_SOCKET as scoutd's (opts.env).
 * launchd has no dependencies: scout-mcp dials scoutd per request (and reconnects), so the order of loading
 * does not matter.
 */
export function launchdHttpPlist(opts: LaunchdOptions): string {
  return plist(opts, {
    label: HTTP_LAUNCHD_LABEL,
    // No double dash in an XML comment: "scout-mcp in HTTP mode", not the flag.
    comment: `Scout's MCP server over HTTP (scout-mcp in HTTP mode) as a launchd agent, beside ${LAUNCHD_LABEL}.
     Installed by 'scoutctl service install' with its HTTP option. API keys: 'scoutctl keys add NAME' (only
     their hashes are stored, in the key file SCOUT_HTTP_KEYS names); never put a key in this file.`,
    log: `${HTTP_UNIT}.log`,
    keepAlive: 'Restart after a failure (launchd waits 10 s between starts), not after a clean exit.',
    extra: '',
  });
}

function plist(opts: LaunchdOptions, job: { label: string; comment: string; log: string; keepAlive: string; extra: string }): string {
  const args = opts.programArguments.map((a) => `\t\t<string>${xmlText(a)}</string>`).join('\n');
  const env = Object.entries(opts.env ?? {});
  const envBlock = env.length ? `\t<key>EnvironmentVariables</key>\n\t<dict>\n${env.map(([k, v]) => `\t\t<key>${xmlText(k)}</key>\n\t\t<string>${xmlText(v)}</string>`).join('\n')}\n\t</dict>\n` : '';
  const log = (name: string) => xmlText(`${opts.logDir.replace(/\/+$/, '')}/${name}`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- ${job.comment} -->
<plist version="1.0">
<dict>
\t<key>Label</key>
\t<string>${job.label}</string>
\t<key>ProgramArguments</key>
\t<array>
${args}
\t</array>
${envBlock}\t<key>RunAtLoad</key>
\t<true/>
\t<!-- ${job.keepAlive} -->
\t<key>KeepAlive</key>
\t<dict>
\t\t<key>SuccessfulExit</key>
\t\t<false/>
\t</dict>
${job.extra}\t<key>StandardOutPath</key>
\t<string>${log(job.log)}</string>
\t<key>StandardErrorPath</key>
\t<string>${log(job.log)}</string>
</dict>
</plist>
`;
}

/** The generic copies shipped in systemd/ and launchd/ (reference; `scoutctl service install` writes real paths). */
export function shippedUnits(): Record<string, string> {
  return {
    'systemd/scoutd.service': systemdService({ execStart: ['/usr/bin/env', 'scoutd'] }),
    'systemd/scoutd.socket': systemdSocket(),
    [`launchd/${LAUNCHD_LABEL}.plist`]: launchdPlist({ programArguments: ['/usr/local/bin/scoutd'], logDir: '/Users/YOU/Library/Logs/scout' }),
  };
}
