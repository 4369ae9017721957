import { usageReport } from '../../agent/usage-report.js';
import { Requests } from '../../protocol/methods.js';
import { invalidParams } from '../agent-host.js';
import { route, type Route } from '../route.js';

/** `codebench/usage`: tokens and cost of the recorded model calls by provider, model, day or session. */
export const usageRoutes: Route[] = [
  route(Requests.usage, async (host, params, { where }) => {
    const answer = await usageReport(await host.store(), host.runtime.config().providers, params ?? {});
    if (!answer.ok) throw invalidParams(`Invalid params: ${where}.${answer.field}: ${answer.message}`);
    return answer.report;
  }),
];
