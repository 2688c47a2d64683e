import { createHash } from 'node:crypto';
import type { Incident } from './model.js';

/**
 * The *disclosure* principle, checked rather than assumed: a public notice must state the
 * product, the lots, the hazard, what customers should do and how to reach the company.
 * Each check looks for the fact in the text itself, against the incident's own scope and
 * hazard statement, so a notice drafted before a scope change fails until it is redrafted.
 */
export interface FactCheck {
  readonly fact: 'product' | 'lots' | 'hazard' | 'customer-action' | 'contact';
  readonly ok: boolean;
  /** What is missing, in words a drafter can act on. */
  readonly missing?: string;
}

/** Phrases that tell a customer what to do with the product (English and Japanese). */
export const CUSTOMER_ACTION_PHRASES = [
  'do not eat', 'do not consume', 'do not drink', 'do not use', 'stop using', 'stop eating', 'return', 'refund', 'discard',
  'throw away', 'dispose', 'exchange',
  '召し上がらない', '召し上がらず', '食べない', '使用を中止', '使用しない', '返品', '返金', '廃棄', '交換', 'お取り替え', '回収',
];

const CONTACT = [
  /(?:\+\d[\d\s()-]{6,}\d)|(?:\d[\d\s()-]{8,}\d)/, // a phone number: + and 8 digits, or 10 characters of digits
  /[^\s@]+@[^\s@]+\.[^\s@]+/, // an e-mail address
  /https?:\/\/\S+/i, // a web page
];

/** The text without what merely looks like a phone number: dates, lot codes, SKUs. */
function withoutCodes(text: string, incident: Pick<Incident, 'scope'>): string {
  let out = text.normalize('NFKC').replace(/\d{4}[-/.]\d{1,2}[-/.]\d{1,2}/g, ' ');
  for (const code of [...(incident.scope?.lots ?? []).map((l) => l.lotCode), ...(incident.scope?.products ?? []).map((p) => p.sku)]) {
    out = out.split(code.normalize('NFKC')).join(' ');
  }
  return out;
}

const normalize = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

export function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Every required fact of a public notice, each with what is missing. */
export function checkNoticeFacts(text: string, incident: Pick<Incident, 'scope' | 'hazard'>): FactCheck[] {
  const body = normalize(text);
  const has = (needle: string) => body.includes(normalize(needle));
  const products = incident.scope?.products ?? [];
  const lots = incident.scope?.lots ?? [];
  const missingProducts = products.filter((p) => !has(p.sku) && !has(p.name)).map((p) => p.sku);
  const missingLots = lots.filter((l) => !has(l.lotCode)).map((l) => l.lotCode);
  const dates = incident.scope?.productionDates;
  const datesStated = !dates || (has(dates.from) && has(dates.to));
  const checks: FactCheck[] = [
    products.length === 0
      ? { fact: 'product', ok: false, missing: 'the scope names no product yet' }
      : missingProducts.length
        ? { fact: 'product', ok: false, missing: `name each product in scope (SKU or name): ${missingProducts.join(', ')}` }
        : { fact: 'product', ok: true },
    lots.length === 0 && !dates
      ? { fact: 'lots', ok: false, missing: 'the scope names no lot or production-date range yet' }
      : missingLots.length || !datesStated
        ? { fact: 'lots', ok: false, missing: [missingLots.length ? `state each lot code: ${missingLots.join(', ')}` : '', datesStated ? '' : `state the production dates ${dates!.from} to ${dates!.to}`].filter(Boolean).join('; ') }
        : { fact: 'lots', ok: true },
    !incident.hazard
      ? { fact: 'hazard', ok: false, missing: 'the incident has no hazard statement yet' }
      : has(incident.hazard)
        ? { fact: 'hazard', ok: true }
        : { fact: 'hazard', ok: false, missing: `state the hazard as declared: "${incident.hazard}"` },
    CUSTOMER_ACTION_PHRASES.some(has)
      ? { fact: 'customer-action', ok: true }
      : { fact: 'customer-action', ok: false, missing: 'tell customers what to do (e.g. "do not eat", "return for a refund", "discard")' },
    CONTACT.some((re) => re.test(withoutCodes(text, incident)))
      ? { fact: 'contact', ok: true }
      : { fact: 'contact', ok: false, missing: 'give a phone number, e-mail address or web page where customers reach the company' },
  ];
  return checks;
}
