// Limits that clients check before sending, kept free of zod so scoutctl can import them without the schemas.

/** stdin travels inside one request line (MAX_LINE_BYTES): 12 MiB of base64 is 9 MiB of bytes. Larger inputs: transfer.put a file. */
export const MAX_STDIN_CHARS = 12 * 1024 * 1024;
