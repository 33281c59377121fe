// Where log lines go: a sink that never blocks the server and never throws (docs/adr/0012-logging.md).
//
// The default sink writes to process.stdout. Node writes to a pipe or socket asynchronously
// (non-blocking fd, a JavaScript queue when the reader is slow), to a file synchronously. Two
// things can go wrong, and both end in dropping lines, counted, instead of stalling:
// - the reader stops reading (a paused `| less`, a stuck log shipper): past `maxPendingBytes`
//   queued, new lines are dropped until the queue drains; then one warning line reports how many
//   were lost.
// - the destination breaks (EPIPE when the reader has exited, EBADF, ENOSPC): every later line is
//   dropped. Nothing is ever retried in a loop, so shutdown is never held up by logging.

import { closeSync, openSync, writeSync } from 'node:fs';
import { systemClock, type Clock } from '../runtime/clock.ts';

/** Anything a log line can be written to (tests pass an object that collects them). */
export interface LogDestination {
  write(line: string): void;
}

/** The part of a Node writable stream the sink uses. */
export interface SinkStream {
  write(chunk: string): boolean;
  readonly writableLength: number;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'drain', listener: () => void): unknown;
}

export const DEFAULT_MAX_PENDING_LOG_BYTES = 1024 * 1024;

export class StreamSink implements LogDestination {
  /** Lines dropped so far (destination broken or too far behind). */
  dropped = 0;
  /** Set once a write failed: the destination is never written to again. */
  broken = false;
  private reportedDrops = 0;

  constructor(
    private readonly stream: SinkStream,
    private readonly maxPendingBytes = DEFAULT_MAX_PENDING_LOG_BYTES,
    private readonly clock: Clock = systemClock,
  ) {
    stream.on('error', () => {
      this.broken = true;
    });
    stream.on('drain', () => this.reportDrops());
  }

  write(line: string): void {
    if (this.broken || this.stream.writableLength + line.length > this.maxPendingBytes) {
      this.dropped++;
      return;
    }
    this.send(line);
  }

  private send(line: string): void {
    try {
      this.stream.write(line);
    } catch {
      // A synchronous destination (a file) throws from write(): ENOSPC, EBADF, EIO.
      this.broken = true;
      this.dropped++;
    }
  }

  /** After a backlog cleared: say, in the log itself, how many lines it cost. */
  private reportDrops(): void {
    const lost = this.dropped - this.reportedDrops;
    if (lost === 0 || this.broken) return;
    this.reportedDrops = this.dropped;
    const time = new Date(this.clock.nowMs()).toISOString();
    this.send(`{"level":"warn","time":"${time}","pid":${process.pid},"dropped":${lost},"total_dropped":${this.dropped},"msg":"log lines dropped: the log destination was not accepting writes"}\n`);
  }
}

let stdoutSink: StreamSink | undefined;

/** One sink per process for stdout, shared by every logger that writes there. */
export function stdoutLogSink(): StreamSink {
  stdoutSink ??= new StreamSink(process.stdout);
  return stdoutSink;
}

/**
 * Appends lines to a file (`--log-file`, `logfile`). Writes are synchronous, as Node's own writes
 * to a file-backed stdout are: a local file takes a line in microseconds, and a line is never held
 * in memory where an exit would lose it. A failed write (ENOSPC, EIO) counts the line as dropped
 * and is not retried; the next line tries again, since a full disk may be freed. reopen() starts
 * a new file at the same path after a rotation moved the old one away (SIGUSR1, as nats-server).
 */
export class FileSink implements LogDestination {
  dropped = 0;
  private fd: number;

  /** Throws when the file cannot be opened (the CLI reports it as a start-up error). */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  write(line: string): void {
    try {
      writeSync(this.fd, line);
    } catch {
      this.dropped++;
    }
  }

  /** Closes the file and opens the path again; on failure keeps writing to the old descriptor. */
  reopen(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'a');
    } catch (err) {
      this.write(`{"level":"error","time":"${new Date(systemClock.nowMs()).toISOString()}","pid":${process.pid},"err":${JSON.stringify(String(err))},"msg":"cannot reopen the log file; still writing to the old one"}\n`);
      return;
    }
    const old = this.fd;
    this.fd = fd;
    try {
      closeSync(old);
    } catch {
      // Already gone: nothing left to release.
    }
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // Closing twice or after the file vanished changes nothing for the caller.
    }
  }
}
