import { request } from './api.js';
import { backtestCommand } from './backtest.js';
import { printList, queryOf, stringOptions, type Command } from './common.js';
import type { ClusterPage, TrackRecordPage } from './types.js';
import { CLUSTER_KINDS } from '../../shared/detection/keys.js';

/** `recall clusters`, `recall track-records` and `recall backtest`: what detection sees and has learnt, live and on history. */
export const detectionCommands: Record<string, Command> = {
  clusters: {
    group: 'qa',
    summary: "the busiest cluster keys over a window, with counts (over the days up to each key's last report) and the latest signal",
    usage: 'recall clusters [--window 7|30|90|365] [--kind lot|product|plant] [--limit N] [--csv]',
    options: { ...stringOptions('window', 'kind', 'limit'), csv: { type: 'boolean' } },
    docs: { kind: `cluster key kind, one of ${CLUSTER_KINDS.join(', ')}` },
    choices: { kind: CLUSTER_KINDS },
    example: 'recall clusters --window 365 --kind product --limit 10',
    async run({ values, api, json }) {
      const query = queryOf(values, ['window', 'kind', 'limit']);
      const { body } = await request<ClusterPage>(api, 'GET', `/clusters?${query}`);
      // The window asked for first, then the others (each once); counted up to the key's last report.
      const windows = [String(body.window), ...['7', '30', '365'].filter((w) => w !== String(body.window))];
      const rows = body.items.map((c) => ({
        key: c.key.id,
        ...Object.fromEntries(windows.map((w, i) => [`${w}d`, i === 0 ? c.count : c.counts[w as keyof typeof c.counts]])),
        'last report': c.lastReportAt,
        signal: c.latestSignal
          ? [c.latestSignal.rule, c.latestSignal.evidence.statistic, c.latestSignal.evidence.pValue ?? c.latestSignal.evidence.ic025 ?? c.latestSignal.evidence.prr, c.notRaised ? '(not raised: track record)' : undefined]
              .filter((x) => x !== undefined && x !== '')
              .join(' ')
          : '',
      }));
      printList(json, !!values.csv, body, rows, ['key', ...windows.map((w) => `${w}d`), 'last report', 'signal'], 60);
    },
  },
  'track-records': {
    group: 'qa',
    summary: "what detection has learnt of each category: judged signal episodes, hits, misses, and whether its signals are held back",
    usage: 'recall track-records [--csv]',
    options: { csv: { type: 'boolean' } },
    example: 'recall track-records',
    async run({ values, api, json }) {
      const { body } = await request<TrackRecordPage>(api, 'GET', '/track-records');
      if (!json && !body.learning) {
        console.log('learning from outcomes is off (DETECTION_CONFIG trackRecord is null): every signal is raised');
        return;
      }
      const rows = body.items.map((r) => ({ category: r.category, standing: r.standing, hits: r.hits, misses: r.misses, 'of them dismissed': r.dismissed ?? 0, pending: r.pending, rate: r.rate.toFixed(2) }));
      printList(json, !!values.csv, body, rows, ['category', 'standing', 'hits', 'misses', 'of them dismissed', 'pending', 'rate'], 40);
      if (!json && !values.csv && body.overall && body.thresholds) {
        const t = body.thresholds;
        console.log(
          `\nevery category: ${body.overall.hits} hits of ${body.overall.hits + body.overall.misses} judged, rate ${body.overall.rate.toFixed(2)}; ` +
            `once below ${t.onceBelow} × that (after ${t.minOutcomes} judged), held below ${t.holdBelow} × (after ${t.holdOutcomes})`,
        );
      }
    },
  },
  backtest: backtestCommand,
};
