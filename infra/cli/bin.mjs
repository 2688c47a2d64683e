#!/usr/bin/env node
// `npx recall ...`: runs the TypeScript CLI through tsx's loader, no build step needed.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Output piped into a reader that stops early (`npx recall --help | head`): stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('./recall.ts');
process.exitCode = await main(process.argv.slice(2));
