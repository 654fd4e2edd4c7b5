// Approvals in MCP: when a call needs a person's approval (the host's policy `confirm`), ask the person at the
// agent's client through MCP elicitation if the client declares it; otherwise the daemon answers at once with
// APPROVAL_PENDING and its id, and the tool's error text tells the agent to have the user run
// `scoutctl approve ID`, then retry. One wrapper over the daemon link, so every tool and resource gets it.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallArgs } from '../client/client.js';
import type { ApprovalPending } from '../protocol/methods/approvals.js';
import type { MethodName, ResultOf } from '../protocol/table.js';
import { METHODS } from '../protocol/table.js';
import type { Rpc } from './tool.js';

/** Methods whose calls may need approval: they take `approval` and may send `approval.pending`. */
const ASKING: ReadonlySet<string> = new Set(
  Object.entries(METHODS)
    .filter(([, e]) => (e.notifications as readonly string[]).includes('approval.pending'))
    .map(([name]) => name),
);

export function withApprovals(rpc: Rpc, server: McpServer): Rpc {
  const canAsk = () => server.server.getClientCapabilities()?.elicitation !== undefined;
  return {
    call: <M extends MethodName>(method: M, ...[params, opts]: CallArgs<M>): Promise<ResultOf<M>> => {
      if (!ASKING.has(method)) return rpc.call(method, ...([params, opts] as CallArgs<M>));
      const asking = canAsk();
      const own = opts?.onNotification as ((m: string, p: unknown) => unknown) | undefined;
      const onNotification = (m: string, p: unknown): unknown => {
        // Not awaited: a promise back would hold the socket (and the call's other notifications) meanwhile.
        if (m === 'approval.pending' && asking) void ask(rpc, server, p as ApprovalPending);
        return own?.(m, p);
      };
      const withMode = { ...(params as object), approval: asking ? 'wait' : 'fail' };
      return rpc.call(method, ...([withMode, { ...opts, onNotification }] as unknown as CallArgs<M>));
    },
  };
}

/** Put the question to the person (elicitation) and pass their answer to the daemon. */
async function ask(rpc: Rpc, server: McpServer, a: ApprovalPending): Promise<void> {
  const act = a.kind === 'command' || a.kind === 'job' ? `run this command${a.cwd ? ` in ${a.cwd}` : ''}:\n\n    ${a.what}` : `${a.kind}: ${a.what}`;
  let approve = false;
  try {
    const r = await server.server.elicitInput({
      message: `${a.client} asks to ${act}\n\non host ${a.host}. ${capitalize(a.reason)}. Approve? (approval ${a.approvalId}, expires ${a.expiresAt})`,
      // One optional box, ticked by default: clients that show a form and those that show Accept/Decline both work.
      requestedSchema: { type: 'object', properties: { approve: { type: 'boolean', title: `Run it on ${a.host}`, default: true } } },
    });
    approve = r.action === 'accept' && r.content?.approve !== false;
  } catch {
    // The client could not ask after all: leave it pending; it can still be decided with scoutctl approve.
    return;
  }
  await rpc.call('approvals.decide', { id: a.approvalId, approve, via: 'elicitation' }).catch(() => {});
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
