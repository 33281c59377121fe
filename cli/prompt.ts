// Asking for a missing value: only when stdin is a terminal. Piped or in a script, a missing
// required value is an error naming it, so nothing ever hangs waiting for input.

import { createInterface } from 'node:readline/promises';
import { Readable } from 'node:stream';
import { CliError, type CliIo } from './io.ts';

async function ask(io: CliIo, question: string): Promise<string> {
  const input = io.stdin instanceof Readable ? io.stdin : Readable.from(io.stdin ?? []);
  const rl = createInterface({ input, output: undefined, terminal: false });
  try {
    io.stderr(question);
    const answer = await Promise.race([
      rl.question(''),
      new Promise<string>((_, reject) => rl.once('close', () => reject(new CliError('no answer: input closed')))),
    ]);
    return answer.trim();
  } finally {
    rl.close();
  }
}

/**
 * `value` if given; else, on a terminal, the answer to a prompt (empty answer: `fallback`, or ask
 * again when there is none); else a CliError naming what is missing and how to give it.
 */
export async function required(io: CliIo, value: string | undefined, what: string, how: string, fallback?: string): Promise<string> {
  if (value !== undefined && value !== '') return value;
  if (io.stdinIsTTY !== true) {
    if (fallback !== undefined) return fallback;
    throw new CliError(`missing ${what}: give it as ${how}`);
  }
  for (;;) {
    const answer = await ask(io, fallback === undefined ? `${what}: ` : `${what} [${fallback}]: `);
    if (answer !== '') return answer;
    if (fallback !== undefined) return fallback;
  }
}

/** A yes/no question on a terminal; without one the answer is no (`--force` says yes). */
export async function confirm(io: CliIo, question: string, force: boolean, flagHint = '-f/--force'): Promise<void> {
  if (force) return;
  if (io.stdinIsTTY !== true) throw new CliError(`${question}: refusing without ${flagHint} (stdin is not a terminal)`);
  const answer = (await ask(io, `${question} [y/N]: `)).toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new CliError('cancelled');
}
