// A one-line progress bar for transfers on a terminal: bytes, percentage, rate and ETA, redrawn in place.
// Only used when stderr is a TTY and --json is off; pipes and logs get the final summary line alone.
import { bytes, duration } from './output.js';

const BAR_WIDTH = 24;
/** Whole seconds below a minute (a bar has no use for milliseconds), else the usual duration. */
function eta(seconds: number): string {
  return seconds < 60 ? `${Math.ceil(seconds)}s` : duration(seconds * 1000);
}
/** Redraws at most this often: a terminal cannot show more, and each redraw costs a write. */
const REDRAW_MS = 100;

export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  update(done: number, total: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(frac * BAR_WIDTH);
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = done / secs;
    const left = total > done ? (rate > 0 ? `ETA ${eta((total - done) / rate)}` : 'ETA -') : `in ${eta(secs)}`;
    const stats = ` [${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${bytes(done)} / ${bytes(total)}  ${bytes(Math.round(rate))}/s  ${left}`;
    // The numbers matter more than the name: shorten the label from the left to fit the terminal.
    const width = (this.out.columns ?? 100) - 1;
    const room = Math.max(8, width - stats.length);
    const label = this.label.length > room ? `…${this.label.slice(-(room - 1))}` : this.label;
    this.out.write(`\r${(label + stats).slice(0, width)}\x1b[K`);
    this.drawn = true;
  }

  /** Leave the line (finished or failed) so the next output starts on a fresh one. */
  end(): void {
    if (this.drawn) this.out.write('\n');
  }
}
