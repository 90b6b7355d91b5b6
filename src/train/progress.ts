/**
 * What the trainer tells the user while it runs. On a terminal: a progress bar
 * per epoch (cli-progress, on stderr) and one line per epoch on stdout.
 * Otherwise (CI, pipes, files): plain lines only, plus a line every 30 s
 * inside long epochs. --quiet: nothing but what the caller prints at the end.
 */
import { SingleBar } from 'cli-progress';

export interface EpochLine {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  /** 'test' or 'validation'. */
  evalSplit: string;
  evalLoss: number;
  evalAccuracy: number;
  evalTop5: number;
  seconds: number;
  samplesPerSec: number;
  partial?: boolean;
}

export interface Reporter {
  epochStart(epoch: number, epochs: number, batches: number, startBatch: number): void;
  /** After every step; cheap (the reporter throttles its output). */
  step(batchesDone: number, batches: number, loss: number): void;
  epochEnd(line: EpochLine, epochs: number): void;
  log(message: string): void;
  close(): void;
}

export const silentReporter: Reporter = {
  epochStart() {},
  step() {},
  epochEnd() {},
  log() {},
  close() {},
};

const pct = (v: number) => `${v.toFixed(2)}%`;

export function formatEpochLine(l: EpochLine, epochs: number): string {
  const w = String(epochs).length;
  return `epoch ${String(l.epoch + 1).padStart(w)}/${epochs}${l.partial ? ' (stopped early)' : ''}  lr ${Number(l.lr.toPrecision(4))}  ` +
    `train loss ${l.trainLoss.toFixed(4)} acc ${pct(l.trainAccuracy)}  ` +
    `${l.evalSplit} loss ${l.evalLoss.toFixed(4)} top-1 ${pct(l.evalAccuracy)} top-5 ${pct(l.evalTop5)}  ` +
    `${l.seconds.toFixed(1)}s ${Math.round(l.samplesPerSec)} samples/s`;
}

export interface ConsoleReporterOptions {
  quiet?: boolean;
  /** Draw a progress bar (default: stderr is a terminal). */
  tty?: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export function consoleReporter(o: ConsoleReporterOptions = {}): Reporter {
  if (o.quiet) return silentReporter;
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const tty = o.tty ?? !!(process.stderr as { isTTY?: boolean }).isTTY;
  let bar: SingleBar | null = null;
  let lastPlain = 0;
  let epochLabel = '';
  let lossAvg = NaN;
  const stopBar = () => {
    if (bar) {
      bar.stop();
      bar = null;
    }
  };
  return {
    epochStart(epoch, epochs, batches, startBatch) {
      epochLabel = `epoch ${epoch + 1}/${epochs}`;
      lossAvg = NaN;
      lastPlain = Date.now();
      if (!tty) return;
      bar = new SingleBar({
        format: `${epochLabel} [{bar}] {value}/{total} batches  loss {loss}  eta {eta_formatted}`,
        stream: err,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
        etaBuffer: 50,
        fps: 5,
      });
      bar.start(batches, startBatch, { loss: '-' });
    },
    step(done, batches, loss) {
      lossAvg = Number.isNaN(lossAvg) ? loss : 0.98 * lossAvg + 0.02 * loss;
      if (bar) {
        bar.update(done, { loss: lossAvg.toFixed(4) });
        return;
      }
      const now = Date.now();
      if (now - lastPlain >= 30_000 && done < batches) {
        lastPlain = now;
        out.write(`  ${epochLabel}: ${done}/${batches} batches, loss ${lossAvg.toFixed(4)}\n`);
      }
    },
    epochEnd(line, epochs) {
      stopBar();
      out.write(`${formatEpochLine(line, epochs)}\n`);
    },
    log(message) {
      if (bar) err.write('\n');
      out.write(`${message}\n`);
    },
    close() {
      stopBar();
    },
  };
}
