import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { AuthStatus, ConnectionSource as Source, FailureReason, UnverifiedReason as Unverified } from '../domain/statuses.js';
import { AuthenticationFailureReason, AuthenticationStatus, ConnectionSource, UnverifiedReason } from './enums.js';
import { Connection } from './connection.type.js';
import { DateTime } from './scalars.js';

@ObjectType()
export class ConnectionAttempt {
  @Field(() => DateTime)
  at!: Date;

  @Field(() => ConnectionSource)
  source!: Source;

  @Field(() => AuthenticationStatus, {
    description: 'AUTHENTICATION_SUCCEEDED, AUTHENTICATION_FAILED or CLIENT_AGENTS_MUST_UPGRADE.',
  })
  result!: AuthStatus;

  @Field(() => AuthenticationFailureReason, { nullable: true })
  failureReason!: FailureReason | null;

  @Field(() => String, { nullable: true })
  agentVersion!: string | null;

  @Field(() => String, { nullable: true })
  certificateSerialNumber!: string | null;

  @Field(() => Boolean, {
    description:
      'False for an attempt that proved no key this core has on file for the device: kept for the admin, it did not change the device.',
  })
  verified!: boolean;

  @Field(() => UnverifiedReason, { nullable: true, description: 'Why the attempt is unverified; null when verified.' })
  unverifiedReason!: Unverified | null;

  @Field(() => String, { nullable: true, description: 'The address the attempt came from, as the agent gateway saw it.' })
  remoteAddress!: string | null;
}

@ObjectType()
export class ConnectionAttemptConnection extends Connection(ConnectionAttempt) {}

@ObjectType({ description: 'One attribute of the device inventory tree.' })
export class InventoryAttribute {
  @Field(() => [String], {
    description: "e.g. ['Ivanti Management', 'Client certificate-based security', 'Authentication status']",
  })
  path!: string[];

  @Field(() => String)
  value!: string;
}

@ObjectType()
export class Device {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, {
    nullable: true,
    description: "The device's unique id as its agent reports it; null for a device with no agent.",
  })
  agentId!: string | null;

  @Field(() => String, { nullable: true })
  agentVersion!: string | null;

  @Field(() => Boolean)
  isCoreServer!: boolean;

  @Field(() => AuthenticationStatus)
  authStatus!: AuthStatus;

  @Field(() => AuthenticationFailureReason, {
    nullable: true,
    description: 'Why the last attempt failed, while authStatus is AUTHENTICATION_FAILED.',
  })
  failureReason!: FailureReason | null;

  @Field(() => Boolean, {
    description:
      'False once client certificate-based security is enabled and authStatus is not AUTHENTICATION_SUCCEEDED.',
  })
  fullyManageable!: boolean;

  @Field(() => ConnectionAttempt, { nullable: true })
  lastConnection!: ConnectionAttempt | null;

  @Field(() => [InventoryAttribute], {
    description: "Attributes under 'Ivanti Management > Client certificate-based security', among others.",
  })
  inventory!: InventoryAttribute[];

  @Field(() => Boolean, { description: 'Known from the inventory import (registerDevices), not only from an enrollment.' })
  imported!: boolean;

  @Field(() => Int, {
    description:
      'Connection attempts naming this device that proved no key on file for it: counted and kept (the latest few) in connectionHistory, never applied.',
  })
  unverifiedAttempts!: number;

  @Field(() => DateTime, { nullable: true })
  lastUnverifiedAttemptAt!: Date | null;
}

@ObjectType()
export class DeviceConnection extends Connection(Device) {
  @Field(() => Int)
  totalCount!: number;
}

@InputType()
export class DeviceFilter {
  @Field(() => [AuthenticationStatus], { nullable: true })
  authStatus?: AuthStatus[] | null;

  @Field(() => [AuthenticationFailureReason], {
    nullable: true,
    description:
      'Only devices whose authStatus is AUTHENTICATION_FAILED for one of these reasons (the failureReason field); AND-ed with authStatus and search, so together with an authStatus list without AUTHENTICATION_FAILED it matches nothing. Null or an empty list: no restriction.',
  })
  failureReasons?: FailureReason[] | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive match on name or agentId.' })
  search?: string | null;
}

@InputType()
export class DeviceInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  agentId?: string | null;

  @Field(() => String, { nullable: true })
  agentVersion?: string | null;
}

@ObjectType()
export class DeviceAuthStatusChange {
  @Field(() => Device)
  device!: Device;

  @Field(() => AuthenticationStatus)
  previous!: AuthStatus;

  @Field(() => AuthenticationStatus)
  current!: AuthStatus;

  @Field(() => DateTime)
  at!: Date;
}
