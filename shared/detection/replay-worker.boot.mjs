// Starts a backtest's reading thread (replay-worker.ts) through tsx's loader, as infra/cli/bin.mjs starts the CLI.
const { register } = await import('tsx/esm/api');
register();
await import('./replay-worker.ts');
