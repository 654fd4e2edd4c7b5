// Preloaded into the row-10 scoutd only (`node --expose-gc --import …`, through NODE_OPTIONS): SIGUSR2 runs a
// full garbage collection, so the bench can read the RSS of what the daemon keeps alive beside the RSS as it
// happens to be (which includes garbage not yet collected), and the live JS heap + external memory (Buffers,
// native crypto state) after it. Changes nothing else in the daemon.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  process.on('SIGUSR2', () => {
    gc();
    const m = process.memoryUsage();
    process.stderr.write(`bench-gc-done ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external })}\n`);
  });
}
