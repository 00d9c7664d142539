import { Field, ID, ObjectType } from 'type-graphql';
import { Connection } from './connection.type.js';
import { DateTime } from './scalars.js';

@ObjectType()
export class AuditEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => DateTime)
  at!: Date;

  @Field(() => String)
  actor!: string;

  @Field(() => String)
  action!: string;

  @Field(() => String, { nullable: true })
  targetId!: string | null;

  @Field(() => String, { nullable: true })
  details!: string | null;
}

@ObjectType()
export class AuditEventConnection extends Connection(AuditEvent) {}
