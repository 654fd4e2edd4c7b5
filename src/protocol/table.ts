// The method table of protocol 1: for each method its params schema, result type, the notifications it may
// send, whether it touches a host (then it is audited) and what the policy checks. The daemon registers one
// handler per entry (a missing or extra one fails tsc), the client infers params and results from the name,
// audit reads `touchesHost`, and docs/protocol.md is generated from it (test/protocol-doc.test.ts).
// Clients import it as a type only (`import type { Methods }`): zod stays off their start-up path.
import type { z } from 'zod';
import * as m from './methods/index.js';

/** What the daemon's policy checks before a method acts (docs/policy): the host's exec rules, its path roots, readOnly. */
export type PolicyCheck = 'exec' | 'paths' | 'write' | 'forward';

/**
 * What a client narrowed by a grant (daemon.hello `grant`: scout-mcp --http per API key) may call: 'read' any
 * grant, 'write' a grant that is not read-only, 'owner' none (only scoutd's owner, un-narrowed).
 */
export type Access = 'read' | 'write' | 'owner';

/** Notifications a call may receive, tagged with its request id. */
export interface Notifications {
  /** Streamed output of `ssh.exec`/`fleet.exec` with `stream` (fleet adds `host`). */
  'exec.output': m.ExecOutput;
  /** Bytes moved so far by a transfer. */
  'transfer.progress': m.TransferProgress;
  /** One more host of a fleet call is done. */
  'fleet.progress': m.FleetProgress;
  /** An interactive session is open: attach a connection to it with the token. */
  'shell.ready': m.ShellReady;
  /** The call needs a person's approval (policy `confirm`): decide with approvals.decide, or wait. */
  'approval.pending': m.ApprovalPending;
}
export type NotificationName = keyof Notifications;

interface EntryIn<S extends z.ZodType, N extends NotificationName> {
  params: S;
  /** One line for docs/protocol.md. */
  summary: string;
  /** Reaches a host (or its key, or its pooled connection): every call is written to the audit log. */
  touchesHost: boolean;
  policy: readonly PolicyCheck[];
  access: Access;
  notifications: readonly N[];
}

/** An entry; `result` exists only as a type (a phantom): the table says what the handler must return. */
export type Entry<S extends z.ZodType = z.ZodType, R = unknown, N extends NotificationName = NotificationName> = EntryIn<S, N> & { readonly result: R };

const returns =
  <R>() =>
  <S extends z.ZodType, N extends NotificationName = never>(e: EntryIn<S, N>): Entry<S, R, N> =>
    e as Entry<S, R, N>;

const host = { touchesHost: true } as const;
const local = { touchesHost: false, policy: [] } as const;
const quiet = { notifications: [] } as const;

export const METHODS = {
  'daemon.hello': returns<m.HelloResult>()({ access: 'read', params: m.HelloParams, summary: 'First call of a connection: names the client and checks the protocol number.', ...local, ...quiet }),
  'daemon.status': returns<m.StatusResult>()({ access: 'owner', params: m.NoParams, summary: 'The daemon, its settings, policy and pool at a glance.', ...local, ...quiet }),
  'daemon.reload': returns<m.ReloadResult>()({
    access: 'owner',
    params: m.NoParams,
    summary: 'Re-read ssh config, policy and settings (as SIGHUP); unchanged connections stay warm.',
    ...local,
    ...quiet,
  }),
  'daemon.doctor': returns<m.DoctorResult>()({
    access: 'owner',
    params: m.DoctorParams,
    summary: 'Check socket, ssh config, agent and known_hosts; `probe` logs in to every host.',
    ...local,
    ...quiet,
  }),
  'daemon.shutdown': returns<{ ok: true }>()({ access: 'owner', params: m.NoParams, summary: 'Stop the daemon once this answer is sent.', ...local, ...quiet }),
  'hosts.list': returns<m.HostInfo[]>()({ access: 'read', params: m.HostsListParams, summary: 'Hosts from ssh config; `probe` checks each is reachable.', ...local, ...quiet }),
  'hosts.hostKey': returns<m.HostKeyResult>()({ access: 'read', params: m.HostKeyParams, summary: 'The key a host offers now and what known_hosts says of it.', ...host, policy: [], ...quiet }),
  'hosts.trust': returns<m.HostTrustResult>()({
    access: 'owner',
    params: m.HostTrustParams,
    summary: 'Record a host key in known_hosts if the server still offers exactly the confirmed fingerprint.',
    ...host,
    policy: [],
    ...quiet,
  }),
  'pool.list': returns<m.PoolListResult>()({ access: 'owner', params: m.NoParams, summary: 'Pooled connections and per-host counters.', ...local, ...quiet }),
  'pool.drop': returns<m.PoolDropResult>()({ access: 'owner', params: m.PoolDropParams, summary: "Close a host's pooled connections.", ...host, policy: [], ...quiet }),
  'ssh.exec': returns<m.ExecResult>()({
    access: 'write',
    params: m.ExecParams,
    summary: 'Run a command on a host and answer with its exit code and output.',
    ...host,
    policy: ['exec'],
    notifications: ['exec.output', 'approval.pending'],
  }),
  'fleet.exec': returns<m.FleetResult<m.ExecResult>>()({
    access: 'write',
    params: m.FleetExecParams,
    summary: 'Run a command on many hosts; each host gets its own result or error.',
    ...host,
    policy: ['exec'],
    notifications: ['exec.output', 'fleet.progress', 'approval.pending'],
  }),
  'fleet.read': returns<m.FleetResult<m.FsReadResult>>()({
    access: 'read',
    params: m.FleetReadParams,
    summary: 'Read one file from many hosts.',
    ...host,
    policy: ['paths'],
    notifications: ['fleet.progress'],
  }),
  'jobs.start': returns<m.JobStartResult>()({
    access: 'write',
    params: m.JobStartParams,
    summary: 'Start a background job owned by the daemon; answers with its id at once.',
    ...host,
    policy: ['exec'],
    notifications: ['approval.pending'],
  }),
  'jobs.output': returns<m.JobOutputResult>()({ access: 'read', params: m.JobOutputParams, summary: "Read a job's output from a cursor, optionally waiting for more.", ...local, ...quiet }),
  'jobs.list': returns<m.JobListResult>()({ access: 'read', params: m.JobListParams, summary: 'Jobs running and recently ended.', ...local, ...quiet }),
  'jobs.signal': returns<m.JobSignalResult>()({ access: 'write', params: m.JobSignalParams, summary: "Send a signal to a job's process group.", ...host, policy: [], ...quiet }),
  'jobs.wait': returns<m.JobInfo>()({ access: 'read', params: m.JobWaitParams, summary: 'Wait until a job ends or the wait times out.', ...local, ...quiet }),
  'jobs.forget': returns<m.JobForgetResult>()({ access: 'write', params: m.JobForgetParams, summary: 'Drop an ended job and its output.', ...local, ...quiet }),
  'transfer.get': returns<m.TransferResult>()({
    access: 'owner',
    params: m.TransferGetParams,
    summary: 'Copy a remote file or tree to a local path, atomically.',
    ...host,
    policy: ['paths'],
    notifications: ['transfer.progress', 'approval.pending'],
  }),
  'transfer.put': returns<m.TransferResult>()({
    access: 'owner',
    params: m.TransferPutParams,
    summary: 'Copy a local file or tree to a host, atomically.',
    ...host,
    policy: ['write', 'paths'],
    notifications: ['transfer.progress', 'approval.pending'],
  }),
  'transfer.copy': returns<m.TransferResult>()({
    access: 'write',
    params: m.TransferCopyParams,
    summary: 'Copy between two hosts through the daemon, streamed.',
    ...host,
    policy: ['write', 'paths'],
    notifications: ['transfer.progress', 'approval.pending'],
  }),
  'fs.read': returns<m.FsReadResult>()({ access: 'read', params: m.FsReadParams, summary: 'Read a remote file (text, or base64 when it is not UTF-8).', ...host, policy: ['paths'], ...quiet }),
  'fs.stat': returns<m.FsStatResult>()({ access: 'read', params: m.FsStatParams, summary: 'Type, size, mode and mtime of a remote path.', ...host, policy: ['paths'], ...quiet }),
  'fs.list': returns<m.FsListResult>()({ access: 'read', params: m.FsListParams, summary: 'List a remote directory.', ...host, policy: ['paths'], ...quiet }),
  'fs.tree': returns<m.FsTreeResult>()({ access: 'read', params: m.FsTreeParams, summary: 'A remote directory as a tree, bounded in depth and entries.', ...host, policy: ['paths'], ...quiet }),
  'fs.find': returns<m.FsFindResult>()({ access: 'read', params: m.FsFindParams, summary: 'Remote paths whose name matches a glob.', ...host, policy: ['paths'], ...quiet }),
  'fs.write': returns<m.FsWriteResult>()({
    access: 'write',
    params: m.FsWriteParams,
    summary: 'Write a remote file atomically (temp file and rename).',
    ...host,
    policy: ['write', 'paths'],
    notifications: ['approval.pending'],
  }),
  'shell.open': returns<m.ShellOpenResult>()({
    access: 'write',
    params: m.ShellOpenParams,
    summary: 'Open an interactive session (a PTY, or none like ssh -T); answers with its exit when it ends.',
    ...host,
    policy: ['exec'],
    notifications: ['shell.ready'],
  }),
  'shell.attach': returns<m.ShellAttachResult>()({
    access: 'write',
    params: m.ShellAttachParams,
    summary: "Turn this connection into the session's raw bytes (one attach per session).",
    ...local,
    ...quiet,
  }),
  'shell.resize': returns<m.ShellResizeResult>()({ access: 'write', params: m.ShellResizeParams, summary: "Change a session's terminal size.", ...local, ...quiet }),
  'forward.open': returns<m.ForwardInfo>()({
    access: 'write',
    params: m.ForwardOpenParams,
    summary: 'Open a port forward owned by scoutd (local, remote or dynamic/SOCKS5); it outlives the caller.',
    ...host,
    policy: ['forward'],
    notifications: ['approval.pending'],
  }),
  'forward.list': returns<m.ForwardListResult>()({ access: 'read', params: m.ForwardListParams, summary: 'Forwards with their state, connections and bytes.', ...local, ...quiet }),
  'forward.close': returns<m.ForwardCloseResult>()({ access: 'write', params: m.ForwardCloseParams, summary: 'Close a forward: its listener and its connections.', ...local, ...quiet }),
  'approvals.list': returns<m.ApprovalsListResult>()({ access: 'owner', params: m.ApprovalsListParams, summary: 'Approvals waiting for a decision.', ...local, ...quiet }),
  'approvals.decide': returns<m.ApprovalDecideResult>()({
    access: 'read',
    params: m.ApprovalDecideParams,
    summary: "Approve (optionally for a while) or deny a pending approval; a narrowed connection only its own calls'.",
    ...local,
    ...quiet,
  }),
  'audit.query': returns<m.AuditQueryResult>()({ access: 'owner', params: m.AuditQueryParams, summary: 'The newest audit entries, filtered by host and time.', ...local, ...quiet }),
};

export type Methods = typeof METHODS;
export type MethodName = keyof Methods;
/** What a caller sends (before defaults): `client.call` checks it. */
export type ParamsOf<M extends MethodName> = z.input<Methods[M]['params']>;
/** What a handler receives (validated, defaults applied). */
export type ValidParamsOf<M extends MethodName> = z.output<Methods[M]['params']>;
export type ResultOf<M extends MethodName> = Methods[M]['result'];
export type NotificationOf<M extends MethodName> = Methods[M]['notifications'][number];
/** `(method, params)` of a notification a call of M may receive, as a union the receiver can switch on. */
export type NotificationArgs<M extends MethodName> = { [N in NotificationOf<M>]: [method: N, params: Notifications[N]] }[NotificationOf<M>];
