import { isDeepStrictEqual } from 'node:util';
import { LIFECYCLE_FIELDS, type Incident, type IncidentEvent, type Lifecycle } from './model.js';

/**
 * The append-only timeline. Each action writes one event holding every lifecycle field it
 * changed, before → after; replaying the events from version 1 gives the incident's
 * lifecycle state at any version.
 */
export function lifecycleOf(record: Lifecycle): Lifecycle {
  const out: Record<string, unknown> = {};
  for (const field of LIFECYCLE_FIELDS) if (record[field] !== undefined) out[field] = record[field];
  return out as unknown as Lifecycle;
}

export function diffLifecycle(before: Lifecycle | undefined, after: Lifecycle): IncidentEvent['changes'] {
  const changes: Record<string, { before?: unknown; after?: unknown }> = {};
  for (const field of LIFECYCLE_FIELDS) {
    const b = before?.[field];
    const a = after[field];
    if (!isDeepStrictEqual(b, a)) changes[field] = { ...(b === undefined ? {} : { before: b }), ...(a === undefined ? {} : { after: a }) };
  }
  return changes;
}

/** The lifecycle state as of `version`, from the timeline (events in any order). */
export function stateAt(events: readonly IncidentEvent[], version: number): Lifecycle | undefined {
  const upTo = [...events].filter((e) => e.version <= version).sort((a, b) => a.version - b.version);
  if (upTo.length === 0 || upTo[0]!.version !== 1) return undefined;
  const state: Record<string, unknown> = {};
  for (const event of upTo) {
    for (const [field, change] of Object.entries(event.changes)) {
      if (change.after === undefined) delete state[field];
      else state[field] = change.after;
    }
  }
  return state as unknown as Lifecycle;
}

/** Timeline event 1: the incident as it was created, every field as `after`. */
export function firstEvent(incident: Incident, action: string, by: string): IncidentEvent {
  return { version: 1, at: incident.openedAt, by, action, changes: diffLifecycle(undefined, lifecycleOf(incident)) };
}
