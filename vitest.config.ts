import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    benchmark: { include: ["bench/**/*.bench.ts"] },
    // One DynamoDB Local (Java 17+) for the whole run; tests get its endpoint with inject("dynamoEndpoint").
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: keep workers bounded so integration servers are not starved.
    maxWorkers: 2,
    // Local Node is 20 while Lambda runs 22: the SDK's reminder about that is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
