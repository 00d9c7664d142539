import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { AuthStatus, ConnectionSource as Source, FailureReason, UnverifiedReason as Unverified } from '../domain/statuses.js';
import { AuthenticationFailureReason, AuthenticationStatus, ConnectionSource, UnverifiedReason } from './enums.js';
import { Connection } from './connection.type.js';
import { DateTime } from './scalars.js';

@ObjectType({ description: "One attempt of a device to authenticate, as the agent gateway or the security scanner reported it." })
export class ConnectionAttempt {
  @Field(() => DateTime, { description: 'When the attempt was made (ISO 8601, UTC).' })
  at!: Date;

  @Field(() => ConnectionSource, { description: 'Where the result came from.' })
  source!: Source;

  @Field(() => AuthenticationStatus, {
    description: 'AUTHENTICATION_SUCCEEDED, AUTHENTICATION_FAILED or CLIENT_AGENTS_MUST_UPGRADE.',
  })
  result!: AuthStatus;

  @Field(() => AuthenticationFailureReason, {
    nullable: true,
    description: 'Why it failed, when result is AUTHENTICATION_FAILED; null otherwise.',
  })
  failureReason!: FailureReason | null;

  @Field(() => String, {
    nullable: true,
    description: "The agent version the device reported, e.g. '2024.1' or '9.60'; null when not reported.",
  })
  agentVersion!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Serial number (lower-case hex) of the client certificate the device presented; null when it presented none.',
  })
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

@ObjectType({ description: "A page of a device's connection attempts, newest first." })
export class ConnectionAttemptConnection extends Connection(ConnectionAttempt) {}

@ObjectType({ description: 'One attribute of the device inventory tree.' })
export class InventoryAttribute {
  @Field(() => [String], {
    description: "e.g. ['Ivanti Management', 'Client certificate-based security', 'Authentication status']",
  })
  path!: string[];

  @Field(() => String, { description: "The attribute's value, as text, e.g. 'Authentication succeeded'." })
  value!: string;
}

@ObjectType({ description: 'A managed Windows device of the fleet (or the core server itself).' })
export class Device {
  @Field(() => ID, { description: "The device's id in this core." })
  id!: string;

  @Field(() => String, { description: "The device's name, as the inventory import or its approved request gave it." })
  name!: string;

  @Field(() => String, {
    nullable: true,
    description: "The device's unique id as its agent reports it; null for a device with no agent.",
  })
  agentId!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The version of the device's agent, like 2020.1 or 9.60: agents before 2016 cannot authenticate (CLIENT_AGENTS_MUST_UPGRADE); null when unknown.",
  })
  agentVersion!: string | null;

  @Field(() => Boolean, { description: 'True for the core server itself, which is listed among the devices.' })
  isCoreServer!: boolean;

  @Field(() => AuthenticationStatus, { description: "The device's chart item: how its last authentication went." })
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

  @Field(() => ConnectionAttempt, {
    nullable: true,
    description: 'The last connection attempt that counted for the device; null before its first.',
  })
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

  @Field(() => DateTime, {
    nullable: true,
    description: 'When the latest unverified attempt was made (ISO 8601, UTC); null when there was none.',
  })
  lastUnverifiedAttemptAt!: Date | null;
}

@ObjectType({ description: 'A page of devices, in the order they became known (by id).' })
export class DeviceConnection extends Connection(Device) {
  @Field(() => Int, { description: 'Number of devices the filter matches in all, across every page.' })
  totalCount!: number;
}

@InputType({ description: 'Which devices to list; every field given must match (omitted or null: no condition).' })
export class DeviceFilter {
  @Field(() => [AuthenticationStatus], { nullable: true, description: 'Only devices in one of these statuses; null or empty: any status.' })
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

@InputType({ description: 'One device of an inventory import (registerDevices).' })
export class DeviceInput {
  @Field(() => String, {
    description: 'The device name: 1 to 255 characters, trimmed; no control characters, line separators or bidirectional formatting characters.',
  })
  name!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "The agent's id: 1 to 128 ASCII letters, digits or . _ : { } @ -, starting with a letter or digit (a GUID, a host name). A device already known is matched by it, or by its name when it has none. Null or blank: none.",
  })
  agentId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The agent version, like 2020.1 or 9.60 (digits and dots, at most four parts); null or blank: unknown.",
  })
  agentVersion?: string | null;
}

@ObjectType({ description: "One change of a device's authStatus, as deviceAuthStatusChanged sends it." })
export class DeviceAuthStatusChange {
  @Field(() => Device, { description: 'The device, as it stands after the change.' })
  device!: Device;

  @Field(() => AuthenticationStatus, { description: 'The status it left.' })
  previous!: AuthStatus;

  @Field(() => AuthenticationStatus, { description: 'The status it moved to.' })
  current!: AuthStatus;

  @Field(() => DateTime, { description: 'When it changed (ISO 8601, UTC).' })
  at!: Date;
}
