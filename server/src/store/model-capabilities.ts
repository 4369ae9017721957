import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { Database } from './schema.js';

/** How tools reach a provider's model, as learned from its server; undefined until something was learned. */
export async function toolModeOf(db: Kysely<Database>, provider: string, model: string): Promise<'native' | 'text' | undefined> {
  const row = await db
    .selectFrom('model_capabilities')
    .select('tools')
    .where('provider', '=', provider)
    .where('model', '=', model)
    .executeTakeFirst();
  return row?.tools;
}

export async function setToolMode(db: Kysely<Database>, provider: string, model: string, tools: 'native' | 'text'): Promise<void> {
  await db
    .insertInto('model_capabilities')
    .values({ provider, model, tools, noted_at: now() })
    .onConflict((oc) => oc.columns(['provider', 'model']).doUpdateSet({ tools, noted_at: now() }))
    .execute();
}
