/**
 * Flows in an environment (design §3D, issue 5 item 7): list with state and reasons, turn on
 * and off. The state is computed (activation.ts in core); turning a flow on records the intent,
 * and the flow is On only when every reference it uses is usable.
 */
import { invalid, notFound, type Flow, type FlowStateChange, type Repositories } from '@patchbay/core';
import type { PlatformContext } from '../context.js';
import { reevaluateEnvironment } from './activation.js';
import type { EnvironmentService } from './environments.js';

/** Flow operations. */
export class FlowService {
  constructor(
    private readonly ctx: PlatformContext,
    private readonly environments: EnvironmentService,
  ) {}

  /** Flows of an environment, by name. */
  async list(environment: string): Promise<Flow[]> {
    const env = await this.environments.get(environment);
    return this.ctx.store.repos.flows.list(env.id);
  }

  /**
   * A flow by id (workflow GUID, braces and case ignored) or display name (case-insensitive).
   * @throws FLOW_NOT_FOUND (not-found), FLOW_NAME_AMBIGUOUS (invalid) when several flows share the name.
   */
  async get(environment: string, nameOrId: string, repos: Repositories = this.ctx.store.repos): Promise<Flow> {
    const env = await this.environments.get(environment);
    const id = nameOrId.replace(/[{}]/g, '').toLowerCase();
    const byId = await repos.flows.get(env.id, id);
    if (byId) return byId;
    const matches = (await repos.flows.list(env.id)).filter((f) => f.name.toLowerCase() === nameOrId.toLowerCase());
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw invalid('FLOW_NAME_AMBIGUOUS', `several flows in ${env.name} are named ${nameOrId}; use the flow id`, {
        flow: nameOrId,
        ids: matches.map((f) => f.id),
      });
    }
    throw notFound('FLOW_NOT_FOUND', `flow ${nameOrId} does not exist in environment ${env.name}`, {
      flow: nameOrId,
      environment: env.name,
    });
  }

  /**
   * Turns a flow on (records the intent) and returns it with its state. When a reference is not
   * usable the flow stays Off with reasons, and turns On by itself once the cause is fixed.
   */
  async turnOn(options: {
    environment: string;
    flow: string;
    actor?: string;
  }): Promise<{ flow: Flow; changes: FlowStateChange[] }> {
    return this.setTurnedOn(options, true);
  }

  /** Turns a flow off (by hand): it stays Off until turned on again, whatever else changes. */
  async turnOff(options: {
    environment: string;
    flow: string;
    actor?: string;
  }): Promise<{ flow: Flow; changes: FlowStateChange[] }> {
    return this.setTurnedOn(options, false);
  }

  private async setTurnedOn(
    options: { environment: string; flow: string; actor?: string },
    turnedOn: boolean,
  ): Promise<{ flow: Flow; changes: FlowStateChange[] }> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const flow = await this.get(options.environment, options.flow, tx);
      if (flow.turnedOn !== turnedOn) await tx.flows.update({ ...flow, turnedOn });
      await this.ctx.audit(tx, {
        actor,
        environmentId: flow.environmentId,
        action: turnedOn ? 'flow.on' : 'flow.off',
        target: { type: 'flow', id: flow.id, name: flow.name },
        before: { turnedOn: flow.turnedOn, state: flow.state },
      });
      const changes = await reevaluateEnvironment(this.ctx, tx, flow.environmentId);
      const fresh = await tx.flows.get(flow.environmentId, flow.id);
      return { flow: fresh ?? flow, changes };
    });
  }
}
