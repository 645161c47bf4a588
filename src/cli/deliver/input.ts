/**
 * Reads the message `postroom deliver` is given on stdin into a MessageSpool (bare LF → CRLF, size
 * limit, NUL noticed). A leading mbox "From sender date" line — procmail and some `mailbox_command`
 * setups pass one — is not part of the message: it is removed, and its sender is the envelope
 * sender when --from is not given (as dovecot-lda does).
 */
import { MessageSpool } from '../../delivery/spool.js';

export interface DeliverInput {
  spool: MessageSpool;
  /** The sender named by a leading "From " line, if there was one. */
  fromLine: string | null;
}

const FROM_LINE_MAX = 1000;

export async function readMessage(input: AsyncIterable<Buffer>, options: { maxSize: number; memoryMax: number; directory: string }): Promise<DeliverInput> {
  const spool = new MessageSpool(options);
  let head: Buffer | null = Buffer.alloc(0);
  let fromLine: string | null = null;
  try {
    for await (const chunk of input) {
      if (head === null) {
        await spool.write(chunk);
        continue;
      }
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl === -1 && head.length < 5 + FROM_LINE_MAX) continue;
      const rest = takeFromLine(head, nl);
      fromLine = rest.sender;
      head = null;
      await spool.write(rest.body);
    }
    if (head !== null) await spool.write(takeFromLine(head, head.indexOf(0x0a)).body);
    return { spool, fromLine };
  } catch (err) {
    await spool.release();
    throw err;
  }
}

function takeFromLine(head: Buffer, nl: number): { sender: string | null; body: Buffer } {
  if (nl === -1 || !head.subarray(0, 5).equals(Buffer.from('From '))) return { sender: null, body: head };
  const line = head.subarray(5, nl).toString('utf8').trim();
  const sender = line.split(/\s+/)[0] ?? '';
  return { sender: sender === 'MAILER-DAEMON' ? '' : sender, body: head.subarray(nl + 1) };
}
