import { request } from './api.js';
import { print, printList, requireId, stringOptions, UsageError, type Command } from './common.js';
import { incidentCommands } from './incidents.js';
import { table } from './table.js';
import type { Acknowledgement, Page, PublicNotice, Store, StoreInbox } from './types.js';

/**
 * `recall store …`: the stores' side of a recall. A store reads the withdrawal notices
 * addressed to it and acknowledges what it pulled; an admin keeps the store directory.
 */
const nonNegative = (value: string | undefined, flag: string) => {
  if (value === undefined || !/^\d{1,8}$/.test(value.trim())) throw new UsageError(`--${flag} must be a whole number of units (0 or more), not ${value === undefined ? 'missing' : `"${value}"`}`);
  return Number(value.trim());
};

export const storeCommands: Record<string, Command> = {
  'store inbox': {
    summary: "a store's open withdrawal notices (as that store); --all for answered ones too; --queue-url reads its SQS queue",
    usage: 'recall store inbox --store STORE_ID [--all] | --queue-url URL [--delete]',
    options: { store: { type: 'string' }, all: { type: 'boolean' }, 'queue-url': { type: 'string' }, delete: { type: 'boolean' } },
    group: 'store',
    async run({ values, api, json }) {
      if (values['queue-url']) return readQueue(values['queue-url'], !!values.delete, json);
      if (!values.store) throw new UsageError('Give the store: --store STORE_ID (e.g. store-0101), or its queue: --queue-url URL');
      const { body } = await request<StoreInbox>(api, 'GET', `/stores/${encodeURIComponent(values.store)}/notices${values.all ? '?all=true' : ''}`);
      print(json, body, () =>
        table(
          body.items.map((n) => ({ notice: n.noticeId, incident: n.incidentId, class: n.hazardClass ?? '', issued: n.issuedAt, acknowledged: n.acknowledgement ? `${n.acknowledgement.quantityRemoved} removed` : 'no' })),
          ['notice', 'incident', 'class', 'issued', 'acknowledged'],
          70,
        ) + (body.items.some((n) => !n.acknowledgement) ? '\n\nacknowledge: npx recall store ack NOTICE --on-hand N --removed N' : ''),
      );
    },
  },
  'store ack': {
    summary: 'acknowledge a withdrawal notice with the quantity on hand and removed (as the store)',
    usage: 'recall store ack NOTICE_ID --on-hand N --removed N [--note TEXT]',
    options: stringOptions('on-hand', 'removed', 'note'),
    group: 'store',
    async run({ positionals, values, api, json }) {
      const noticeId = requireId(positionals, this.usage, 'notice id');
      const body = { quantityOnHand: nonNegative(values['on-hand'], 'on-hand'), quantityRemoved: nonNegative(values.removed, 'removed'), ...(values.note ? { note: values.note } : {}) };
      const { body: ack, headers } = await request<Acknowledgement>(api, 'POST', `/notices/${encodeURIComponent(noticeId)}/acks`, body);
      print(json, ack, () => `Acknowledged ${ack.noticeId} for ${ack.storeId}: ${ack.quantityRemoved} removed, ${ack.quantityOnHand} on hand${headers.get('idempotent-replayed') ? ' (already recorded)' : ''}`);
    },
  },
  'store correct-ack': {
    summary: "correct a store's acknowledged quantities, with the reason (QA); the figures before stay in the record",
    usage: 'recall store correct-ack NOTICE_ID --store STORE_ID --on-hand N --removed N --reason TEXT',
    options: stringOptions('store', 'on-hand', 'removed', 'reason'),
    group: 'qa',
    docs: { reason: 'why the figures change (it stays in the record), e.g. --reason "recounted with the store manager"' },
    example: 'recall store correct-ack withdrawal-01M8…-6b616e746f --store store-0101 --on-hand 24 --removed 24 --reason "recounted with the store manager"',
    async run({ positionals, values, api, json }) {
      const noticeId = requireId(positionals, this.usage, 'notice id');
      if (!values.store) throw new UsageError('Give --store STORE_ID: the store whose acknowledgement is corrected');
      if (!values.reason) throw new UsageError('Give --reason TEXT: why the figures change (it stays in the record)');
      const body = { quantityOnHand: nonNegative(values['on-hand'], 'on-hand'), quantityRemoved: nonNegative(values.removed, 'removed'), reason: values.reason };
      const { body: ack, headers } = await request<Acknowledgement>(api, 'PUT', `/notices/${encodeURIComponent(noticeId)}/acks/${encodeURIComponent(values.store)}`, body);
      const before = ack.corrections?.at(-1)?.before;
      print(json, ack, () =>
        headers.get('idempotent-replayed')
          ? `Already corrected: ${ack.storeId} ${ack.quantityRemoved} removed, ${ack.quantityOnHand} on hand`
          : `Corrected ${ack.noticeId} for ${ack.storeId}: ${ack.quantityRemoved} removed, ${ack.quantityOnHand} on hand (was ${before?.quantityRemoved} removed, ${before?.quantityOnHand} on hand; correction ${ack.corrections?.length})`,
      );
    },
  },
  'store register': {
    summary: 'add or update a store in the store directory (admin)',
    usage: 'recall store register STORE_ID --region REGION --name NAME',
    options: stringOptions('region', 'name'),
    group: 'admin',
    async run({ positionals, values, api, json }) {
      const storeId = requireId(positionals, this.usage, 'store id');
      if (!values.region || !values.name) throw new UsageError('Give --region and --name');
      const { body } = await request<Store>(api, 'PUT', `/stores/${encodeURIComponent(storeId)}`, { region: values.region, name: values.name });
      print(json, body, () => `Store ${body.storeId} (${body.name}) is in region ${body.region}`);
    },
  },
  'store list': {
    summary: 'the stores of a region in the directory',
    usage: 'recall store list --region REGION [--csv]',
    options: { ...stringOptions('region'), csv: { type: 'boolean' } },
    group: 'qa',
    async run({ values, api, json }) {
      if (!values.region) throw new UsageError('Give --region REGION');
      const { body } = await request<Page<Store>>(api, 'GET', `/stores?region=${encodeURIComponent(values.region)}`);
      printList(json, !!values.csv, body, body.items.map((s) => ({ store: s.storeId, name: s.name, region: s.region })), ['store', 'name', 'region']);
    },
  },
};

/** The disclosure steps again under `notices`, for whoever looks for them there. */
const alias = (command: Command, summary: string): Command => ({ ...command, summary });

export const noticeCommands: Record<string, Command> = {
  'notices draft': alias(incidentCommands['incidents draft-notice']!, 'draft the public notice of an incident (same as incidents draft-notice)'),
  'notices approve': alias(incidentCommands['incidents approve-notice']!, 'approve the exact public notice text (same as incidents approve-notice)'),
  'notices publish': alias(incidentCommands['incidents disclose']!, 'publish the approved notice (same as incidents disclose)'),
  'notices public': {
    summary: 'the published recall notices, as the public page shows them (no sign-in)',
    usage: 'recall notices public [--limit N]',
    options: stringOptions('limit'),
    group: 'any',
    async run({ values, api, json }) {
      const { body } = await request<Page<PublicNotice>>(api, 'GET', `/public/notices${values.limit ? `?limit=${encodeURIComponent(values.limit)}` : ''}`);
      print(json, body, () =>
        body.items.length === 0
          ? '(no published notice)'
          : body.items.map((n) => `${n.publishedAt.slice(0, 10)}  ${n.title}  (class ${n.hazardClass}, incident ${n.incidentId})\n\n${n.text}\n`).join('\n') + `\npage: ${api.apiUrl}/public/notices?format=html`,
      );
    },
  },
};

/**
 * A message from a store's queue as the notice it carries. With raw message delivery (what a
 * store's own subscription uses, `runbooks/store-integration.md`) the body is the notice
 * itself; without it (the local demo stores), SNS wraps it in an envelope with the subject. A
 * notice is JSON; anything else is shown as its text.
 */
export function queuedNotice(text: string): { subject?: string; body: Partial<Record<'noticeId' | 'type' | 'incidentId' | 'region', string>> & Record<string, unknown> } {
  let envelope: { Message: string; Subject?: unknown } | undefined;
  try {
    const parsed = JSON.parse(text);
    if (parsed && parsed.Type === 'Notification' && typeof parsed.Message === 'string') envelope = parsed;
  } catch {
    // not JSON: its text is shown
  }
  const message = envelope ? envelope.Message : text;
  let body;
  try {
    const parsed = JSON.parse(message);
    body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : { text: message };
  } catch {
    body = { text: message };
  }
  return typeof envelope?.Subject === 'string' ? { subject: envelope.Subject, body } : { body };
}

/**
 * Reads the notices waiting in a store's own SQS queue (what its subscription received),
 * with the credentials and endpoint of the environment (locally the emulator: the banner of
 * `npm start` prints each demo store's queue URL). Messages stay unless --delete.
 */
async function readQueue(queueUrl: string, remove: boolean, json: boolean) {
  const { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } = await import('@aws-sdk/client-sqs');
  const url = new URL(queueUrl);
  // The emulator's queue URLs look like http://sqs.<region>.localhost:<port>/…
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname.endsWith('.localhost');
  const sqs = new SQSClient(local ? { endpoint: `${url.protocol}//localhost:${url.port}`, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {});
  const page = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: remove ? 30 : 0, MessageAttributeNames: ['All'] }));
  const messages = (page.Messages ?? []).map((m) => ({ receiptHandle: m.ReceiptHandle!, ...queuedNotice(m.Body ?? '') }));
  if (remove && messages.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })) }));
  sqs.destroy();
  print(json, messages.map((m) => m.body), () =>
    messages.length === 0
      ? '(no message waiting)'
      : table(messages.map((m) => ({ notice: m.body.noticeId ?? '', type: m.body.type ?? '', incident: m.body.incidentId ?? '', region: m.body.region ?? '', subject: m.subject ?? '' })), ['notice', 'type', 'incident', 'region', 'subject'], 70),
  );
}
