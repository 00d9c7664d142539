import 'reflect-metadata';
import {
  buildSchema as buildSchemaFromSdl,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildGraphQLSchema } from '../../src/resolvers/index.js';

// A frontend team reads the API in its explorer and its generated types: every type, field,
// argument and enum value the schema serves says what it means (units, who may call it, its errors).

/** undescribed names each type, field, argument, input field and enum value of schema without a description. */
function undescribed(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const blank = (d: string | null | undefined) => d === undefined || d === null || d.trim() === '';
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type)) continue;
    if (blank(type.description)) missing.push(`type ${type.name}`);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (blank(field.description)) missing.push(`field ${type.name}.${field.name}`);
        for (const arg of field.args) {
          if (blank(arg.description)) missing.push(`argument ${type.name}.${field.name}(${arg.name})`);
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (blank(field.description)) missing.push(`input field ${type.name}.${field.name}`);
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) {
        if (blank(value.description)) missing.push(`enum value ${type.name}.${value.name}`);
      }
    }
  }
  return missing.sort();
}

describe('schema descriptions', () => {
  it('finds each kind of undescribed element, and passes described ones and introspection types', () => {
    const sdl = `
      "Described." type Query {
        "Described." ok(
          "Described." a: Int
          b: Int
        ): Kind
        bare: String
      }
      "Described." enum Kind {
        "Described." ONE
        TWO
      }
      input Filter { x: Int "Described." y: Int }
      type Page { "Described." n: Int }
      "  " scalar Blank
    `;
    const schema = buildSchemaFromSdl(`${sdl} extend type Query { f(filter: Filter): Page b: Blank }`);
    expect(undescribed(schema)).toEqual([
      'argument Query.f(filter)',
      'argument Query.ok(b)',
      'enum value Kind.TWO',
      'field Query.b',
      'field Query.bare',
      'field Query.f',
      'input field Filter.x',
      'type Blank',
      'type Filter',
      'type Page',
    ]);
  });

  it('every type, field, argument, input field and enum value of the served schema has a description', async () => {
    expect(undescribed(await buildGraphQLSchema())).toEqual([]);
  });
});
