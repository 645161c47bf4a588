/**
 * The parse thread's code (parse-thread.ts): derives a new body's structure and index columns from
 * the bytes it is handed, and hands the buffer back with the result.
 */
import { parentPort } from 'node:worker_threads';
import { deriveContent } from './derive.js';

interface Job {
  id: number;
  bytes: ArrayBuffer;
  length: number;
}

parentPort!.on('message', (job: Job) => {
  try {
    const parsed = deriveContent(Buffer.from(job.bytes, 0, job.length));
    parentPort!.postMessage({ id: job.id, parsed, spare: job.bytes }, [job.bytes]);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: String((err as Error)?.message ?? err), spare: job.bytes }, [job.bytes]);
  }
});
