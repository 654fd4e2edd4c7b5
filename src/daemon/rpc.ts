// JSON-RPC dispatch: the method table, param validation, and error mapping. Framing lives in session.ts,
// the work in handlers/. Every error leaves here as {code, message, data: {code: NAME, …}}.
import { JSONRPCErrorException, JSONRPCServer, type JSONRPCErrorResponse, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import type { z } from 'zod';
import { ScoutError, codeName, invalidParams, isScoutError } from '../protocol/errors.js';
import { METHODS, type MethodName } from '../protocol/table.js';
import type { CallContext, HandlerTable } from './context.js';

/** Dispatch over the protocol's method table (protocol/table.ts). */
export class Dispatcher {
  // errorListener: the library would console.warn every error a handler throws (UNKNOWN_HOST, POLICY_DENIED…)
  // with its stack, on stderr, outside our logger. Every outcome is already logged once by the session (code,
  // no params); the stack formatting alone made each refused call several times dearer (seen in the fuzz).
  private readonly server = new JSONRPCServer<CallContext>({ errorListener: () => {} });
  private readonly names = new Set<string>();

  /**
   * @param onCall sees every call whose params validated, once it has finished: its outcome (`ok` or the error
   * code), duration and result. The audit log hangs here, so no handler can forget it.
   */
  constructor(private readonly onCall?: (method: string, params: unknown, ctx: CallContext, outcome: string, durationMs: number, result: unknown) => void) {
    this.server.mapErrorToJSONRPCErrorResponse = (id, error) => {
      return errorResponse(id, toScoutError(error));
    };
  }

  /** Register every method of the table with its handler; params are validated with the table's schema. */
  register(handlers: HandlerTable): void {
    for (const name of Object.keys(METHODS) as MethodName[]) {
      const schema: z.ZodType = METHODS[name].params;
      const handler = handlers[name] as (p: unknown, ctx: CallContext) => unknown;
      this.names.add(name);
      this.server.addMethod(name, async (raw, ctx) => {
        const parsed = schema.safeParse(raw ?? undefined);
        if (!parsed.success) throw schemaError(name, parsed.error);
        const t0 = performance.now();
        let outcome = 'ok';
        let result: unknown;
        try {
          // A narrowed connection (an HTTP key's): the method and every host it names, before any work; a
          // refusal is audited like any other outcome.
          ctx.grant?.check(name, parsed.data);
          result = (await handler(parsed.data, ctx)) ?? null;
          return result;
        } catch (err) {
          outcome = toScoutError(err).code;
          // A bug, not a refusal: keep its stack (the library's own listener is silenced above).
          if (outcome === 'INTERNAL_ERROR') ctx.log.error({ method: name, err: { message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'internal error in a handler');
          throw err;
        } finally {
          this.onCall?.(name, parsed.data, ctx, outcome, performance.now() - t0, result);
        }
      });
    }
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Handle one request object (already parsed and shape-checked). */
  receive(req: JSONRPCRequest, ctx: CallContext): PromiseLike<JSONRPCResponse | null> {
    // Answered here rather than by the library: its reply has no data.code, and the name is checked against
    // our own table (never an object lookup that could find '__proto__' or 'toString').
    if (!this.names.has(req.method)) {
      const shown = req.method.length > 100 ? `${req.method.slice(0, 100)}…` : req.method;
      return Promise.resolve(errorResponse(req.id ?? null, new ScoutError('METHOD_NOT_FOUND', `method not found: '${shown}'`, { method: shown })));
    }
    return this.server.receive(req, ctx);
  }
}

function schemaError(method: string, err: z.ZodError): ScoutError {
  const issues = err.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  return invalidParams(method, first?.path || undefined, first?.message ?? 'is invalid', { issues });
}

/** Any thrown value → ScoutError. Unknown errors become INTERNAL_ERROR without leaking a stack. */
export function toScoutError(error: unknown): ScoutError {
  if (isScoutError(error)) return error;
  if (error instanceof JSONRPCErrorException) return new ScoutError(codeName(error.code), error.message);
  return new ScoutError('INTERNAL_ERROR', `internal error: ${(error as Error)?.message ?? String(error)}`);
}

/** Every error answer the daemon sends is made here, from a ScoutError's one serializer. */
export function errorResponse(id: string | number | null, e: ScoutError): JSONRPCErrorResponse {
  return { jsonrpc: '2.0', id, error: e.toJSON() };
}
