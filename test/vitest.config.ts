import { defineConfig } from 'vitest/config';

/**
 * Four layers, all run by `npm test`:
 *   unit         no network, SDK mocks only
 *   infra        CDK template assertions and cdk-nag
 *   integration  *.connected.test.ts against DynamoDB Local + fauxqs, started once per run
 *   e2e          the real `npm start` entry point over HTTP
 */
// Global setup runs in this process, before any worker: silence the known Node 20 notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    environment: 'node',
    pool: 'forks',
    setupFiles: ['test/setup/matchers.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.connected.test.ts'],
          globalSetup: ['test/setup/emulators.global.ts'],
          setupFiles: ['test/setup/connected.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 60_000 } },
    ],
  },
});
