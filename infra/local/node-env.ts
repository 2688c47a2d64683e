// Imported first by the local entry points, before any AWS SDK module loads: the SDK's
// Node 20 end-of-support notice is known (STACK.md) and would bury the start-up banner.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
export {};
