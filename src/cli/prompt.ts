/** Reading a password without echoing it, or from a pipe (`--password-stdin`). */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Asks on the terminal with echo off. Prompts go to stderr so that stdout stays clean for scripts.
 * Rejects when stdin is not a terminal: a password silently read from a pipe is a surprise.
 */
export function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    return Promise.reject(new Error('stdin is not a terminal; pipe the password in with --password-stdin'));
  }
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input, output, terminal: true });
  return new Promise((resolve, reject) => {
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      reject(new Error('cancelled'));
    });
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

/** Asks twice; the answers must match. */
export async function promptNewPassword(): Promise<string> {
  const first = await promptHidden('New password: ');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new Error('the passwords do not match');
  return first;
}

/** The whole of stdin, minus one trailing line end (what `echo pw |` or a file adds). */
export async function readPasswordFromStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
