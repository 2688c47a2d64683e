import * as z from 'zod';
import { code, text } from '../platform/fields.js';

export const StoreIdPath = z.strictObject({ id: code(64) });
export const StorePut = z.strictObject({ region: code(64), name: text(200) });
export type StorePut = z.infer<typeof StorePut>;
export const StoreListQuery = z.strictObject({ region: code(64) });
