// Output-schema pieces shared by the tools (kept apart from tool.ts and jobs.ts, which import each other).
import { z } from 'zod';

/** A failure as `structuredContent` carries it: the Scout code, the message, and details when there are any. */
export const errorShape = z.looseObject({ code: z.string(), message: z.string(), data: z.record(z.string(), z.unknown()).optional() });
