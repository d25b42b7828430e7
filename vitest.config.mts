import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Integration suites each start a Temporal dev server and SeaweedFS; on two cores, running
    // them side by side slows every one of them down, so files run one after another.
    fileParallelism: false,
  },
});
