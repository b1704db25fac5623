/** The shapes shared by the route tables (routes.ts, governance-routes.ts) and the server. */
import type { IncomingMessage } from 'node:http';

import type { NodeService } from '../service.js';
import type { AdmissionControl } from './admission.js';
import type { HttpMetrics } from './metrics.js';

export interface RouteLimits {
  readonly maxBodyBytes: number;
  readonly maxEventsPerRequest: number;
}

export interface RouteContext {
  readonly service: NodeService;
  readonly limits: RouteLimits;
  readonly metrics: HttpMetrics;
  readonly admission: AdmissionControl;
}

export type Reply = (
  | { readonly status: number; readonly json: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string }
) & { readonly headers?: Readonly<Record<string, string>> };

export type Handler = (
  req: IncomingMessage,
  params: readonly string[],
  ctx: RouteContext,
) => Reply | Promise<Reply>;

export interface Route {
  /** The pattern, used as the `route` label of metrics. */
  readonly pattern: string;
  readonly regex: RegExp;
  /** GET handlers also answer HEAD. */
  readonly methods: Readonly<Partial<Record<'GET' | 'POST', Handler>>>;
}
