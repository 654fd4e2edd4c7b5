// Issue 19, item 6, through the official SDK client: a background job is a `scout-job://` resource; a
// subscribed one sends notifications/resources/updated while the job writes and when it ends.
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { until } from './fixtures/expect.js';
import { readText, startShim } from './fixtures/mcp.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);

describe('scout-mcp: job output resources', () => {
  it('a subscribed job resource is updated while the job writes and when it ends; reading it shows the tail and the end', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      const updates: Array<{ uri: string; at: number }> = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push({ uri: n.params.uri, at: Date.now() }));
      const bg = await client.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', query: 'for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.4; done', background: true } });
      const jobId = (bg.structuredContent as { jobId: string }).jobId;
      const uri = `scout-job://${jobId}`;
      expect((await client.listResources()).resources.map((r) => r.uri)).toContain(uri);

      await client.subscribeResource({ uri });
      await client.callTool({ name: 'scout_jobs', arguments: { action: 'wait', job_id: jobId, wait_seconds: 20 } });
      const ended = Date.now();
      // Updated while it wrote: the job wrote 8 lines over ~3 s, and the updates came as it did, not only at the end.
      expect(updates.filter((u) => u.at <= ended).length).toBeGreaterThanOrEqual(3);
      await until(() => updates.length >= 4, 5_000, 'the update at the end');
      const mine = updates.filter((u) => u.uri === uri);
      expect(mine.length).toBe(updates.length);
      // Throttled: the job wrote 8 times over ~3 s; never a flood.
      expect(mine.length).toBeLessThanOrEqual(16);
      const text = await readText(client, uri);
      expect(text).toContain('line 8');
      expect(text).toContain(`[job ${jobId} exited with code 0]`);
    } finally {
      await client.close();
    }
  });

  it('refuses to subscribe to what it cannot follow: another kind of resource, or a job that does not exist', async () => {
    const d = await fleet.startDaemon();
    const client = await startShim(d.env);
    try {
      expect((await client.getServerCapabilities())?.resources?.subscribe).toBe(true);
      await expect(client.subscribeResource({ uri: 'scout://web1/etc/hostname' })).rejects.toThrow('only scout-job://JOB resources can be subscribed');
      await expect(client.subscribeResource({ uri: 'scout-job://j-nosuch' })).rejects.toThrow(/NOT_FOUND|no job/i);
    } finally {
      await client.close();
    }
  });
});
