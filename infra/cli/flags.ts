import { CHANNELS, CLOCK_STATES } from '../../shared/reports/schema.js';
import { DEADLINE_IDS, HAZARD_CLASSES, INCIDENT_STATUSES } from '../../shared/incidents/model.js';
import { CLUSTER_KINDS } from '../../shared/detection/keys.js';
import { CSV_ENCODINGS } from '../../shared/platform/csv.js';

/**
 * What every flag means, its allowed values (from the same lists the API validates with) and
 * an example: the help of every command is built from this. A command may say more about a
 * flag it uses differently (`Command.docs`).
 */
export interface FlagDoc {
  readonly description: string;
  readonly values?: readonly string[];
  readonly example?: string;
}

const ISO = 'an ISO 8601 date-time with a time zone';

export const FLAG_DOCS: Record<string, FlagDoc> = {
  'api-url': { description: 'the API base URL (default RECALL_API_URL, else http://localhost:3000)', example: 'http://localhost:3000' },
  token: { description: 'the bearer token (default RECALL_TOKEN; npm start prints one per demo user)' },
  json: { description: 'print JSON for scripts (errors too, on stderr)' },
  help: { description: 'show this help' },
  all: { description: 'follow every page (list commands)' },
  csv: { description: 'print CSV instead of a table (list commands)' },
  limit: { description: 'items per page, 1 to 100', example: '50' },
  cursor: { description: 'the cursor a previous page printed, to read the next one' },
  version: { description: 'the incident version you read (default: read it just before acting); a change by someone else in between is 409', example: '7' },
  file: { description: 'a file to read', example: 'report.json' },
  // case records
  sku: { description: 'product code (SKU)', example: 'CHOC-ALM-100' },
  gtin: { description: 'GTIN of 8, 12, 13 or 14 digits', example: '4901234567894' },
  name: { description: 'product name as printed on the pack', example: '"Almond chocolate 100 g"' },
  lot: { description: 'lot code; in an incident’s scope (declare, open, scope) a lot of a product in scope, SKU=LOT (repeat the flag)', example: 'L2026-1103-A (scope: CHOC-ALM-100=L2026-1103-A)' },
  plant: { description: 'plant code', example: 'PLANT-SAITAMA' },
  store: { description: 'store id', example: 'store-0101' },
  region: { description: 'region code', example: 'kanto' },
  category: { description: 'defect category code of the deployment’s taxonomy (`recall taxonomy` lists them)', example: 'foreign_matter' },
  description: { description: 'what happened, in the customer’s words', example: '"plastic film in the bar"' },
  channel: { description: 'how the complaint arrived', values: CHANNELS, example: 'phone' },
  'received-at': { description: `when the complaint was received (${ISO}; default now; within the last 365 days; with --file it replaces the file's)`, example: '2026-11-20T09:12:00+09:00' },
  'production-date': { description: 'production date, YYYY-MM-DD', example: '2026-11-03' },
  'best-before': { description: 'best-before date, YYYY-MM-DD', example: '2027-05-03' },
  'purchase-date': { description: 'purchase date, YYYY-MM-DD', example: '2026-11-15' },
  'contact-name': { description: 'the customer’s name (personal data: shown to desk and QA only)', example: '"Hanako Yamada"' },
  'contact-phone': { description: 'the customer’s phone', example: '"+81 90 1234 5678"' },
  'contact-email': { description: 'the customer’s e-mail', example: 'hanako@example.jp' },
  injury: { description: 'someone was injured' },
  illness: { description: 'someone fell ill' },
  'medical-attention': { description: 'medical attention was needed' },
  'sample-collected': { description: 'the product sample was collected' },
  'idempotency-key': { description: 'reuse the key of a failed attempt to file it once (8-128 of A-Z a-z 0-9 _ . : -)', example: 'desk-2026-11-20-0007' },
  from: { description: 'from this time (inclusive)', example: '2026-11-01T00:00:00+09:00' },
  to: { description: 'to this time (inclusive)', example: '2026-11-30T23:59:59+09:00' },
  'clock-state': { description: 'clock summary', values: CLOCK_STATES, example: 'overdue' },
  clock: { description: 'the clock a milestone completes: handoff, qa, reply or a landing point id (lp-…)', values: ['handoff', 'qa', 'reply', 'lp-…'], example: 'handoff' },
  at: { description: `when it happened (${ISO}; default now; a later record of an earlier time is marked backdated)`, example: '2026-11-20T09:20:00+09:00' },
  note: { description: 'a note for the timeline (no customer details)', example: '"passed to the regional desk"' },
  promise: { description: 'what was promised to the customer', example: '"QA calls back"' },
  owner: { description: 'who owns it (a person or a team)', example: '"QA Saitama"' },
  due: { description: 'due date (landing point: a future date-time; action: YYYY-MM-DD)', example: '2026-12-20' },
  satisfaction: { description: 'the customer’s satisfaction, 1 to 5', values: ['1', '2', '3', '4', '5'], example: '4' },
  comment: { description: 'the customer’s comment', example: '"clear answer, thank you"' },
  investigation: { description: 'the reply: what the investigation found', example: '"Our laboratory found film from the wrapping machine."' },
  cause: { description: 'the reply: why it happened', example: '"A worn liner tore."' },
  prevention: { description: 'the reply: what changes so it does not happen again', example: '"We replaced it and inspect it every shift."' },
  apology: { description: 'replaces the standard apology', example: '"…and we enclose a voucher."' },
  // clusters and backtests
  window: { description: 'days the counts cover', values: ['7', '30', '90', '365'], example: '30' },
  kind: { description: `clusters: the cluster key kind, one of ${CLUSTER_KINDS.join(', ')}; add-action: the action kind, corrective or preventive`, example: 'lot' },
  input: { description: 'complaints file, CSV with a header line or JSONL, oldest first (else give --sort)', example: 'complaints.csv' },
  sort: { description: 'read the whole file and replay it by time, then id, then content (a file newest first or unsorted; memory grows with the file)' },
  map: { description: 'JSON mapping of the file’s columns and values to the case record', example: 'test/fixtures/backtest/mapping.json' },
  config: { description: 'detection rules to try, JSON (partial, over the defaults)', example: 'rules.json' },
  format: { description: 'input format (default: from the file name)', values: ['csv', 'jsonl'] },
  truth: { description: 'past recalls to score the signals against: CSV with product, category and date columns (names in the mapping’s "truth")', example: 'recalls.csv' },
  'no-learning': { description: 'with --truth, raise every signal: the categories do not learn from the past recalls (compare with and without)' },
  'score-from': { description: 'first day scored (earlier rows only warm the rules up; default: a year after the first row)', example: '2018-01-01' },
  'score-to': { description: 'last day scored (default: the last row)', example: '2025-06-30' },
  delimiter: { description: 'CSV delimiter, one character or tab (default: , ; or tab, whichever the header line has most of)', example: ';' },
  encoding: { description: 'CSV encoding (auto: UTF-8 with or without BOM, else Shift_JIS when it reads as Japanese; a Western Windows export needs windows-1252)', values: CSV_ENCODINGS, example: 'windows-1252' },
  // incidents
  status: { description: 'incident status', values: INCIDENT_STATUSES, example: 'candidate' },
  class: { description: 'hazard class (FDA): I serious harm or death, II temporary or reversible harm, III unlikely to harm', values: HAZARD_CLASSES, example: 'II' },
  'as-of-version': { description: 'read the state back as it was at this version', example: '3' },
  title: { description: 'the incident title', example: '"Plastic film in almond chocolate"' },
  hazard: { description: 'the hazard in plain words, as notices must state it', example: '"may contain pieces of plastic film"' },
  'qa-owner': { description: 'the QA owner (default: you)' },
  product: { description: 'a product in scope, SKU=NAME (repeat the flag)', example: 'CHOC-ALM-100="Almond chocolate 100 g"' },
  merge: { description: 'another candidate of the same problem to merge (repeat the flag)', example: '01M8SK…' },
  reason: { description: 'the reason, for the timeline', example: '"one customer called four times"' },
  location: { description: 'a plant or warehouse where shipments are held (repeat the flag)', example: 'DC-TOKYO' },
  'held-at': { description: `when the hold took effect (${ISO})` },
  instructions: { description: 'what stores do with the stock (default: remove, keep apart, count, acknowledge)' },
  text: { description: 'the text (or give --file)', example: '"A worn liner tore on line 2."' },
  'no-public-notice': { description: 'class III only: the text is the reasons for not publishing a public notice' },
  'text-hash': { description: 'the sha256 of the text you approve (required with --json)' },
  action: { description: 'the action id', example: 'capa-1' },
  deadline: { description: 'the missed deadline', values: DEADLINE_IDS, example: 'stores-notified' },
  // stores
  'on-hand': { description: 'units the store had on hand', example: '24' },
  removed: { description: 'units the store removed from sale', example: '24' },
  'queue-url': { description: 'read the store’s own SQS queue instead of the API (npm start prints each demo store’s URL)' },
  'auth-domain': { description: 'the managed sign-in address (stack output AuthDomain; default RECALL_AUTH_DOMAIN)', example: 'https://recall-prod-123456789012.auth.eu-west-1.amazoncognito.com' },
  'client-id': { description: 'the CLI app client (stack output CliClientId; default RECALL_CLIENT_ID)' },
  'no-browser': { description: 'only print the sign-in address, do not open a browser (e.g. over SSH)' },
  delete: { description: 'remove the messages read from the queue' },
};

/** The help line of a flag: meaning, allowed values, example. */
export function flagHelp(name: string, override?: string): string {
  const doc = FLAG_DOCS[name];
  const description = override ?? doc?.description ?? name;
  // An override with its own example replaces the general one (a reason to dismiss is no reason to correct).
  const example = doc?.example && !override?.includes('e.g.') ? `e.g. --${name} ${doc.example}` : '';
  return [description, doc?.values && !override ? `one of: ${doc.values.join(', ')}` : '', example].filter(Boolean).join('; ');
}
