import type { CodegenConfig } from '@graphql-codegen/cli';

// schema.graphql is written first by scripts/emit-schema.ts (npm run codegen runs both).
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'test/operations/**/*.graphql',
  generates: {
    'test/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        scalars: { DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: false },
      },
    },
  },
};

export default config;
