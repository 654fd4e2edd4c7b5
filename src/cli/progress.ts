// A one-line progress bar for transfers on a terminal: bytes, percentage, rate and ETA, redrawn in place.
// Only used when stderr is a TTY and --json is off; pipes and logs get the final summary line alone.
import { bytes, duration } from './output.js';

const BAR_WIDTH = 24;
/** Redraws at most this often: a terminal cannot show more, and each redraw costs a write. */
const REDRAW_MS = 100;

export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream, private readonly label: string) {}

  update(done: number, total: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(frac * BAR_WIDTH);
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = done / secs;
    const eta = rate > 0 && total > done ? duration(((total - done) / rate) * 1000) : '-';
    const line = `${this.label} [${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${bytes(done)} / ${bytes(total)}  ${bytes(Math.round(rate))}/s  ETA ${eta}`;
    const width = this.out.columns ?? 100;
    this.out.write(`\r${line.slice(0, width - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Leave the line (finished or failed) so the next output starts on a fresh one. */
  end(): void {
    if (this.drawn) this.out.write('\n');
  }
}
