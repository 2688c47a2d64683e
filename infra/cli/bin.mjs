#!/usr/bin/env node
// `npx recall ...`: runs the TypeScript CLI through tsx's loader, no build step needed.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('./recall.ts');
process.exitCode = await main(process.argv.slice(2));
