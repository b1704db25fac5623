import { toHex } from './protocol/bytes.js';
export const where = (): string => import.meta.url + typeof toHex;
