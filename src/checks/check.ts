/** What a check is given, and what it returns. */
import type { Clock } from '../core/clock.js';
import type { Finding } from '../core/model.js';
import type { Rng } from '../core/rng.js';
import type { Testbed } from './testbed.js';
import type { DriverClient, ProviderWideCall } from '../driver/client.js';

// The checks read their params and waits from here; they live apart so that testbed.ts needs no import of this module.
export { choiceParam, numberParam, sessionMode } from './params.js';
export { ANSWER_MS, QUIET_MS } from './waits.js';

export interface CheckContext {
  readonly params: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
  readonly rng: Rng;
  /** The run's clock: what `t`, `iat` and the like are made from and judged against. */
  readonly clock: Clock;
  readonly testbed: Testbed;
  /** Names the phase, for the evidence and a timeout's message. */
  step(name: string): void;
  note(text: string): void;
}

export type Check = (ctx: CheckContext) => Promise<Finding>;

/**
 * Provider-wide state: what every gatekeeper worker shares through the one provider. A check that
 * changes some declares it, the run gives it the provider alone (no other case runs meanwhile), and
 * only such a check is handed the driver actions that change it.
 */
export type ProviderState = 'proof-keys' | 'hosted-media' | 'trusted-gatekeeper-keys';

/** The driver actions that change each kind of provider-wide state. */
export interface ProviderWideActions {
  readonly 'proof-keys': Pick<DriverClient, 'rotateProofKey' | 'retireProofKeys'>;
  readonly 'hosted-media': Pick<DriverClient, 'expireMedia'>;
  readonly 'trusted-gatekeeper-keys': Pick<DriverClient, 'trustGatekeeperKeys'>;
}

type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** What a check that declares `changes: S` may call on top of its context. */
export type ProviderWide<S extends ProviderState> = Intersect<ProviderWideActions[S]>;

/** The context of a check that declares `changes: S`. */
export type ChangingContext<S extends ProviderState> = CheckContext & { readonly providerWide: ProviderWide<S> };

/** A JSON Schema (draft 2020-12) for a case's `params`; `paramsOf` writes the usual one. */
export type ParamsSchema = Readonly<Record<string, unknown>>;

/** An object of these optional (or `required`) properties and no others: a misspelt param is the suite's error. */
export function paramsOf(
  properties: Readonly<Record<string, ParamsSchema>>,
  required: readonly string[] = [],
): ParamsSchema {
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
}

/** The params schema of a check that takes none. */
export const NO_PARAMS: ParamsSchema = paramsOf({});

/** `params.mode`, the session mode (`sessionMode`). */
export const MODE_PARAM: ParamsSchema = { enum: ['classic', 'pq'] };

export interface CheckDeclaration<S extends ProviderState = never> {
  /** What suites write in `check`: the check's folder, a slash, its behaviour (`stanza/frame/open`). */
  readonly name: string;
  /** The case's `params`, checked when the suite loads; the default takes none. */
  readonly params?: ParamsSchema;
  /** The provider-wide state the check changes, if any (`ProviderState`). */
  readonly changes?: readonly S[];
}

/** A check as its module exports it: its declaration and what it runs. */
export interface DefinedCheck {
  readonly kind: 'check';
  readonly name: string;
  readonly params: ParamsSchema;
  readonly changes: readonly ProviderState[];
  /** `providerWide` is the case's driver when the check declares `changes`, and absent otherwise. */
  readonly run: (ctx: CheckContext, providerWide?: Pick<DriverClient, ProviderWideCall>) => Promise<Finding>;
}

/**
 * Declares a check where it lives. The registry is built from these declarations (`npm run build`
 * writes the manifest), so a new check needs no other file of the harness.
 */
export function defineCheck<S extends ProviderState = never>(
  declaration: CheckDeclaration<S>,
  run: (ctx: ChangingContext<S>) => Promise<Finding>,
): DefinedCheck {
  return {
    kind: 'check',
    name: declaration.name,
    params: declaration.params ?? NO_PARAMS,
    changes: declaration.changes ?? [],
    run: (ctx, providerWide) => run({ ...ctx, providerWide: providerWide as ProviderWide<S> }),
  };
}

export const isDefinedCheck = (value: unknown): value is DefinedCheck =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'check';
