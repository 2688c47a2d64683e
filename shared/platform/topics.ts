/**
 * The SNS topics, defined once for the CDK data stack and the local provisioning.
 * Each topic's ARN reaches a function through the environment variable named here.
 */
export const TOPICS = {
  storeNotices: { name: 'store-notices', envVar: 'STORE_NOTICES_TOPIC_ARN' },
  publicNotices: { name: 'public-notices', envVar: 'PUBLIC_NOTICES_TOPIC_ARN' },
  incidentAlerts: { name: 'incident-alerts', envVar: 'INCIDENT_ALERTS_TOPIC_ARN' },
  /** The only topic whose messages carry a customer's contact: for the mail integration alone. */
  customerReplies: { name: 'customer-replies', envVar: 'CUSTOMER_REPLIES_TOPIC_ARN' },
} as const;

export type TopicId = keyof typeof TOPICS;
export const TOPIC_IDS = Object.keys(TOPICS) as TopicId[];

