import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { inject, describe, expect, it } from 'vitest';
import { localClientConfig, storeFilterPolicy, subscribeQueue } from '../../../infra/local/provision.js';
import { drainQueue } from '../../support/queues.js';

const endpoint = inject('snsSqsEndpoint');
const topicArn = inject('topicArns').storeNotices!;

describe('local provisioning', () => {
  describe('store subscriptions', () => {
    it('delivers a region-wide notice to the stores of that region only, and a store notice to that store only', async () => {
      const suffix = Math.random().toString(36).slice(2, 8);
      const kanto = await subscribeQueue({ sns: endpoint, sqs: endpoint }, topicArn, `kanto-${suffix}`, storeFilterPolicy({ storeId: `k-${suffix}`, region: `kanto-${suffix}` }));
      const kanto2 = await subscribeQueue({ sns: endpoint, sqs: endpoint }, topicArn, `kanto2-${suffix}`, storeFilterPolicy({ storeId: `k2-${suffix}`, region: `kanto-${suffix}` }));
      const kansai = await subscribeQueue({ sns: endpoint, sqs: endpoint }, topicArn, `kansai-${suffix}`, storeFilterPolicy({ storeId: `s-${suffix}`, region: `kansai-${suffix}` }));
      const sns = new SNSClient(localClientConfig(endpoint));
      const publish = (region: string, storeId: string, text: string) =>
        sns.send(
          new PublishCommand({
            TopicArn: topicArn,
            Message: text,
            MessageAttributes: {
              noticeType: { DataType: 'String', StringValue: 'withdrawal' },
              region: { DataType: 'String', StringValue: region },
              storeId: { DataType: 'String', StringValue: storeId },
            },
          }),
        );

      await publish(`kanto-${suffix}`, 'all', 'region-wide');
      await publish(`kanto-${suffix}`, `k2-${suffix}`, 'for k2 only');

      const texts = async (url: string, expected: number) =>
        (await drainQueue(endpoint, url, { expected, quietMs: 400, timeoutMs: 3000 })).map((m) => m.body.Message).sort();
      expect(await texts(kanto.url, 1)).toEqual(['region-wide']);
      expect(await texts(kanto2.url, 2)).toEqual(['for k2 only', 'region-wide']);
      expect(await texts(kansai.url, 0)).toEqual([]);
    });
  });
});
