// fs.*: remote files over SFTP. Exact metadata, reads bounded by a byte cap, walks bounded by entry caps,
import { ApprovalMode } from './approvals.js';
// atomic writes. Result shapes are the contract daemon and clients share; new fields are optional extras only.
import { z } from 'zod';
import { ByteCount, HostName, RemotePath } from './common.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

/**
 * Upper bound on one fs.read's `maxBytes` and on one fs.write's decoded content: as base64 (4/3) that is
 * 16 MiB, inside one request line (MAX_LINE_BYTES, 20 MiB) and one answer line. Larger files: transfer.*.
 */
export const MAX_FS_IO_BYTES = 12 * 1024 * 1024;
/** Default and bound of fs.list entries (optional `maxEntries`): a directory of a million files must not fill the daemon. */
export const DEFAULT_LIST_ENTRIES = 10_000;
export const MAX_LIST_ENTRIES = 100_000;
export const DEFAULT_TREE_DEPTH = 3;
export const DEFAULT_TREE_ENTRIES = 1_000;
export const DEFAULT_FIND_DEPTH = 5;
export const DEFAULT_FIND_RESULTS = 1_000;
/** Entries fs.find looks at before it gives up with `truncated` (a find from / must end). */
export const FIND_MAX_VISITED = 200_000;
const MAX_WALK_DEPTH = 64;

export const FsReadParams = z
  .object({
    host: HostName,
    path: RemotePath,
    /** Default SCOUT_MAX_FILE_SIZE. */
    maxBytes: ByteCount.min(1).max(MAX_FS_IO_BYTES).optional(),
    offset: ByteCount.optional(),
  })
  .strict();
export type FsReadParams = z.infer<typeof FsReadParams>;

export interface FsReadResult {
  path: string;
  content: string;
  /** utf8 for text; base64 for anything that is not valid UTF-8 or contains NUL bytes. */
  encoding: 'utf8' | 'base64';
  /** The file's size. */
  size: number;
  /** Bytes returned (a capped UTF-8 read ends on a whole character, so this may be up to 3 below the cap). */
  bytes: number;
  offset: number;
  truncated: boolean;
}

export const FsStatParams = z.object({ host: HostName, path: RemotePath }).strict();
export type FsStatParams = z.infer<typeof FsStatParams>;

/** A path's type, size, mode (permission bits, mode & 0o7777), mtime (ISO 8601) and link target. */
export interface FsStatResult extends Omit<FsEntry, 'name' | 'undecodable'> {
  path: string;
}

export const FsListParams = z
  .object({
    host: HostName,
    path: RemotePath,
    /** Include dot entries (default false). */
    all: z.boolean().optional(),
    maxEntries: z.number().int().min(1).max(MAX_LIST_ENTRIES).optional(),
  })
  .strict();
export type FsListParams = z.infer<typeof FsListParams>;

export interface FsEntry {
  name: string;
  type: EntryType;
  size: number;
  mode: number;
  mtime: string;
  linkTarget?: string;
  /**
   * The name on disk is not valid UTF-8. SFTP names reach Scout decoded (ssh2), with U+FFFD for what is not
   * UTF-8, so `name` cannot be used to read the entry, and two such names may look alike.
   */
  undecodable?: true;
}

export interface FsListResult {
  path: string;
  /** Directories first, then by name. */
  entries: FsEntry[];
  /** More than maxEntries entries: the listing is the first maxEntries the server sent, sorted. */
  truncated: boolean;
}

export const FsTreeParams = z
  .object({
    host: HostName,
    path: RemotePath,
    depth: z.number().int().min(1).max(MAX_WALK_DEPTH).optional(),
    maxEntries: z.number().int().min(1).max(MAX_LIST_ENTRIES).optional(),
    /** Include dot entries (default false, like tree). */
    all: z.boolean().optional(),
  })
  .strict();
export type FsTreeParams = z.infer<typeof FsTreeParams>;

export interface TreeNode {
  name: string;
  type: EntryType;
  size?: number;
  /** Present for directories that were read; absent at the depth limit. */
  children?: TreeNode[];
  /** The error code when this directory could not be read. */
  error?: string;
}

export interface FsTreeResult {
  path: string;
  root: TreeNode;
  /** Nodes below the root. */
  entries: number;
  /** The entry cap was reached. */
  truncated: boolean;
}

export const FsFindParams = z
  .object({
    host: HostName,
    path: RemotePath,
    /** A glob on the entry name, like find -name. */
    pattern: z.string().min(1, 'pattern must not be empty').max(1024),
    type: z.enum(['file', 'dir', 'symlink']).optional(),
    /** Like find -maxdepth: entries directly in `path` are depth 1. */
    depth: z.number().int().min(1).max(MAX_WALK_DEPTH).optional(),
    maxResults: z.number().int().min(1).max(MAX_LIST_ENTRIES).optional(),
  })
  .strict();
export type FsFindParams = z.infer<typeof FsFindParams>;

export interface FsFindResult {
  /** Full remote paths, breadth first, directories first then by name within a directory. */
  paths: string[];
  truncated: boolean;
  /** Directories that could not be read (permission denied…), skipped as find does. */
  skipped?: string[];
}

export const FsWriteParams = z
  .object({
    host: HostName,
    path: RemotePath,
    /** At most MAX_FS_IO_BYTES once decoded; as base64 that is 16 MiB of text. */
    content: z.string().max((MAX_FS_IO_BYTES / 3) * 4),
    encoding: z.enum(['utf8', 'base64']).optional(),
    /** Permission bits; default: the replaced file's, else 0644. */
    mode: z.number().int().min(0).max(0o7777).optional(),
    /** Create missing parent directories (0755). */
    createDirs: z.boolean().optional(),
    approval: ApprovalMode.optional(),
  })
  .strict();
export type FsWriteParams = z.infer<typeof FsWriteParams>;

export interface FsWriteResult {
  /** The file written (the symlink's target when `path` was a symlink). */
  path: string;
  bytes: number;
}
