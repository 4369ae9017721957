import { Commands } from '../../protocol/methods.js';
import { route, type Route } from '../route.js';

/** Answers to a pending `run_command` approval from code actions (clients that cannot prompt). */
export const approvalRoutes: Route[] = [
  route(Commands.approveCommand, async (host, { approvalId, decision }) => ({
    answered: host.approvals.answer(approvalId, decision ?? 'allow-once'),
  })),
  route(Commands.denyCommand, async (host, { approvalId }) => ({ answered: host.approvals.answer(approvalId, 'deny') })),
];
