import { z } from 'zod';
import { ApprovalMode } from './approvals.js';
import { HostName, PathString, RemotePath } from './common.js';

/**
 * A local path as the daemon sees it. The daemon's working directory is not the caller's, so only absolute
 * paths are accepted; scoutctl resolves relative ones before sending.
 */
export const LocalPath = PathString.describe('an absolute path on the machine scoutd runs on');

export const TransferGetParams = z.object({ host: HostName, remotePath: RemotePath, localPath: LocalPath, recursive: z.boolean().optional(), approval: ApprovalMode.optional() }).strict();
export type TransferGetParams = z.infer<typeof TransferGetParams>;

export const TransferPutParams = z.object({ host: HostName, localPath: LocalPath, remotePath: RemotePath, recursive: z.boolean().optional(), approval: ApprovalMode.optional() }).strict();
export type TransferPutParams = z.infer<typeof TransferPutParams>;

const RemoteEnd = z.object({ host: HostName, path: RemotePath }).strict();

export const TransferCopyParams = z.object({ from: RemoteEnd, to: RemoteEnd, recursive: z.boolean().optional(), approval: ApprovalMode.optional() }).strict();
export type TransferCopyParams = z.infer<typeof TransferCopyParams>;

export interface TransferResult {
  /** File bytes written to the destination. */
  bytes: number;
  /** Regular files written (directories and symlinks are not counted). */
  files: number;
  durationMs: number;
  /** The path that was written (differs from the requested one when that was an existing directory). */
  path: string;
  /**
   * Entries of a tree that were not copied, relative to its root: special files (FIFOs, sockets, devices), and
   * names that are not valid UTF-8 (SFTP names reach Scout decoded, so such a name cannot be asked for again).
   */
  skipped?: string[];
}

/** Notification `transfer.progress`, tagged with the request id; `bytes` only grows and ends at `totalBytes`. */
export interface TransferProgress {
  id: string | number;
  bytes: number;
  totalBytes: number;
  /** The source file being transferred. */
  file: string;
}
