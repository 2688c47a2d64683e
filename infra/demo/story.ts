import { NOISE_SKU, SLOW_SKU, demoYear } from './data.js';

/**
 * One recall, told as the people doing it see it, through the HTTP API of a running stack:
 * the desk files a year of complaints; detection raises candidates; QA triages, declares,
 * holds and withdraws; stores acknowledge; an executive approves and the notice goes public;
 * a missed deadline is acknowledged; every customer gets the reply; the fix is verified and
 * the incident closes with its status report. Every step checks its answer and stops the
 * story with the problem document when the system says no where it should say yes.
 *
 * `local` gives what only an embedded stack offers: running the watchdog now instead of at the
 * next minute, reading the store queues, and a clock a month ahead for the verification.
 */
export interface DemoOptions {
  readonly apiUrl: string;
  readonly tokens: Readonly<Record<string, string>>;
  readonly seed: number;
  /** Background complaints in the year (the story's own come on top). */
  readonly background: number;
  readonly fast: boolean;
  readonly log: (line: string) => void;
  readonly local?: {
    runWatchdog(): Promise<unknown>;
    readStoreQueue(storeId: string): Promise<any[]>;
    verifyInAMonth(incidentId: string, version: number): Promise<any>;
    streamIdle(): Promise<void>;
  };
}

export interface DemoResult {
  readonly incidentId: string;
  readonly dismissedId: string;
  readonly reportIds: readonly string[];
  readonly report: string;
}

const NOTICE = (lots: string[]) =>
  [
    'Voluntary recall: Almond chocolate 100 g (CHOC-ALM-100)',
    `Lots: ${lots.join(', ')}.`,
    'The product may contain pieces of plastic film.',
    'Do not eat it. Return it to the store where you bought it for a full refund, with or without a receipt.',
    'Questions: 0120-123-456 (9:00-18:00, every day) or recall@example.com.',
  ].join('\n');

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const say = (line = '') => o.log(line);
  const step = async (title: string) => {
    say('');
    say(`== ${title}`);
    if (!o.fast) await new Promise((r) => setTimeout(r, 1200));
  };
  const call = async (who: string, method: string, path: string, body?: unknown, expect: number[] = [200, 201]) => {
    const response = await fetch(`${o.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${o.tokens[who]}`, 'content-type': 'application/json', accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = text && /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : text;
    if (!expect.includes(response.status)) throw new Error(`${who}: ${method} ${path} answered ${response.status}: ${typeof json === 'string' ? json : JSON.stringify(json)}`);
    return { status: response.status, body: json as any };
  };
  // Acts on the version just read; the watchdog (every minute on a running stack) may move
  // the incident in between: that 409 is read again and retried, as a person would.
  const act = async (who: string, id: string, action: Record<string, unknown>, expect: number[] = [200, 201]) => {
    for (let attempt = 0; ; attempt++) {
      const current = (await call('qa.tanaka', 'GET', `/incidents/${id}`)).body;
      const answer = await call(who, 'POST', `/incidents/${id}/actions`, { ...action, expectedVersion: current.version }, [...expect, 409]);
      if (answer.status !== 409 || expect.includes(409) || attempt >= 3) {
        if (!expect.includes(answer.status)) throw new Error(`${who}: ${String(action.action)} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        return answer;
      }
    }
  };

  // 1. A year of complaints at the customer desk.
  await step('Customer desk (agent.sato): a year of complaints');
  const year = demoYear({ seed: o.seed, background: o.background, days: 360 });
  const reportIds: string[] = [];
  const mine: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < year.length) {
        const c = year[next++]!;
        const receivedAt = new Date(Date.now() - c.daysAgo * 86_400_000 + c.minute * 60_000);
        const produced = new Date(receivedAt.getTime() - 20 * 86_400_000).toISOString().slice(0, 10);
        const filed = await call('agent.sato', 'POST', '/reports', {
          product: { sku: c.sku, name: c.name },
          lotCode: c.lot,
          productionDate: produced,
          plant: c.plant,
          purchase: { storeId: c.store.storeId, region: c.store.region },
          defect: { category: c.category, description: c.role === 'injury' ? 'A sharp piece of clear plastic film in the chocolate cut my mouth.' : c.role === 'slow-burn' ? 'A small piece of clear plastic film in the bar.' : `Complaint about ${c.name}.` },
          harm: { injury: c.injury, illness: false, medicalAttention: c.injury },
          sampleCollected: c.role !== 'background',
          channel: 'phone',
          receivedAt: receivedAt.toISOString(),
          contact: { name: `Customer ${next}`, phone: '+81 3 0000 0000', preferredChannel: 'phone' },
        });
        reportIds.push(filed.body.id);
        if (c.sku === SLOW_SKU && c.category === 'foreign_matter') mine.push(filed.body.id);
      }
    }),
  );
  say(`  filed ${year.length} case records over 360 days (${year.filter((c) => c.role === 'slow-burn').length} of them one piece of plastic film at a time in ${SLOW_SKU}: never two in a week, one with an injury)`);
  const listCandidates = async () => (await call('qa.tanaka', 'GET', '/incidents?status=candidate&limit=100')).body.items as any[];
  /** The candidates the story goes on with: the slow burn, the injury on its product, the duplicate calls. */
  const storyOf = (candidates: any[]) => {
    const real = candidates.find((c) => Object.values(c.keys).some((k: any) => k.key.kind === 'product' && k.key.sku === SLOW_SKU && k.key.category === 'foreign_matter' && k.evidence['slow-burn']));
    const injury = candidates.find((c) => c !== real && Object.values(c.keys).some((k: any) => k.key.sku === SLOW_SKU && k.evidence.harm));
    const noise = candidates.find((c) => Object.values(c.keys).some((k: any) => k.key.sku === NOISE_SKU && k.key.lot === 'LGU-DUP'));
    return { real, injury, noise };
  };
  let candidates: any[] = [];
  if (o.local) {
    await o.local.streamIdle();
    candidates = await listCandidates();
  } else {
    // A running stack: the stream processor works through the year in the background. Wait
    // for what the story needs (an empty list a second ago says nothing), up to three minutes.
    // The injury candidate (merged in the story) may follow the others: waited for while the list still changes.
    const waitSeconds = 180;
    let last = '';
    let unchangedFor = 0;
    for (let waited = 0; ; waited += 2) {
      candidates = await listCandidates();
      const found = storyOf(candidates);
      const now = JSON.stringify(candidates.map((c) => [c.id, c.reportCount]));
      unchangedFor = now === last ? unchangedFor + 2 : 0;
      last = now;
      if ((found.real && found.noise && (found.injury || unchangedFor >= 10)) || waited >= waitSeconds) break;
      if (waited % 10 === 0) say(`  waiting for detection to work through the year: ${candidates.length} candidate(s) so far…`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  // 2. What detection raised.
  await step('Detection: candidate incidents, with their evidence');
  for (const c of candidates) {
    const evidence = Object.values(c.keys).flatMap((k: any) => Object.values(k.evidence).map((s: any) => `${s.rule} on ${k.key.id}: ${describeEvidence(s.evidence)}`));
    say(`  ${c.id}  ${c.reportCount} report(s)  ${evidence.join('; ')}`);
  }
  const { real, injury, noise } = storyOf(candidates);
  if (!real || !noise) {
    const defaults = o.seed === 1 && o.background === 300;
    throw new Error(
      `detection did not raise ${real ? 'the duplicate calls' : 'the slow burn'} in this year (seed ${o.seed}, background ${o.background}): the story cannot go on. ` +
        (o.local
          ? defaults
            ? '`npx recall backtest` shows what the rules see in a year.'
            : 'Try the defaults (--seed 1 --background 300) or another seed; `npx recall backtest` shows what the rules see in a year.'
          : 'On a running stack the stream processor may still be behind, or the stack already held other reports of these products: run the demo on a fresh `npm start`, or without --api-url (it starts its own).'),
    );
  }

  // 3. Triage.
  await step('Quality assurance (qa.tanaka): triage');
  await act('qa.tanaka', noise.id, { action: 'dismiss', reason: 'One customer called three times about the same pack: one complaint, not a cluster.' });
  say(`  dismissed ${noise.id}: one customer, three calls about the same pack`);
  const lots = [...new Set(year.filter((c) => c.sku === SLOW_SKU && c.category === 'foreign_matter').map((c) => c.lot))].sort();
  const declared = await act('qa.tanaka', real.id, {
    action: 'declare',
    title: 'Plastic film in almond chocolate',
    hazardClass: 'II',
    hazard: 'may contain pieces of plastic film',
    scope: { products: [{ sku: SLOW_SKU, name: 'Almond chocolate 100 g' }], lots: lots.map((lotCode) => ({ sku: SLOW_SKU, lotCode })), regions: ['kanto', 'kansai'] },
    ...(injury ? { merge: [injury.id] } : {}),
  });
  const id = declared.body.id as string;
  say(`  declared ${id}: class II (${declared.body.hazardClassMeaning}), ${lots.length} lots, kanto and kansai${injury ? `; merged the injury candidate ${injury.id}` : ''}`);
  const early = await act('qa.tanaka', id, { action: 'contain' }, [422]);
  say(`  contain? refused (422): ${early.body.unmet.map((u: any) => u.id).join(', ')} still open`);
  await act('qa.tanaka', id, { action: 'record-hold', locations: ['PLANT-SAITAMA', 'DC-TOKYO', 'DC-OSAKA'] });
  if (o.local) await new Promise((r) => setTimeout(r, 2500)); // past the demo's short stores-notified deadline
  const withdrawn = await act('qa.tanaka', id, { action: 'issue-withdrawal' });
  say(`  shipments held at PLANT-SAITAMA, DC-TOKYO, DC-OSAKA; withdrawal notices issued: ${withdrawn.body.withdrawals.map((w: any) => `${w.region} (${w.noticeId})`).join(', ')}`);
  await act('qa.tanaka', id, { action: 'contain' });
  say('  contained: customer first, the product is coming off the shelves');

  // 4. Stores.
  await step('Stores: the notice arrives, they pull the stock and acknowledge');
  if (o.local) {
    for (const store of ['store-0101', 'store-0201']) {
      const queued = (await o.local.readStoreQueue(store)).filter((m) => m.incidentId === id);
      say(`  ${store}'s queue: ${queued.map((m) => `${m.type} for ${m.region}`).join(', ') || '(nothing)'}`);
    }
  }
  const inbox = async (who: string, store: string) => (await call(who, 'GET', `/stores/${store}/notices`)).body.items.filter((n: any) => n.incidentId === id);
  const kanto = (await inbox('store.shibuya', 'store-0101'))[0];
  await call('store.shibuya', 'POST', `/notices/${kanto.noticeId}/acks`, { quantityOnHand: 24, quantityRemoved: 24 });
  say('  store-0101 (kanto): 24 on hand, 24 removed');
  let eff = (await call('qa.tanaka', 'GET', `/incidents/${id}/effectiveness`)).body;
  say(`  effectiveness: ${eff.acknowledged} of ${eff.storesInScope} stores (level ${eff.level}, target ${eff.targetPercent} %); not responded: ${eff.notResponded.join(', ')}`);
  if (o.local) {
    await new Promise((r) => setTimeout(r, 2500));
    await o.local.runWatchdog();
    const reminder = (await o.local.readStoreQueue('store-0201')).filter((m) => m.incidentId === id && m.reminder);
    say(`  the watchdog re-notified store-0201 (${reminder.length} reminder in its queue, addressed to it alone)`);
  } else say('  (a store that stays silent is re-notified after 4 hours: run the demo without --api-url to see it happen)');
  const kansai = (await inbox('store.umeda', 'store-0201'))[0];
  await call('store.umeda', 'POST', `/notices/${kansai.noticeId}/acks`, { quantityOnHand: 9, quantityRemoved: 9 });
  eff = (await call('qa.tanaka', 'GET', `/incidents/${id}/effectiveness`)).body;
  say(`  store-0201 (kansai): 9 removed. Effectiveness ${eff.achievedPercent} %: ${eff.met ? 'target met' : 'target not met'}; ${eff.unitsRemoved} units off the shelves`);

  // 5. Disclosure and leadership.
  await step('Executives: sponsor, approve, publish');
  await act('exec.suzuki', id, { action: 'accept-sponsorship' });
  say('  exec.suzuki sponsors the incident');
  const drafted = await act('qa.tanaka', id, { action: 'draft-disclosure', mode: 'public-notice', text: NOTICE(lots) });
  say(`  qa.tanaka drafts the public notice (sha256 ${drafted.body.disclosure.textHash.slice(0, 12)}…); the facts are checked: product, lots, hazard, what to do, how to reach us`);
  const refused = await act('qa.tanaka', id, { action: 'approve-disclosure', textHash: drafted.body.disclosure.textHash }, [403]);
  say(`  qa.tanaka, who declared it, tries to approve: refused (${refused.status}: ${refused.body.detail})`);
  await act('exec.suzuki', id, { action: 'approve-disclosure', textHash: drafted.body.disclosure.textHash });
  say('  exec.suzuki, the sponsor, approves the exact text (neither declarer nor author)');
  await act('exec.suzuki', id, { action: 'disclose' });
  const page = await fetch(`${o.apiUrl}/public/notices`).then((r) => r.json() as Promise<any>);
  const published = page.items.find((n: any) => n.incidentId === id);
  say(`  published; the public page ${o.apiUrl}/public/notices?format=html now shows:`);
  for (const line of String(published?.text ?? '(missing!)').split('\n')) say(`    > ${line}`);

  // 6. Speed.
  await step('Speed: a missed deadline is escalated and acknowledged');
  if (o.local) await o.local.runWatchdog();
  const incident = (await call('qa.tanaka', 'GET', `/incidents/${id}`)).body;
  const missed = incident.deadlines.filter((d: any) => d.state === 'breached' || d.state === 'met-late');
  if (missed.length === 0) say('  no deadline was missed (class II: stores within 24 h, disclosure within 72 h)');
  for (const d of missed) {
    await act('exec.suzuki', id, { action: 'acknowledge-breach', deadline: d.id, reason: 'the warehouse list for kansai was incomplete; DC-OSAKA was added late' });
    say(`  ${d.id} was due ${d.due} (${d.state}${d.escalatedAt ? `, escalated ${d.escalatedAt}` : ''}); exec.suzuki acknowledged it with the reason`);
  }

  // 7. Prevention and the customers.
  await step('Prevention: root cause, actions, verification; every customer gets the reply');
  await act('qa.tanaka', id, { action: 'remediate' });
  await act('qa.tanaka', id, { action: 'record-root-cause', text: 'A worn film liner on wrapping line 2 tore and left strips of film in the bars.' });
  await act('qa.tanaka', id, { action: 'add-action', kind: 'corrective', description: 'Replace the liner on line 2', owner: 'plant QA Saitama', dueDate: new Date().toISOString().slice(0, 10) });
  await act('qa.tanaka', id, { action: 'add-action', kind: 'preventive', description: 'Inspect wrapping liners at every shift change; metal-and-film detector after wrapping', owner: 'maintenance Saitama', dueDate: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10) });
  await act('qa.tanaka', id, { action: 'complete-action', actionId: 'capa-1' });
  say('  root cause recorded; corrective action done (liner replaced); preventive action owned by maintenance');
  if (o.local) {
    const current = (await call('qa.tanaka', 'GET', `/incidents/${id}`)).body;
    const verified = await o.local.verifyInAMonth(id, current.version);
    say(`  verification, 30 days after the fix (the demo's clock jumps ahead): ${verified.verification.result}; reports on the incident's keys: ${JSON.stringify(verified.verification.counts)}`);
  } else {
    await act('exec.suzuki', id, { action: 'override-verification', reason: 'demo on a running stack: the 30-day window cannot pass here' });
    say('  verification needs 30 days after the fix: exec.suzuki accepts the fix with a reason (run the demo without --api-url to see the counters checked)');
  }
  const reply = {
    investigation: 'Our laboratory identified the piece as film from the wrapping machine.',
    cause: 'A worn liner on one wrapping line tore and left strips of film in some bars.',
    prevention: 'We replaced the liner, inspect it at every shift change and added a detector after wrapping.',
  };
  // A reply that met a concurrent change (the watchdog on its report) is sent on the next run.
  let sent = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const replies = await call('qa.tanaka', 'POST', `/incidents/${id}/replies`, reply);
    sent += replies.body.sent.length;
    if (replies.body.failed.length === 0) break;
  }
  say(`  written replies sent to ${sent} customer(s) (their 14-day clocks stop)`);
  const closed = await act('qa.tanaka', id, { action: 'close' });
  say(`  closed: ${closed.body.checklist.filter((i: any) => i.status === 'done').length} of ${closed.body.checklist.length} checklist items done`);

  // 8. The status report.
  await step('The status report');
  const report = await fetch(`${o.apiUrl}/incidents/${id}/report?format=markdown`, { headers: { authorization: `Bearer ${o.tokens['exec.suzuki']}` } }).then((r) => r.text());
  for (const line of report.split('\n')) say(`  ${line}`);
  return { incidentId: id, dismissedId: noise.id, reportIds: mine, report };
}

function describeEvidence(e: Record<string, unknown>): string {
  // Every rule explains itself in words QA can judge.
  if (typeof e.explanation === 'string') return e.explanation;
  if (e.statistic === 'prr') return `PRR ${e.prr} (χ² ${e.chi2}, ${e.a} reports in ${e.windowDays} days)`;
  if (e.statistic === 'poisson-upper-tail') return `${e.count} in ${e.windowDays} day(s), ${e.expected} expected (p ${e.pValue})`;
  if (e.injury || e.illness) return 'a report of harm';
  return JSON.stringify(e);
}
