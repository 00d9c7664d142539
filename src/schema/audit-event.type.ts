import { Field, ID, ObjectType } from 'type-graphql';
import { Connection } from './connection.type.js';
import { DateTime } from './scalars.js';

@ObjectType({ description: 'One entry of the audit log: a change someone (or the core itself) made.' })
export class AuditEvent {
  @Field(() => ID, { description: "The entry's id; later entries have larger ids." })
  id!: string;

  @Field(() => DateTime, { description: 'When it happened (ISO 8601, UTC).' })
  at!: Date;

  @Field(() => String, {
    description:
      "Who did it: the admin's token subject, agent:<agentId> for an agent's enrollment, or system / system:<part> for the core's own work (e.g. system:renewal).",
  })
  actor!: string;

  @Field(() => String, { description: "What was done, as domain.verb, e.g. 'clientAccess.approved', 'security.enabled'." })
  action!: string;

  @Field(() => String, {
    nullable: true,
    description: "The id or name of what it was done to (a request id, a saved query id, a secret's name); null when none.",
  })
  targetId!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'More about it, as a JSON object in a string (never a secret value or a key); null when none.',
  })
  details!: string | null;
}

@ObjectType({ description: 'A page of the audit log, newest first.' })
export class AuditEventConnection extends Connection(AuditEvent) {}
