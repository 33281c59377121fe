// Where the CLI reads and writes, and how it fails. Commands never touch process.* directly: they
// get a CliIo, so tests run them in-process with their own streams, terminal flags, environment
// and stop signal.

/** A user-facing failure: its message is printed as-is after "sluice: ". */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Body for `pub --stdin`, `kv put` without a value, and prompt answers. Default: none (empty). */
  stdin?: AsyncIterable<Uint8Array | string>;
  /** Prompts happen only when stdin is a terminal; otherwise a missing value is an error. */
  stdinIsTTY?: boolean;
  /** Tables, human sizes, colours on stdout; progress bars and red errors on stderr. */
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  /** The stream the progress bar draws on (stderr on a terminal). */
  progressStream?: NodeJS.WritableStream;
  /** Environment (NATS_URL, SLUICE_URL, ...). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Ends long-running commands (sub, reply, kv watch, bench) early: aborted on SIGINT/SIGTERM for
   * the real process, by the test otherwise. Called only by such commands, so Ctrl-C keeps its
   * default meaning everywhere else.
   */
  stopSignal?: () => AbortSignal;
}

let processStop: AbortController | undefined;

/** The first SIGINT/SIGTERM aborts; a second one exits at once (130). */
function processStopSignal(): AbortSignal {
  if (processStop === undefined) {
    const ac = new AbortController();
    processStop = ac;
    const onSignal = (): void => {
      if (ac.signal.aborted) process.exit(130);
      ac.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return processStop.signal;
}

export const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  get stdin() {
    return process.stdin;
  },
  stdinIsTTY: process.stdin.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  progressStream: process.stderr,
  env: process.env,
  stopSignal: processStopSignal,
};

/** Folds a multi-line message (commander adds "(Did you mean ...?)" lines) into one line. */
export function oneLine(text: string): string {
  return text
    .replace(/^error:\s*/i, '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join(' ');
}

/** The message of a failure as the user sees it: `sluice: <one line>`, red on a terminal. */
export function errorLine(message: string, color: boolean): string {
  const text = `sluice: ${oneLine(message)}`;
  return color ? `\x1b[31m${text}\x1b[0m\n` : `${text}\n`;
}

/** Everything on stdin as bytes (empty when there is no stdin). */
export async function readAll(io: CliIo): Promise<Uint8Array> {
  if (io.stdin === undefined) return new Uint8Array(0);
  const parts: Buffer[] = [];
  for await (const chunk of io.stdin) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** A stop signal for a long-running command (never aborted when the io has none). */
export function stopSignalOf(io: CliIo): AbortSignal {
  return io.stopSignal?.() ?? new AbortController().signal;
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
