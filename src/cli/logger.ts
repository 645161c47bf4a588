/** The CLI's logger, on stdout: human-readable on a terminal, one JSON object per line otherwise. */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../config/settings.js';

export function createLogger(level: LogLevel, human: boolean = process.stdout.isTTY === true): Logger {
  // sync: a line logged just before process.exit() must not be lost in a buffer.
  if (human) return pino({ level }, pretty({ colorize: true, sync: true, destination: 1, ignore: 'pid,hostname' }));
  return pino({ level }, pino.destination({ dest: 1, sync: true }));
}
