import { Field, ID, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.type.js';
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
export class AuditEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => AuditEvent)
  node!: AuditEvent;
}

@ObjectType()
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges!: AuditEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
