import { handler as incidentAction } from '../../functions/incident-action.js';
import { handler as getIncident } from '../../functions/get-incident.js';
import { handler as incidentReport } from '../../functions/incident-report.js';
import { handler as incidentEffectiveness } from '../../functions/incident-effectiveness.js';
import { handler as incidentReplies } from '../../functions/incident-replies.js';
import { handler as listIncidents } from '../../functions/list-incidents.js';
import { handler as openIncident } from '../../functions/open-incident.js';
import type { Role } from '../../shared/platform/roles.js';
import { call, callText, httpEvent } from './events.js';
import { users } from './users.js';

/** A caller; `null` sends no token at all. */
type User = { sub: string; roles: Role[]; storeId?: string; region?: string } | null;
const as = (user: User) => (user ? { user } : {});

/** The incident endpoints through their real handlers, as API Gateway would call them. */
export const incidentsApi = {
  open: (body: unknown, user: User = users.qa) => call(openIncident, httpEvent({ method: 'POST', path: '/incidents', body, ...as(user) })),
  list: (query: Record<string, string>, user: User = users.qa) => call(listIncidents, httpEvent({ path: '/incidents', query, ...as(user) })),
  get: (id: string, user: User = users.qa, query?: Record<string, string>) =>
    call(getIncident, httpEvent({ path: `/incidents/${id}`, pathParameters: { id }, ...as(user), ...(query ? { query } : {}) })),
  act: (id: string, body: unknown, user: User = users.qa) =>
    call(incidentAction, httpEvent({ method: 'POST', path: `/incidents/${id}/actions`, pathParameters: { id }, body, ...as(user) })),
  report: (id: string, user: User = users.qa, query?: Record<string, string>) =>
    call(incidentReport, httpEvent({ path: `/incidents/${id}/report`, pathParameters: { id }, ...as(user), ...(query ? { query } : {}) })),
  effectiveness: (id: string, user: User = users.qa) =>
    call(incidentEffectiveness, httpEvent({ path: `/incidents/${id}/effectiveness`, pathParameters: { id }, ...as(user) })),
  replies: (id: string, body: unknown, user: User = users.qa) =>
    call(incidentReplies, httpEvent({ method: 'POST', path: `/incidents/${id}/replies`, pathParameters: { id }, body, ...as(user) })),
  reportText: (id: string, user: User = users.qa) =>
    callText(incidentReport, httpEvent({ path: `/incidents/${id}/report`, pathParameters: { id }, ...as(user), query: { format: 'markdown' } })),
};

/** Reads the incident and runs one action on the version it shows. */
export async function step(id: string, action: Record<string, unknown>, user: User = users.qa) {
  const current = await incidentsApi.get(id);
  return incidentsApi.act(id, { ...action, expectedVersion: current.body!.version }, user);
}

export const SCOPE = {
  products: [{ sku: 'CHOC-ALM-100', name: 'Almond chocolate 100 g' }],
  lots: [{ sku: 'CHOC-ALM-100', lotCode: 'L2026-1103-A' }],
  regions: ['kanto', 'kansai'],
};

/** A notice that states every required fact of the scope above. */
export const NOTICE =
  'Voluntary recall of Almond chocolate 100 g (CHOC-ALM-100), lot L2026-1103-A. The product may contain pieces of plastic film. ' +
  'Do not eat it; return it to the store for a full refund. Questions: 0120-123-456, recall@example.com.';

/** One valid body of every action (the version is set by the caller). */
export const SAMPLE_ACTIONS: Record<string, Record<string, unknown>> = {
  declare: { action: 'declare', title: 'Plastic film in almond chocolate', hazardClass: 'II', hazard: 'may contain pieces of plastic film', scope: SCOPE },
  dismiss: { action: 'dismiss', reason: 'one customer, duplicate calls' },
  merge: { action: 'declare', title: 'Merged', hazardClass: 'II', hazard: 'may contain pieces of plastic film', merge: ['01JZZZZZZZZZZZZZZZZZZZZZZZ'] },
  'update-scope': { action: 'update-scope', scope: SCOPE },
  'record-hold': { action: 'record-hold', locations: ['PLANT-SAITAMA', 'DC-TOKYO'] },
  'issue-withdrawal': { action: 'issue-withdrawal' },
  'accept-sponsorship': { action: 'accept-sponsorship' },
  'draft-disclosure': { action: 'draft-disclosure', mode: 'public-notice', text: NOTICE },
  'approve-disclosure': { action: 'approve-disclosure', textHash: '0'.repeat(64) },
  contain: { action: 'contain' },
  disclose: { action: 'disclose' },
  remediate: { action: 'remediate' },
  'record-root-cause': { action: 'record-root-cause', text: 'torn film liner at the wrapping station' },
  'add-action': { action: 'add-action', kind: 'corrective', description: 'replace the liner', owner: 'plant QA', dueDate: '2026-12-20' },
  'complete-action': { action: 'complete-action', actionId: 'capa-1' },
  verify: { action: 'verify' },
  'override-verification': { action: 'override-verification', reason: 'supplier changed; no further lots exist' },
  'acknowledge-breach': { action: 'acknowledge-breach', deadline: 'stores-notified', reason: 'late' },
  close: { action: 'close' },
};

/** A reply that satisfies the 14-day rule's content. */
export const REPLY = {
  investigation: 'Our laboratory found a piece of the film liner from the wrapping machine.',
  cause: 'A worn liner tore during wrapping on 3 November.',
  prevention: 'We replaced the liner and now inspect it at every shift change.',
};
