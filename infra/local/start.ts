import './node-env.js';
import { parseArgs } from 'node:util';
import { LocalStackError } from './emulators.js';
import { startLocalStack, type LocalStack } from './stack.js';
import { removeDemoTokens, writeDemoTokens } from './demo-tokens.js';

/**
 * `npm start`: the embedded local stack. Options:
 *   --port N          HTTP port of the API (default 3000)
 *   --data-dir DIR    keep data between runs (default: in memory)
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log('Usage: npm start -- [--port 3000] [--data-dir .local/data]');
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`--port must be a port number, not ${values.port}`);
  process.exit(2);
}

const startedAt = Date.now();
console.log('Starting the recall system locally (DynamoDB Local + SNS/SQS emulator)...');
let stack: LocalStack;
try {
  stack = await startLocalStack({ port, ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}) });
} catch (error) {
  console.error(`\nCould not start: ${error instanceof LocalStackError ? error.message : (error as Error).stack}`);
  process.exit(1);
}

console.log(`
Recall API ready at ${stack.url} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s
  DynamoDB Local   ${stack.endpoints.dynamodb} (pid ${stack.dynamoPid ?? '-'}, table ${stack.tableName}, ${values['data-dir'] ? `data in ${values['data-dir']}` : 'in memory'})
  SNS/SQS          ${stack.endpoints.snsSqs} (queues: local-incident-alerts, local-public-notices, local-customer-replies, ${Object.keys(stack.queues.stores).map((s) => `store-${s}`).join(', ')})
  try it           curl ${stack.url}/health

Demo users (bearer tokens valid 12 h):`);
for (const user of stack.users) {
  const queue = user.storeId ? stack.queues.stores[user.storeId]?.url : undefined;
  const where = user.storeId ? ` ${user.storeId}/${user.region}${queue ? `  queue ${queue}` : ''}` : '';
  console.log(`  ${user.username.padEnd(14)} ${user.roles.join(',').padEnd(10)}${where}\n    export RECALL_TOKEN=${user.token}`);
}
writeDemoTokens(stack.url, stack.users);
console.log(`\n  export RECALL_API_URL=${stack.url}\nThe whole story: npm run demo -- --api-url ${stack.url}   (tokens for it in .local/demo-tokens.json)\nPress Ctrl-C to stop.\n`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local stack...`);
  removeDemoTokens();
  await stack.stop();
  console.log('Stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
// `npm start` does not forward SIGTERM: when npm goes away we are re-parented, so stop too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown('parent process gone');
}, 1000).unref();
process.on('SIGTERM', () => void shutdown('SIGTERM'));
