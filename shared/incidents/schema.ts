import { z } from 'zod';
import { CLUSTER_KINDS } from '../detection/keys.js';

export const ClusterListQuery = z.strictObject({
  window: z.coerce.number().pipe(z.union([z.literal(7), z.literal(30), z.literal(90), z.literal(365)])).default(30),
  kind: z.enum(CLUSTER_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const IncidentListQuery = z.strictObject({
  status: z.enum(['candidate']).default('candidate'),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2000).optional(),
});
